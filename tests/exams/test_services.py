import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.http import QueryDict
from django.utils import timezone

from apps.exams.assembly import FormAssemblyError
from apps.exams.models import Accommodation, Attempt, AttemptItem, AttemptState, Feedback, SubmittedBy
from apps.exams.selectors import attempt_question_screen
from apps.exams.services import (
    AttemptClosedError,
    attempt_answer_save,
    attempt_flag_set,
    attempt_pause,
    attempt_question_open,
    attempt_resume,
    attempt_start_mock,
    attempt_start_practice,
    attempt_start_review,
    attempt_submit,
    attempts_sweep,
)
from apps.questions.models import Question
from apps.scoring.models import AttemptResult
from apps.syllabus.models import Task
from tests.exams.factories import bank_build


def first_choice(item: AttemptItem) -> QueryDict:
    """A valid answer for any item type, in display positions as the browser sends them."""
    kind = item.question.type
    data = QueryDict(mutable=True)
    if kind in ("single", "multiple"):
        data.setlist("choice", ["1"] if kind == "single" else ["1", "2"])
    elif kind == "ordering":
        for n in range(1, len(item.presentation["steps"]) + 1):
            data[f"step-{n}"] = str(n)
    else:
        for n in range(1, len(item.presentation["prompts"]) + 1):
            data[f"prompt-{n}"] = "1"
    return data


@pytest.fixture
def mock(bank, candidate):
    return attempt_start_mock(candidate=candidate, exam=bank, seed=7)


def families(attempt: Attempt, **only) -> set:
    return set(attempt.items.filter(**only).values_list("question__family", flat=True))


def task_ids(*codes: str) -> list[int]:
    return list(Task.objects.filter(code__in=codes).values_list("pk", flat=True))


def test_mock_has_65_items_and_a_130_minute_deadline(mock):
    assert mock.item_count == 65
    assert mock.deadline - mock.started_at == timedelta(minutes=130)
    assert mock.next_check_at == mock.deadline + timedelta(seconds=60)
    assert mock.items.filter(scored=False).count() == 15


def test_starting_again_resumes_the_same_mock(mock, candidate, bank):
    assert attempt_start_mock(candidate=candidate, exam=bank).pk == mock.pk


def test_accommodation_extends_the_deadline(bank, candidate):
    Accommodation.objects.create(user=candidate, extra_minutes=30)

    attempt = attempt_start_mock(candidate=candidate, exam=bank)

    assert attempt.deadline - attempt.started_at == timedelta(minutes=160)


def test_option_order_is_shuffled_and_recorded(mock):
    orders = [item.presentation["choices"] for item in mock.items.filter(question__type="single")]
    authored = [sorted(order) for order in orders]
    assert any(order != sorted_order for order, sorted_order in zip(orders, authored, strict=True))


def test_saves_are_scoped_to_the_candidate(mock):
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create_user("other-cand")
    with pytest.raises(Attempt.DoesNotExist):
        attempt_answer_save(candidate=other, attempt_id=mock.pk, position=1, data=QueryDict("choice=1"))


def test_saving_is_idempotent_and_records_server_time(mock):
    item = mock.items.select_related("question").filter(question__type="single").order_by("position").first()
    data = first_choice(item)

    first = attempt_answer_save(attempt_id=mock.pk, position=item.position, data=data, seq=5)
    again = attempt_answer_save(attempt_id=mock.pk, position=item.position, data=data, seq=5)

    assert first.applied
    assert not again.applied
    item.refresh_from_db()
    assert item.answer == {"choices": [item.presentation["choices"][0]]}
    assert item.answer_seq == first.seq == 5
    assert item.answered_at == first.saved_at


def test_the_first_save_reads_the_whole_attempt_and_later_saves_are_one_statement(mock, django_assert_num_queries):
    """The hot path: after one read of the attempt's item metadata (cached per attempt, in this process and in
    the shared cache), a save of any of its items is the guarded UPDATE alone."""
    from apps.exams import services

    items = list(mock.items.select_related("question").order_by("position")[:3])
    with django_assert_num_queries(2):
        attempt_answer_save(attempt_id=mock.pk, position=items[0].position, data=first_choice(items[0]))
    for item in items[1:]:
        with django_assert_num_queries(1):
            attempt_answer_save(attempt_id=mock.pk, position=item.position, data=first_choice(item))
    services._LOCAL_META.clear()  # another web process: the shared cache answers, not the database
    with django_assert_num_queries(1):
        attempt_answer_save(attempt_id=mock.pk, position=items[0].position, data=first_choice(items[0]))
    with pytest.raises(AttemptItem.DoesNotExist):
        attempt_answer_save(attempt_id=mock.pk, position=mock.item_count + 1, data=QueryDict("choice=1"))


