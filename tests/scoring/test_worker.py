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


def test_killing_the_worker_mid_scoring_leaves_every_attempt_scored_exactly_once(celery_worker_process, exam):
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apps.scoring.analysis import attempts_unscored
    from apps.scoring.tasks import attempt_score

    # given: a queue of submitted attempts being scored
    bank_build(exam)
    users = get_user_model()
    attempts = []
    for n in range(40):
        attempt = attempt_start_mock(candidate=users.objects.create_user(f"k{n}"), exam=exam, seed=n)
        attempts.append(attempt)
    for attempt in attempts:
        attempt_submit(attempt=attempt)
    assert wait_for(lambda: AttemptResult.objects.count() >= 3)

    # when: kill -9 mid-queue, then restart; two minutes later beat re-queues what is still unscored
    celery_worker_process.kill()
    scored_before_restart = AttemptResult.objects.count()
    assert scored_before_restart < 40
    celery_worker_process.start()
    for attempt_id in attempts_unscored(now=timezone.now() + timedelta(minutes=3)):
        attempt_score.delay(attempt_id)

    # then
    assert wait_for(lambda: AttemptResult.objects.count() == 40, timeout=120)
    ids = [attempt.pk for attempt in attempts]
    assert Attempt.objects.filter(pk__in=ids, state=AttemptState.SCORED).count() == 40
    assert AttemptResult.objects.filter(attempt_id__in=ids).count() == 40  # one result each, none twice


def test_the_worker_keeps_its_database_connection_between_tasks(celery_worker_process, exam):
    """Connections live for CONN_MAX_AGE, as in the web tier: a new PostgreSQL backend per task (Celery's default
    with Django) cost about a third of each scoring's time."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    celery_worker_process.stop()  # again with persistent connections, as in production (DEBUG off)
    celery_worker_process.env["CONN_MAX_AGE"] = "60"
    celery_worker_process.start()
    bank_build(exam)
    users = get_user_model()

    def worker_backends() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            return {row[0] for row in cursor.fetchall()}

    def scored(prefix: str) -> bool:
        attempts = [
            attempt_start_mock(candidate=users.objects.create_user(f"{prefix}{n}"), exam=exam) for n in range(4)
        ]
        for attempt in attempts:
            attempt_submit(attempt=attempt)
        ids = [attempt.pk for attempt in attempts]
        return wait_for(lambda: Attempt.objects.filter(pk__in=ids, state=AttemptState.SCORED).count() == 4)

    assert scored("early")
    after_first = worker_backends()
    assert scored("late")

    assert after_first  # still connected between tasks
    assert after_first <= worker_backends()  # and the same backend served the later tasks
