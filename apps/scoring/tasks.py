"""Celery entry points for scoring: thin wrappers that take ids and call the services."""

from celery import shared_task
from django.db import DatabaseError

from apps.scoring.analysis import attempts_unscored, item_statistics_compute, items_calibrate
from apps.scoring.services import BATCH_SIZE, attempts_score_batch
from apps.syllabus.models import Exam

DATABASE_RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90, **DATABASE_RETRY)
def attempt_score(self, attempt_id: int) -> int:
    """Score the attempt, and with it a batch of others still waiting (a deadline storm queues thousands at once):
    the tasks of those then find them scored and cost one query. Run in-process (no broker), only its own."""
    return len(attempts_score_batch(attempt_id=attempt_id, limit=1 if self.request.is_eager else BATCH_SIZE))


@shared_task(acks_late=True, soft_time_limit=50, time_limit=58)
def attempts_requeue_unscored() -> int:
    """Every 30 s: re-send scoring for submitted attempts that have waited over a minute (a lost message, a broker
    outage at submit time). Scoring is idempotent, so a duplicate costs nothing."""
    pending = attempts_unscored()
    for attempt_id in pending:
        attempt_score.delay(attempt_id)
    return len(pending)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660, **DATABASE_RETRY)
def item_statistics_refresh(exam_id: int | None = None) -> int:
    """Daily, or on demand from the admin: item statistics, reliability and calibration for each exam."""
    exams = Exam.objects.filter(pk=exam_id) if exam_id else Exam.objects.filter(is_active=True)
    analysed = 0
    for exam in exams:
        analysed += item_statistics_compute(exam=exam)
        items_calibrate(exam=exam)
    return analysed
