"""The results page: every item marked right or wrong, and an attempt whose scoring was lost is scored again."""

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.scoring.models import AttemptResult
from apps.scoring.services import attempt_score_compute
from tests.scoring.factories import answer_for

pytestmark = pytest.mark.django_db


def _reviewed_positions(page: str) -> list[int]:
    return [int(position) for position in re.findall(r'<h3 id="reviewed-(\d+)"', page)]


@pytest.mark.parametrize("answers", ["blank", "all wrong"])
def test_an_attempt_with_nothing_right_has_every_item_marked_wrong(client, bank, candidate, answers):
    # given: a mock with no answer at all, or every answer wrong
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=5)
    if answers == "all wrong":
        items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question"))
        for item in items:
            item.answer = answer_for(item.question, right=False)
        AttemptItem.objects.bulk_update(items, ["answer"])
    attempt_submit(attempt=attempt)

    # when
    result = attempt_score_compute(attempt_id=attempt.pk)

    # then: every item is wrong, none left neither right nor wrong
    assert result.raw_correct == 0
    marks = list(AttemptItem.objects.filter(attempt=attempt).values_list("is_correct", flat=True))
    assert len(marks) == attempt.item_count
    assert set(marks) == {False}
    # and "Wrong or unanswered" on the results lists every item
    client.force_login(candidate)
    page = client.get(reverse("scoring:results", args=[attempt.pk]), {"show": "wrong"}).content.decode()
    assert _reviewed_positions(page) == list(range(1, attempt.item_count + 1))


def test_right_and_wrong_items_are_marked_as_such(bank, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=6)
    items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question").order_by("position"))
    for item in items:
        item.answer = answer_for(item.question, right=item.position % 2 == 1)
    AttemptItem.objects.bulk_update(items, ["answer"])
    attempt_submit(attempt=attempt)

    attempt_score_compute(attempt_id=attempt.pk)

    marks = dict(AttemptItem.objects.filter(attempt=attempt).values_list("position", "is_correct"))
    assert marks == {item.position: item.position % 2 == 1 for item in items}


def _submitted_without_result(exam, candidate, *, ago: timedelta = timedelta(0)) -> Attempt:
    """A submitted attempt whose scoring never happened (a failed in-process run, a lost message)."""
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=7)
    Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SUBMITTED, submitted_at=timezone.now() - ago)
    return Attempt.objects.get(pk=attempt.pk)


def test_without_a_broker_the_results_page_scores_an_attempt_left_unscored(client, bank, candidate):
    # given: tasks run in-process (no broker), and the run after submit failed
    attempt = _submitted_without_result(bank, candidate)
    client.force_login(candidate)

    # when: the candidate waits on the results page
    page = client.get(reverse("scoring:results", args=[attempt.pk])).content.decode()

    # then: it is scored there and then, once
    assert "Scoring your attempt" not in page
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED
    assert f"Question {attempt.item_count}:" in page
    # the htmx poll of the pending page gets the refresh signal
    polled = client.get(
        reverse("scoring:results", args=[attempt.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results-pending"
    )
    assert polled["HX-Refresh"] == "true"
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1


def _queued_scorings(broker_url: str) -> int:
    """Messages waiting in Celery's default queue (a Redis list of that name)."""
    import redis

    from config.celery import app

    return redis.Redis.from_url(broker_url).llen(app.conf.task_default_queue)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_the_results_page_requeues_a_lost_scoring_at_most_once_a_minute(
    client, exam, candidate, settings
):
    from django.core.cache import cache

    from apps.scoring.services import attempt_score_recover
    from tests.conftest import CeleryWorker, celery_broker
    from tests.exams.factories import bank_build

    bank_build(exam)
    client.force_login(candidate)
    with celery_broker(settings.CELERY_BROKER_URL) as app:
        app.control.purge()
        cache.clear()
        # given: submitted attempts whose scoring message was lost, one just now and one two minutes ago
        fresh = _submitted_without_result(exam, candidate)
        lost = _submitted_without_result(exam, candidate, ago=timedelta(minutes=2))

        # when the candidate waits on their results pages (htmx polls every 2 s)
        for _ in range(3):
            assert client.get(reverse("scoring:results", args=[fresh.pk]), HTTP_HX_REQUEST="true").status_code == 204
        assert _queued_scorings(settings.CELERY_BROKER_URL) == 0  # a fresh one is still in the queue as sent
        for _ in range(3):
            page = client.get(reverse("scoring:results", args=[lost.pk])).content.decode()
            assert "Scoring your attempt" in page

        # then: the lost scoring is sent again, once for all those polls
        assert _queued_scorings(settings.CELERY_BROKER_URL) == 1
        # two minutes on, the fresh one has waited too long as well: sent again, once
        assert attempt_score_recover(attempt=fresh, now=timezone.now() + timedelta(minutes=2)) is None
        assert attempt_score_recover(attempt=fresh, now=timezone.now() + timedelta(minutes=2)) is None
        assert _queued_scorings(settings.CELERY_BROKER_URL) == 2
        # and a worker scores both, once each
        worker = CeleryWorker(settings)
        worker.start()
        try:
            deadline = timezone.now() + timedelta(seconds=30)
            while AttemptResult.objects.filter(attempt__in=[fresh, lost]).count() < 2 and timezone.now() < deadline:
                time.sleep(0.2)
        finally:
            worker.stop()
            app.control.purge()
    assert AttemptResult.objects.filter(attempt=lost).count() == 1
    assert AttemptResult.objects.filter(attempt=fresh).count() == 1
    assert (
        client.get(
            reverse("scoring:results", args=[lost.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results-pending"
        )["HX-Refresh"]
        == "true"
    )


def test_without_a_broker_the_api_result_scores_an_attempt_left_unscored(client, bank, candidate):
    attempt = _submitted_without_result(bank, candidate)
    client.force_login(candidate)

    result = client.get(reverse("api-attempt-result", args=[attempt.pk]))

    assert result.status_code == 200
    assert len(result.json()["items"]) == attempt.item_count
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1