def test_an_older_save_never_overwrites_a_newer_one(mock):
    item = mock.items.select_related("question").filter(question__type="single").first()
    newer, older = QueryDict("choice=2"), QueryDict("choice=3")

    attempt_answer_save(attempt_id=mock.pk, position=item.position, data=newer, seq=10)
    attempt_answer_save(attempt_id=mock.pk, position=item.position, data=older, seq=9)

    item.refresh_from_db()
    assert item.answer == {"choices": [item.presentation["choices"][1]]}


def test_tampered_answers_are_refused(mock):
    from apps.exams.presentation import AnswerFormatError

    item = mock.items.select_related("question").filter(question__type="single").first()
    for bad in ("choice=99", "choice=x", "choice=1&choice=2"):
        with pytest.raises(AnswerFormatError):
            attempt_answer_save(attempt_id=mock.pk, position=item.position, data=QueryDict(bad))


def test_saves_within_the_grace_period_count_and_later_ones_are_refused(mock):
    item = mock.items.select_related("question").get(position=1)

    attempt_answer_save(
        attempt_id=mock.pk, position=1, data=first_choice(item), now=mock.deadline + timedelta(seconds=59)
    )
    with pytest.raises(AttemptClosedError, match="Time is up"):
        attempt_answer_save(
            attempt_id=mock.pk, position=1, data=first_choice(item), now=mock.deadline + timedelta(seconds=61)
        )


def test_a_submitted_attempt_cannot_change(mock):
    attempt_submit(attempt=mock)

    with pytest.raises(AttemptClosedError, match="submitted"):
        attempt_answer_save(attempt_id=mock.pk, position=1, data=QueryDict("choice=1"))
    with pytest.raises(AttemptClosedError):
        attempt_flag_set(attempt=mock, position=1, flagged=True)


def test_double_submit_yields_one_submission_and_one_result(mock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert attempt_submit(attempt=mock) is True
        assert attempt_submit(attempt=Attempt.objects.get(pk=mock.pk)) is False

    assert AttemptResult.objects.filter(attempt=mock).count() == 1
    assert Attempt.objects.get(pk=mock.pk).state == AttemptState.SCORED


def test_sweeper_submits_an_abandoned_attempt_with_exactly_its_saved_answers(mock, django_capture_on_commit_callbacks):
    # given: ten answers saved, then the candidate walks away
    saved = {}
    for item in mock.items.select_related("question").order_by("position")[:10]:
        attempt_answer_save(attempt_id=mock.pk, position=item.position, data=first_choice(item))
        saved[item.position] = AttemptItem.objects.get(pk=item.pk).answer

    # when: the sweeper runs before and after the deadline (+ grace)
    assert attempts_sweep(now=mock.deadline) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert attempts_sweep(now=mock.deadline + timedelta(seconds=61)) == 1

    # then
    attempt = Attempt.objects.get(pk=mock.pk)
    assert attempt.submitted_by == SubmittedBy.SWEEPER
    assert attempt.state == AttemptState.SCORED
    answers = dict(attempt.items.filter(answer__isnull=False).values_list("position", "answer"))
    assert answers == saved
    assert attempt.result.raw_scored == 50


def test_pausing_a_timed_practice_set_stops_its_clock(bank, candidate):
    tasks = list(Task.objects.filter(code="1.1").values_list("pk", flat=True))
    start = timezone.now()
    attempt = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=5, timed=True, feedback="end", now=start
    )
    assert attempt.deadline == start + timedelta(minutes=10)

    attempt_pause(attempt=attempt, now=start + timedelta(minutes=2))
    assert attempts_sweep(now=start + timedelta(hours=1)) == 0
    resumed = attempt_resume(attempt=attempt, now=start + timedelta(minutes=32))

    assert resumed.deadline == start + timedelta(minutes=40)


def test_mock_exams_cannot_be_paused(mock):
    with pytest.raises(AttemptClosedError, match="cannot be paused"):
        attempt_pause(attempt=mock)


