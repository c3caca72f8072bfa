"""Exam versions for candidates: MLA-C02 by default, C01 while it retires, each with its own forms and progress."""

from collections import Counter

import pytest
from django.urls import reverse

from apps.accounts.selectors import exam_chosen
from apps.accounts.services import preference_exam_set
from apps.exams.assembly import FormAssemblyError
from apps.exams.models import AttemptItem, AttemptMode, AttemptState
from apps.exams.services import attempt_start_mock, attempt_start_practice, attempt_start_review, attempt_submit
from apps.questions.placements import bank_carry_over
from apps.scoring.progress import progress_for
from apps.syllabus.models import Task
from tests.exams.factories import bank_build
from tests.scoring.factories import answer_for


@pytest.fixture
def finish(django_capture_on_commit_callbacks):
    """Answer every item (all right, or all wrong), submit, and score as the worker would."""

    def run(attempt, right: bool = True):
        items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question"))
        for item in items:
            item.answer = answer_for(item.question, right=right)
        AttemptItem.objects.bulk_update(items, ["answer"])
        with django_capture_on_commit_callbacks(execute=True):
            attempt_submit(attempt=attempt)
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.SCORED
        return attempt

    return run


def test_a_c02_mock_is_65_single_and_multiple_items_15_unscored_drawn_to_c02_weights(bank_c02, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank_c02, seed=11)

    items = list(attempt.items.select_related("question", "task__domain__exam"))
    assert (attempt.exam, attempt.mode, len(items), attempt.duration_seconds) == (bank_c02, "mock", 65, 130 * 60)
    assert sum(not item.scored for item in items) == 15
    assert {item.question.type for item in items} <= {"single", "multiple"}
    assert any(item.question.type == "multiple" for item in items)
    assert {item.task.domain.exam.code for item in items} == {"MLA-C02"}
    scored = Counter(item.task.domain.number for item in items if item.scored)
    assert [scored[n] for n in (1, 2, 3, 4)] == [14, 12, 12, 12]


def test_the_same_items_keep_their_c01_tasks_on_a_c01_mock(bank_c02, exam, candidate):
    c01 = attempt_start_mock(candidate=candidate, exam=exam, seed=11)

    assert {item.task.domain.exam.code for item in c01.items.select_related("task__domain__exam")} == {"MLA-C01"}
    assert c01.items.filter(question__type__in=["ordering", "matching"]).exists()


def test_the_beta_form_is_85_items_in_170_minutes_and_has_no_pass_line(exam, exam_c02, candidate, client, finish):
    bank_build(exam, per_task=12)  # 70 scored items need 20 in domain 1
    bank_carry_over(target=exam_c02)
    attempt = attempt_start_mock(candidate=candidate, exam=exam_c02, beta=True, seed=5)

    assert (attempt.mode, attempt.item_count, attempt.duration_seconds) == (AttemptMode.BETA, 85, 170 * 60)
    assert attempt.items.filter(scored=False).count() == 15
    assert set(attempt.items.values_list("question__type", flat=True)) <= {"single", "multiple"}
    # a standard mock can run beside it: they are different forms
    assert attempt_start_mock(candidate=candidate, exam=exam_c02, seed=6).mode == AttemptMode.MOCK

    finish(attempt)
    client.force_login(candidate)
    page = client.get(reverse("scoring:results", args=[attempt.pk])).content.decode()

    assert "No pass or fail" in page
    assert "Not yet a pass" not in page
    assert ">Pass<" not in page
    assert "70 scored questions" in page


def test_c01_has_no_beta_form(bank, candidate):
    with pytest.raises(FormAssemblyError, match="MLA-C01 has no beta form"):
        attempt_start_mock(candidate=candidate, exam=bank, beta=True)


def test_a_new_candidate_practises_for_c02_and_sees_c01_retiring(bank_c02, candidate_client, candidate):
    page = candidate_client.get(reverse("exams:home")).content.decode()

    assert exam_chosen(user=candidate) == bank_c02
    assert '<h1>Your exams: <span class="nowrap">MLA-C02</span></h1>' in page
    assert "Beta form" in page
    assert "85 questions in 170 minutes" in page
    assert "Retiring" in page
    assert "offered in Japanese, Korean and Simplified Chinese" in page


