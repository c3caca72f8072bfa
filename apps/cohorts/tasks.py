from celery import shared_task
from django.db import DatabaseError

from apps.cohorts.services import cohort_digests_send as cohort_digests_send_service
from apps.cohorts.services import cohort_stats_on_scored as cohort_stats_on_scored_service


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def cohort_stats_on_scored(attempt_id: int) -> int:
    """After each scoring: the dashboards' aggregates for every cohort the candidate belongs to."""
    return cohort_stats_on_scored_service(attempt_id=attempt_id)


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def cohort_digests_send() -> int:
    """Weekly (beat): each lead's opted-in cohort digests. Safe to run again: each is sent once per week."""
    return cohort_digests_send_service()