def test_staff_set_extra_time_on_the_user_page(admin_client, candidate):
    from django.urls import reverse

    url = reverse("admin:auth_user_change", args=[candidate.pk])
    page = admin_client.get(url).content.decode()
    assert "extra time on timed exams" in page.lower()

    response = admin_client.post(
        reverse("admin:exams_accommodation_add"), {"user": candidate.pk, "extra_minutes": "30", "reason": "ESL"}
    )

    assert response.status_code == 302
    assert Accommodation.objects.get(user=candidate).extra_minutes == 30


# Keys never cross between a running mock and a set that shows them.


@pytest.mark.parametrize("feedback", ["immediate", "end"])
def test_a_practice_set_leaves_out_the_items_of_the_running_mock(mock, bank, candidate, feedback):
    tasks = task_ids("1.1", "1.2")
    free = Question.objects.filter(task__in=tasks, status="published").exclude(family__in=families(mock)).count()

    practice = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=12, timed=False, feedback=feedback
    )

    assert 0 < practice.item_count == free < 12
    assert not families(practice) & families(mock)


def test_a_practice_set_is_refused_while_the_running_mock_holds_every_item_of_its_tasks(mock, bank, candidate):
    tasks = task_ids("1.1")
    Question.objects.filter(task__in=tasks).exclude(family__in=families(mock)).update(status="retired")

    with pytest.raises(FormAssemblyError) as refused:
        attempt_start_practice(candidate=candidate, exam=bank, task_ids=tasks, count=5, timed=False, feedback="end")

    assert str(refused.value) == (
        "The chosen tasks have no items left to practise: the remaining items of these tasks are in your "
        "unfinished mock exam; finish it first."
    )
    assert Attempt.objects.filter(candidate=candidate).count() == 1
    attempt_submit(attempt=mock)
    after = attempt_start_practice(candidate=candidate, exam=bank, task_ids=tasks, count=5, timed=False, feedback="end")
    assert after.item_count > 0


def test_a_review_set_leaves_out_the_items_of_the_running_mock(bank, candidate):
    # given: a finished mock, all missed, then a second mock that repeats some of its items
    first = attempt_start_mock(candidate=candidate, exam=bank, seed=1)
    attempt_submit(attempt=first)
    running = attempt_start_mock(candidate=candidate, exam=bank, seed=2)
    assert families(first) & families(running)

    # when
    review = attempt_start_review(candidate=candidate, exam=bank, count=65)

    # then
    assert review.item_count == len(families(first, question__status="published") - families(running)) > 0
    assert not families(review) & families(running)


def test_a_review_set_is_refused_when_the_running_mock_holds_every_missed_item(bank, candidate):
    first = attempt_start_mock(candidate=candidate, exam=bank, seed=1)
    attempt_submit(attempt=first)
    running = attempt_start_mock(candidate=candidate, exam=bank, seed=2)
    Question.objects.filter(status="published").exclude(family__in=families(running)).update(status="retired")

    with pytest.raises(FormAssemblyError) as refused:
        attempt_start_review(candidate=candidate, exam=bank)

    assert str(refused.value) == (
        "Nothing to review right now: the items you missed or flagged are in your unfinished mock exam; "
        "finish it first."
    )


def test_the_due_set_leaves_out_the_items_of_the_running_mock(mock, bank, candidate):
    in_mock = list(families(mock, scored=True))[:3]
    elsewhere = list(
        Question.objects.filter(status="published").exclude(family__in=families(mock)).values_list("family", flat=True)
    )[:2]

    review = attempt_start_review(candidate=candidate, exam=bank, families=in_mock + elsewhere, count=5)

    assert families(review) == set(elsewhere)
    with pytest.raises(
        FormAssemblyError,
        match=r"^Nothing to review right now: the items due for review are in your unfinished mock exam; finish",
    ):
        attempt_start_review(candidate=candidate, exam=bank, families=in_mock, count=3)


@pytest.mark.parametrize("feedback", ["immediate", "end"])
def test_a_mock_leaves_out_the_items_of_unfinished_practice_sets(exam, candidate, feedback):
    # domain 1 has 18 items for its 14 places: the practice set's 4 must be the ones the mock goes without
    bank_build(exam, per_task=6)
    practice = attempt_start_practice(
        candidate=candidate, exam=exam, task_ids=task_ids("1.1", "1.2"), count=4, timed=False, feedback=feedback
    )
    attempt_pause(attempt=practice)  # paused is still unfinished

    mock = attempt_start_mock(candidate=candidate, exam=exam, seed=5)

    assert not families(mock) & families(practice)
    assert mock.items.filter(scored=True, question__task__domain__number=1).count() == 14


