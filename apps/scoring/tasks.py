"""Celery entry points for scoring: thin wrappers that take ids and call the services."""

from celery import shared_task
from django.db import DatabaseError

from apps.scoring.services import attempt_score_compute


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def attempt_score(attempt_id: int) -> None:
    attempt_score_compute(attempt_id=attempt_id)
