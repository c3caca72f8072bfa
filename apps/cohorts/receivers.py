from django.dispatch import receiver

from apps.scoring.signals import attempt_scored


@receiver(attempt_scored)
def cohort_stats_queue(sender, attempt_id: int, candidate_id: int, exam_id: int, **kwargs) -> None:
    """Keep cohort dashboards current: queue the aggregate update for the newly scored attempt, if its
    candidate is in a cohort for that exam (most practice happens outside any cohort: no task for those)."""
    from apps.cohorts.selectors import in_a_cohort
    from apps.cohorts.tasks import cohort_stats_on_scored

    if in_a_cohort(user_id=candidate_id, exam_id=exam_id):
        cohort_stats_on_scored.delay(attempt_id)