def test_choosing_c01_switches_every_page_to_it(bank_c02, exam, candidate_client, candidate):
    response = candidate_client.post(reverse("exams:version"), {"exam": "MLA-C01", "back": "/progress/"})

    assert response.status_code == 302
    assert response["Location"] == "/progress/"
    assert exam_chosen(user=candidate) == exam
    page = candidate_client.get(reverse("exams:home")).content.decode()
    assert '<h1>Your exams: <span class="nowrap">MLA-C01</span></h1>' in page
    assert "MLA-C01 is retiring." in page
    assert "Beta form" not in page
    candidate_client.post(reverse("exams:mock-start"))
    assert candidate.attempts.get().exam == exam


@pytest.mark.parametrize(
    "data", [{"exam": "MLA-C09"}, {"exam": ""}, {}, {"exam": "MLA-C01", "back": "https://evil.example/"}]
)
def test_a_tampered_version_choice_changes_nothing_it_should_not(bank_c02, candidate_client, candidate, data):
    response = candidate_client.post(reverse("exams:version"), data, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("exams:home")
    if data.get("exam") != "MLA-C01":
        assert exam_chosen(user=candidate) == bank_c02
        assert "Choose one of the exam versions offered." in response.content.decode()


def test_a_retired_version_cannot_be_chosen_and_a_choice_of_it_falls_back_to_the_current(bank_c02, exam, candidate):
    preference_exam_set(user=candidate, exam=exam)
    exam.status = "retired"
    exam.save(update_fields=["status"])

    assert exam_chosen(user=candidate) == bank_c02


def test_c01_history_is_unchanged_after_switching_to_c02(bank_c02, exam, candidate, candidate_client, finish):
    preference_exam_set(user=candidate, exam=exam)
    old = attempt_start_mock(candidate=candidate, exam=exam, seed=2)
    finish(old)
    before = (old.result.scaled_score, old.result.by_task, list(old.items.values_list("task__code", "is_correct")))

    preference_exam_set(user=candidate, exam=bank_c02)
    page = candidate_client.get(reverse("scoring:results", args=[old.pk])).content.decode()

    old.refresh_from_db()
    assert (old.result.scaled_score, old.result.by_task, list(old.items.values_list("task__code", "is_correct"))) == (
        before
    )
    assert 'Results: <span class="nowrap">MLA-C01</span> full mock exam' in page
    assert {item.task.domain.exam.code for item in old.items.select_related("task__domain__exam")} == {"MLA-C01"}


def test_progress_is_per_version_and_task_mastery_carries_to_the_continuing_task(
    bank_c02, exam, candidate, candidate_client, finish
):
    c01 = attempt_start_mock(candidate=candidate, exam=exam, seed=4)
    finish(c01)

    c02_progress = progress_for(candidate=candidate, exam=bank_c02)
    c01_progress = progress_for(candidate=candidate, exam=exam)

    assert len(c01_progress.history) == 1
    assert c01_progress.readiness is not None
    assert c02_progress.history == []
    assert c02_progress.readiness is None  # readiness: this version's own scale
    c01_mastery = {row.code: (row.correct, row.total) for row in c01_progress.mastery}
    c02_mastery = {row.code: (row.correct, row.total) for row in c02_progress.mastery}
    assert c02_mastery == c01_mastery  # C02 task N continues C01 task N
    assert sum(total for _, total in c02_mastery.values()) == 50
    candidate_client.post(reverse("exams:version"), {"exam": "MLA-C02"})
    page = candidate_client.get(reverse("scoring:progress")).content.decode()
    assert "Your MLA-C01 answers count here too" in page


def test_practice_on_c02_draws_only_items_placed_in_the_chosen_tasks(bank_c02, candidate):
    task = Task.objects.get(domain__exam=bank_c02, code="2.2")

    attempt = attempt_start_practice(
        candidate=candidate, exam=bank_c02, task_ids=[task.pk], count=10, timed=False, feedback="end"
    )

    items = list(attempt.items.select_related("question", "task"))
    assert items
    assert {item.task for item in items} == {task}
    assert {item.question.type for item in items} <= {"single", "multiple"}
    assert {item.question.task.domain.exam.code for item in items} == {"MLA-C01"}  # carried-over C01 items


def test_review_missed_is_per_version(bank_c02, exam, candidate, finish):
    c01 = attempt_start_mock(candidate=candidate, exam=exam, seed=8)
    finish(c01, right=False)

    review = attempt_start_review(candidate=candidate, exam=exam)
    assert review.exam == exam
    assert review.items.exists()
    with pytest.raises(FormAssemblyError):
        attempt_start_review(candidate=candidate, exam=bank_c02)
