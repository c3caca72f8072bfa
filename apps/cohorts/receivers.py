from django.dispatch import receiver

from apps.scoring.signals import attempts_scored


@receiver(attempts_scored)
def cohort_stats_queue(sender, attempts: list, **kwargs) -> None:
    """Keep cohort dashboards current: queue the aggregate update for each newly scored attempt whose candidate is
    in a cohort for that exam. One query for a whole scoring batch; most practice happens outside any cohort, and
    those attempts cost nothing more."""
    from apps.cohorts.selectors import cohort_members_of
    from apps.cohorts.tasks import cohort_stats_on_scored

    members = cohort_members_of(pairs={(scored.candidate_id, scored.exam_id) for scored in attempts})
    for scored in attempts:
        if (scored.candidate_id, scored.exam_id) in members:
            cohort_stats_on_scored.delay(scored.attempt_id)
