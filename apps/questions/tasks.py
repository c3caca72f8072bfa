"""Celery entry points for the question bank."""

from celery import shared_task

from apps.questions.interchange import importing


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=importing.IMPORT_TIME_LIMIT)
def question_import_run(import_id: str) -> None:
    """A large import confirmed in the admin; the service claims it, so a redelivered message does nothing."""
    importing.question_import_run(import_id=import_id)
