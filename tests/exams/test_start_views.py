"""Starting sets and mocks over HTTP while another attempt is unfinished: a set that shows keys never shares an
item with a running mock, and a refusal says why and what to do."""

import pytest
from django.urls import reverse

from apps.exams.models import Attempt, AttemptMode
from apps.exams.services import attempt_start_mock, attempt_start_practice, attempt_submit
from apps.questions.models import Question
from apps.syllabus.models import Task
from tests.exams.factories import bank_build


@pytest.fixture
def candidate_client(client, candidate):
    client.force_login(candidate)
    return client


def families(attempt: Attempt) -> set:
    return set(attempt.items.values_list("question__family", flat=True))


def test_the_practice_form_leaves_out_the_running_mock_and_then_refuses(candidate_client, bank, candidate):
    mock = attempt_start_mock(candidate=candidate, exam=bank, seed=3)
    task = Task.objects.get(code="1.1")
    form = {"tasks": [task.pk], "count": "6", "feedback": "immediate"}

    response = candidate_client.post(reverse("exams:practice"), form)

    practice = Attempt.objects.get(mode=AttemptMode.PRACTICE)
    assert response.url == reverse("exams:question", args=[practice.pk, 1])
    assert practice.item_count > 0
    assert not families(practice) & families(mock)

    # once the running mock holds every item left, the form says so
    attempt_submit(attempt=practice)
    Question.objects.filter(task=task).exclude(family__in=families(mock)).update(status="retired")
    response = candidate_client.post(reverse("exams:practice"), form)

    assert response.status_code == 200
    assert (
        "The chosen tasks have no items left to practise: the remaining items of these tasks are in your "
        "unfinished mock exam; finish it first." in response.content.decode()
    )
    assert Attempt.objects.filter(mode=AttemptMode.PRACTICE).count() == 1


def test_review_missed_leaves_out_the_running_mock_and_then_refuses(candidate_client, bank, candidate):
    attempt_submit(attempt=attempt_start_mock(candidate=candidate, exam=bank, seed=1))
    running = attempt_start_mock(candidate=candidate, exam=bank, seed=2)

    candidate_client.post(reverse("exams:review-start"))

    review = Attempt.objects.get(mode=AttemptMode.REVIEW)
    assert review.item_count > 0
    assert not families(review) & families(running)

    attempt_submit(attempt=review)
    Question.objects.filter(status="published").exclude(family__in=families(running)).update(status="retired")
    response = candidate_client.post(reverse("exams:review-start"), follow=True)

    assert (
        "Nothing to review right now: the items you missed or flagged are in your unfinished mock exam; "
        "finish it first." in response.content.decode()
    )
    assert Attempt.objects.filter(mode=AttemptMode.REVIEW).count() == 1


def test_a_mock_is_refused_while_an_unfinished_practice_set_holds_its_items(candidate_client, exam, candidate):
    bank_build(exam, per_task=6)
    practice = attempt_start_practice(
        candidate=candidate,
        exam=exam,
        task_ids=[Task.objects.get(code="1.1").pk],
        count=6,
        timed=True,
        feedback="end",
    )

    response = candidate_client.post(reverse("exams:mock-start"), follow=True)

    assert (
        "A full mock cannot be built yet: Domain 1 needs 14 published items for a full mock; the bank can supply "
        "12 now, as 6 more are in your unfinished practice set, which would show their keys. Finish or submit that "
        "set first, then start the mock." in response.content.decode()
    )
    assert not Attempt.objects.filter(mode=AttemptMode.MOCK).exists()

    attempt_submit(attempt=practice)
    candidate_client.post(reverse("exams:mock-start"))

    mock = Attempt.objects.get(mode=AttemptMode.MOCK)
    assert mock.item_count == 65
