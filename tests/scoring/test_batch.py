"""Scoring in batches: a task scores its own attempt and others still waiting, each exactly as it would be scored
alone, each exactly once, and one attempt that cannot be scored holds up none of the others."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.exams.services import attempt_start_mock
from apps.questions.models import Question
from apps.scoring.analysis import attempts_unscored
from apps.scoring.models import AttemptResult, ReviewCard
from apps.scoring.services import attempt_score_compute, attempts_score_batch, frozen_questions
from apps.scoring.signals import ScoredAttempt
from tests.scoring.factories import answer_for, scored_mock

RESULT_FIELDS = (
    "raw_correct",
    "raw_scored",
    "theta",
    "theta_se",
    "cut_theta",
    "scaled_score",
    "passed",
    "pass_probability",
    "by_domain",
    "by_task",
    "time_used_seconds",
    "method",
)


def submitted(exam, candidate, *, seed: int) -> Attempt:
    """A submitted mock waiting to be scored, each item right with a chance that varies from one attempt to the
    next, some left blank."""
    rng = random.Random(seed)
    ability = rng.random()
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=seed)
    items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question"))
    for item in items:
        item.answer = None if rng.random() < 0.1 else answer_for(item.question, right=rng.random() < ability)
    AttemptItem.objects.bulk_update(items, ["answer"])
    # as attempt_submit leaves it, without the scoring it queues (which would run here, in-process)
    Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SUBMITTED, submitted_at=timezone.now())
    return attempt


def candidates(*names: str) -> list:
    return [get_user_model().objects.create_user(name) for name in names]


def outcome(ids: list[int]) -> dict:
    """Everything scoring writes for these attempts, but the clock's marks (review cards' due and review times)."""
    results = {
        row["attempt_id"]: row
        for row in AttemptResult.objects.filter(attempt_id__in=ids).values("attempt_id", *RESULT_FIELDS)
    }
    marks = {}
    for attempt_id, position, correct in AttemptItem.objects.filter(attempt_id__in=ids).values_list(
        "attempt_id", "position", "is_correct"
    ):
        marks[attempt_id, position] = correct
    cards = {}
    owners = Attempt.objects.filter(pk__in=ids).values("candidate_id")
    for candidate_id, family, card, lapses in ReviewCard.objects.filter(candidate_id__in=owners).values_list(
        "candidate_id", "family", "card", "lapses"
    ):
        cards[candidate_id, family] = ({k: v for k, v in card.items() if k not in ("due", "last_review")}, lapses)
    states = dict(Attempt.objects.filter(pk__in=ids).values_list("pk", "state"))
    return {"results": results, "marks": marks, "cards": cards, "states": states}


@pytest.mark.django_db
def test_a_batch_scores_each_attempt_exactly_as_scoring_it_alone(bank):
    # given: one candidate with review cards from an earlier mock and two more waiting (the second must see the
    # cards the first leaves), two others, one of whom left every item blank
    first, second, third = candidates("first", "second", "third")
    scored_mock(exam=bank, candidate=first, ability=0.4, seed=1)
    attempt_score_compute(attempt_id=Attempt.objects.get(candidate=first).pk)
    waiting = [
        submitted(bank, first, seed=2),
        submitted(bank, second, seed=3),
        submitted(bank, first, seed=4),
        submitted(bank, third, seed=5),
    ]
    AttemptItem.objects.filter(attempt=waiting[3]).update(answer=None)
    ids = [attempt.pk for attempt in waiting]
    with transaction.atomic():
        for attempt_id in ids:  # one by one, in the order a batch takes them (oldest submission first)
            attempt_score_compute(attempt_id=attempt_id)
        alone = outcome(ids)
        transaction.set_rollback(True)
    assert set(alone["states"].values()) == {AttemptState.SCORED}
    assert Attempt.objects.filter(pk__in=ids, state=AttemptState.SUBMITTED).count() == 4  # rolled back

    # when: the task of the third attempt runs
    scored = attempts_score_batch(attempt_id=ids[2])

    # then: all four scored in one batch, to the last figure
    assert sorted(scored) == sorted(ids)
    assert outcome(ids) == alone
    assert alone["results"][ids[3]]["raw_correct"] == 0
    assert ReviewCard.objects.filter(candidate=first, lapses__gte=2).exists()  # cards carried across attempts


@pytest.mark.django_db
def test_the_tasks_of_attempts_a_batch_scored_cost_one_query(bank, django_assert_num_queries):
    users = candidates("a", "b", "c")
    waiting = [submitted(bank, user, seed=n) for n, user in enumerate(users)]
    attempts_score_batch(attempt_id=waiting[0].pk)

    for attempt in waiting[1:]:
        with django_assert_num_queries(1):
            assert attempts_score_batch(attempt_id=attempt.pk) == []


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_whatever_its_size(bank):
    users = candidates(*(f"q{n}" for n in range(31)))
    attempts = [submitted(bank, user, seed=n) for n, user in enumerate(users)]
    attempts_score_batch(attempt_id=attempts[0].pk, limit=1)  # warm: cut, item model, blueprint
    frozen_questions(list(Question.objects.values_list("pk", flat=True)))  # and every question, as a worker has

    counts = {}
    for size, own in ((10, attempts[1]), (20, attempts[11])):
        with CaptureQueriesContext(connection) as queries:
            assert len(attempts_score_batch(attempt_id=own.pk, limit=size)) == size
        counts[size] = len(queries.captured_queries)

    # the state check, the claim, the exams, the items, the marks, the results, the states, the review cards read
    # and written, and a savepoint around them here (BEGIN and COMMIT in a worker, then the cohort check)
    assert counts[10] == counts[20] <= 11


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_over_the_same_attempts_score_each_once(bank):
    users = candidates(*(f"r{n}" for n in range(24)))
    ids = [submitted(bank, user, seed=n).pk for n, user in enumerate(users)]
    barrier = threading.Barrier(2)
    scored: dict[str, list[int]] = {"up": [], "down": []}
    errors = []

    def worker(name: str, order: list[int]) -> None:
        # a worker's pool process: each queued task in turn, each claiming up to 5
        try:
            barrier.wait(10)
            for attempt_id in order:
                scored[name] += attempts_score_batch(attempt_id=attempt_id, limit=5)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=("up", ids)),
        threading.Thread(target=worker, args=("down", ids[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(scored["up"] + scored["down"]) == sorted(ids)  # every attempt scored, none by both
    assert AttemptResult.objects.filter(attempt_id__in=ids).count() == len(ids)
    assert set(Attempt.objects.filter(pk__in=ids).values_list("state", flat=True)) == {AttemptState.SCORED}


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_attempt_another_batch_holds_scores_others_then_waits_for_it(bank):
    users = candidates(*(f"h{n}" for n in range(7)))
    ids = [submitted(bank, user, seed=n).pk for n, user in enumerate(users)]
    holding, release = threading.Event(), threading.Event()
    held: list[int] = []

    def hold_a_batch() -> None:
        # a batch of the first four, paused inside its transaction (its attempts locked)
        try:
            with transaction.atomic():
                held.extend(attempts_score_batch(attempt_id=ids[0], limit=4))
                holding.set()
                release.wait(20)
        finally:
            connections.close_all()

    other = threading.Thread(target=hold_a_batch)
    other.start()
    try:
        assert holding.wait(20)
        waiting: list[int] = []
        task = threading.Thread(target=lambda: waiting.extend(task_run(ids[1])))
        task.start()
        # the task's own attempt is in the held batch: it claims three others instead (its batch of four but the
        # one it cannot have), scores and commits them, then waits for its own
        deadline = time.monotonic() + 20
        while Attempt.objects.filter(pk__in=ids[4:], state=AttemptState.SCORED).count() < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert task.is_alive()
    finally:
        release.set()
        other.join(20)
    task.join(20)

    assert held == ids[:4]
    assert waiting == ids[4:]  # and not its own attempt again, which the held batch scored
    assert AttemptResult.objects.filter(attempt_id__in=ids).count() == 7


def task_run(attempt_id: int) -> list[int]:
    try:
        return attempts_score_batch(attempt_id=attempt_id, limit=4)
    finally:
        connections.close_all()


@pytest.mark.django_db
def test_an_attempt_that_cannot_be_scored_holds_up_none_of_its_batch_and_is_retried(bank, caplog):
    users = candidates(*(f"f{n}" for n in range(6)))
    attempts = [submitted(bank, user, seed=n) for n, user in enumerate(users[:4])]
    broken = attempts[1]
    item = AttemptItem.objects.filter(attempt=broken, scored=True).first()
    task_id = item.task_id
    AttemptItem.objects.filter(pk=item.pk).update(task=None)  # the item's task is missing: marking it fails

    # the others of its batch are scored; it is left waiting, and said so
    scored = attempts_score_batch(attempt_id=attempts[0].pk)
    assert sorted(scored) == sorted(a.pk for a in attempts if a != broken)
    assert Attempt.objects.get(pk=broken.pk).state == AttemptState.SUBMITTED
    assert not AttemptResult.objects.filter(attempt=broken).exists()
    assert "attempt not scored" in caplog.text

    # this process's next batches leave it to its own task for a while, rather than fail it each time
    later = submitted(bank, users[4], seed=4)
    assert attempts_score_batch(attempt_id=later.pk) == [later.pk]

    # its own task fails as before (Celery's retry, then the periodic re-send, take it from there), and still
    # scores the others it claimed
    last = submitted(bank, users[5], seed=5)
    with pytest.raises(KeyError):
        attempts_score_batch(attempt_id=broken.pk)
    assert Attempt.objects.get(pk=last.pk).state == AttemptState.SCORED

    # once its data is mended, the re-sent task scores it
    AttemptItem.objects.filter(pk=item.pk).update(task_id=task_id)
    assert broken.pk in attempts_unscored(now=timezone.now() + timedelta(minutes=3))
    assert attempts_score_batch(attempt_id=broken.pk) == [broken.pk]
    assert AttemptResult.objects.filter(attempt=broken).count() == 1


@pytest.mark.django_db
def test_the_cohort_check_is_one_query_for_a_whole_batch(bank, monkeypatch):
    from apps.cohorts.models import Cohort, CohortMember, Organisation
    from apps.cohorts.receivers import cohort_stats_queue
    from apps.cohorts.tasks import cohort_stats_on_scored

    organisation = Organisation.objects.create(slug="org", name="Org")
    cohort = Cohort.objects.create(organisation=organisation, exam=bank, name="Spring")
    users = candidates(*(f"m{n}" for n in range(10)))
    CohortMember.objects.create(cohort=cohort, user=users[3], via="roster")
    queued = []
    monkeypatch.setattr(cohort_stats_on_scored, "delay", queued.append)
    scored = [ScoredAttempt(100 + n, user.pk, bank.pk) for n, user in enumerate(users)]
    scored.append(ScoredAttempt(200, users[3].pk, bank.pk + 1000))  # the member, in another version

    with CaptureQueriesContext(connection) as queries:
        cohort_stats_queue(sender=AttemptResult, attempts=scored)

    assert len(queries.captured_queries) == 1
    assert queued == [103]
