from celery import shared_task

from apps.exams.services import attempts_sweep as attempts_sweep_service


@shared_task(acks_late=True, soft_time_limit=50, time_limit=58)
def attempts_sweep() -> int:
    """Every minute (Celery beat): finalise attempts whose deadline and grace have passed."""
    return attempts_sweep_service()
