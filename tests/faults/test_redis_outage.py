"""Redis dies as a candidate submits: the submit still works, and scoring catches up once Redis is back."""

import time

import pytest

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.exams.services import attempt_start_mock
from apps.scoring.models import AttemptResult
from tests.exams.factories import bank_build
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.celery]


def test_a_submit_during_a_redis_outage_succeeds_and_is_scored_within_two_minutes_of_recovery(
    private_redis_stack, client, exam, candidate
):
    # given: a candidate mid-exam, with the app, a Celery worker and beat on a Redis of the test's own
    bank_build(exam)
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=1)
    item = attempt.items.filter(question__type="single").order_by("position").first()
    client.force_login(candidate)

    # when: Redis dies (cache, sessions' cache and broker at once); the candidate saves an answer and submits
    private_redis_stack.redis.stop()
    began = time.monotonic()
    saved = client.post(f"/exams/a/{attempt.pk}/q/{item.position}/answer/", {"choice": "2", "go": "autosave"})
    submitted = client.post(f"/exams/a/{attempt.pk}/submit/")
    results = client.get(submitted["Location"])
    took = time.monotonic() - began

    # then: the candidate sees a normal exam, quickly: the answer is saved and the attempt submitted
    assert saved.status_code == 200
    assert "Saved at" in saved.text
    assert submitted.status_code == 302
    assert submitted["Location"] == f"/results/{attempt.pk}/"
    assert results.status_code == 200
    assert "Scoring your attempt" in results.text
    assert took < 10, f"saving and submitting took {took:.1f} s with Redis down"
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.SUBMITTED
    health = client.get("/healthz")  # and load balancers keep the web nodes in service meanwhile
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"

    # when: Redis comes back, empty: the scoring message sent at submit time is gone for good
    private_redis_stack.redis.start()
    back = time.monotonic()

    # then: beat's re-queue has it scored within two minutes, once, with the answer saved during the outage
    scored = wait_for(lambda: Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED, timeout=120)
    assert scored, f"not scored {time.monotonic() - back:.0f} s after Redis came back"
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1
    assert AttemptItem.objects.get(pk=item.pk).answer is not None
