from django.dispatch import receiver

from apps.scoring.signals import attempt_scored


@receiver(attempt_scored)
def cohort_stats_queue(sender, attempt_id: int, **kwargs) -> None:
    """Keep cohort dashboards current: queue the aggregate update for the newly scored attempt."""
    from apps.cohorts.tasks import cohort_stats_on_scored

    cohort_stats_on_scored.delay(attempt_id)