def test_a_mock_is_refused_while_unfinished_practice_sets_hold_the_items_it_needs(exam, candidate):
    bank_build(exam, per_task=6)
    practice = attempt_start_practice(
        candidate=candidate, exam=exam, task_ids=task_ids("1.1"), count=6, timed=False, feedback="immediate"
    )

    with pytest.raises(FormAssemblyError) as refused:
        attempt_start_mock(candidate=candidate, exam=exam, seed=5)

    assert str(refused.value) == (
        "Domain 1 needs 14 published items for a full mock; the bank can supply 12 now, as 6 more are in your "
        "unfinished practice set, which would show their keys. Finish or submit that set first, then start the mock."
    )
    attempt_submit(attempt=practice)
    assert attempt_start_mock(candidate=candidate, exam=exam, seed=5).item_count == 65


@pytest.mark.django_db(transaction=True)
def test_a_mock_started_during_a_practice_start_waits_and_leaves_its_items_out(exam, candidate):
    bank_build(exam, per_task=6)
    started, release = threading.Event(), threading.Event()
    practice: list[Attempt] = []

    def start_practice_and_hold() -> None:
        try:
            with transaction.atomic():
                practice.append(
                    attempt_start_practice(
                        candidate=candidate,
                        exam=exam,
                        task_ids=task_ids("1.1", "1.2"),
                        count=4,
                        timed=False,
                        feedback="immediate",
                    )
                )
                started.set()
                release.wait(10)
        finally:
            connections.close_all()

    mocks: list[Attempt] = []

    def start_mock() -> None:
        try:
            mocks.append(attempt_start_mock(candidate=candidate, exam=exam, seed=5))
        finally:
            connections.close_all()

    holder, starter = threading.Thread(target=start_practice_and_hold), threading.Thread(target=start_mock)
    holder.start()
    try:
        assert started.wait(10)
        starter.start()
        starter.join(1)
        assert starter.is_alive()  # waits for the practice start to commit
    finally:
        release.set()
        holder.join()
        starter.join(10)

    assert not families(mocks[0]) & families(practice[0])


def test_opening_a_question_remembers_its_position_in_the_same_statement(bank, candidate, django_assert_num_queries):
    # given: a new mock, whose item 7 has been shown before (its question version is cached)
    attempt = attempt_start_mock(candidate=candidate, exam=bank)
    attempt_question_screen(candidate=candidate, attempt_id=attempt.pk, position=7)

    # when
    with django_assert_num_queries(1):
        screen = attempt_question_open(candidate=candidate, attempt_id=attempt.pk, position=7)

    # then: remembered for reopening, while the screen still tells where the candidate came from
    assert screen.item.position == 7
    assert screen.attempt.last_position == 1
    assert Attempt.objects.get(pk=attempt.pk).last_position == 7
    assert attempt_question_open(candidate=candidate, attempt_id=attempt.pk, position=7).attempt.last_position == 7


def test_no_position_is_remembered_that_the_attempt_lacks_or_while_it_is_paused_or_finished(bank, candidate):
    tasks = list(Task.objects.filter(code="1.1").values_list("pk", flat=True))
    practice = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=3, timed=True, feedback=Feedback.END
    )

    def opened(position: int) -> int:
        attempt_question_open(candidate=candidate, attempt_id=practice.pk, position=position)
        return Attempt.objects.get(pk=practice.pk).last_position

    assert opened(0) == 1
    assert opened(4) == 1
    attempt_pause(attempt=practice)
    assert opened(2) == 1
    attempt_resume(attempt=practice)
    assert opened(2) == 2
    attempt_submit(attempt=Attempt.objects.get(pk=practice.pk))
    assert opened(3) == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_opening_a_question_commits_and_leaves_the_connection_as_it_was(bank, candidate):
    # given: a mock, and a connection outside any transaction, as a web request's is
    attempt = attempt_start_mock(candidate=candidate, exam=bank)
    connection = connections["default"]

    # when
    attempt_question_open(candidate=candidate, attempt_id=attempt.pk, position=9)

    # then: written and committed, and the next statement is durable again
    assert not connection.in_atomic_block
    assert connection.connection.info.transaction_status == 0  # psycopg's TransactionStatus.IDLE
    assert Attempt.objects.get(pk=attempt.pk).last_position == 9
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
