"""Scoring through a real Celery worker and Redis, as in production."""

import time

import pytest

from apps.exams.models import Attempt, AttemptState
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.scoring.models import AttemptResult
from tests.exams.factories import bank_build

pytestmark = pytest.mark.celery


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_submit_is_scored_by_the_worker(celery_worker_process, exam, candidate):
    bank_build(exam)
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=1)

    attempt_submit(attempt=attempt)

    assert wait_for(lambda: Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED)
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1
