"""Readiness per week, kept current one scoring at a time: the incremental update agrees with a rebuild from
scratch, whatever order the scorings arrive in, and its cost does not grow with the cohort."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.cohorts.models import CohortMember, Membership, Organisation, Role, WeekMember, WeekStat
from apps.cohorts.services import cohort_create, cohort_stats_on_scored, cohort_stats_rebuild
from apps.exams.models import Attempt
from tests.scoring.factories import scored_mock


@pytest.fixture
def cohort(lead, exam):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


def weeks(cohort) -> list[tuple]:
    return list(
        WeekStat.objects.filter(cohort=cohort).order_by("week").values_list("week", "active", "ready", "mean_scaled")
    )


def counted(cohort) -> set[tuple]:
    return set(WeekMember.objects.filter(cohort=cohort).values_list("week", "user_id", "attempt_id"))


@pytest.fixture
def history(bank, cohort, django_capture_on_commit_callbacks):
    """Three members' scored mocks, taken before they joined (so nothing is counted yet), spread over two weeks
    with two mocks of one member in the same week; returned in submission order."""
    people = [get_user_model().objects.create_user(f"member{n}") for n in range(3)]
    attempts = []
    with django_capture_on_commit_callbacks(execute=True):
        for n, (person, ability) in enumerate(
            [(people[0], 0.2), (people[0], 0.95), (people[1], 0.9), (people[2], 0.3)]
        ):
            attempts.append(scored_mock(exam=bank, candidate=person, ability=ability, seed=10 + n))
    monday = timezone.now() - timedelta(days=timezone.now().weekday() + 7)
    moments = [
        monday + timedelta(days=1),
        monday + timedelta(days=2),
        monday + timedelta(days=3),
        monday + timedelta(days=8),
    ]
    for attempt, moment in zip(attempts, moments, strict=True):
        Attempt.objects.filter(pk=attempt.pk).update(submitted_at=moment)
    CohortMember.objects.bulk_create([CohortMember(cohort=cohort, user=person, via="roster") for person in people])
    return [Attempt.objects.get(pk=attempt.pk) for attempt in attempts]


def test_scorings_in_any_order_give_the_figures_of_a_rebuild(cohort, history):
    for attempt in reversed(history):  # the later mock of member0 is counted before the earlier one
        cohort_stats_on_scored(attempt_id=attempt.pk)
    cohort_stats_on_scored(attempt_id=history[1].pk)  # a retried task changes nothing
    incremental, members = weeks(cohort), counted(cohort)

    cohort_stats_rebuild(cohort=cohort)

    assert incremental == weeks(cohort)
    assert members == counted(cohort)
    first_week = incremental[0]
    assert first_week[1] == 2  # member0 (their later mock) and member1
    assert {attempt for _, _, attempt in members} == {history[1].pk, history[2].pk, history[3].pk}


def test_a_later_mock_replaces_the_members_earlier_one_in_that_week(cohort, history):
    earlier, later = history[0], history[1]
    cohort_stats_on_scored(attempt_id=earlier.pk)
    assert weeks(cohort)[0][3] == Attempt.objects.get(pk=earlier.pk).result.scaled_score

    cohort_stats_on_scored(attempt_id=later.pk)

    week = weeks(cohort)[0]
    assert week[1] == 1
    assert week[3] == Attempt.objects.get(pk=later.pk).result.scaled_score


def test_the_week_update_is_summed_from_member_rows_in_a_fixed_number_of_statements(cohort, history):
    """The week's figures come from one row per member counted (not from re-reading the week's mocks), in the
    same statements whether 3 or 203 members are counted. How its time grows is measured by `make bench`."""

    def week_queries() -> int:
        WeekMember.objects.filter(attempt=history[2]).delete()
        with CaptureQueriesContext(connection) as queries:
            cohort_stats_on_scored(attempt_id=history[2].pk)
        return sum(1 for q in queries if "cohorts_week" in q["sql"])

    for attempt in history:
        cohort_stats_on_scored(attempt_id=attempt.pk)
    small = week_queries()
    crowd = get_user_model().objects.bulk_create([get_user_model()(username=f"crowd{n}") for n in range(200)])
    CohortMember.objects.bulk_create([CohortMember(cohort=cohort, user=person, via="roster") for person in crowd])
    week = weeks(cohort)[0][0]
    WeekMember.objects.bulk_create(
        [
            WeekMember(
                cohort=cohort,
                week=week,
                user=person,
                attempt=history[3],
                submitted_at=history[3].submitted_at,
                scaled_score=700,
                passed=True,
            )
            for person in crowd
        ]
    )

    assert week_queries() == small
    assert weeks(cohort)[0][1] == 202
    CohortMember.objects.filter(user__in=crowd[:50]).delete()  # people removed from the cohort stop counting
    week_queries()
    assert weeks(cohort)[0][1] == 152


def test_the_migration_fills_the_members_of_existing_weeks(cohort, history):
    from importlib import import_module

    for attempt in history:
        cohort_stats_on_scored(attempt_id=attempt.pk)
    expected = counted(cohort)
    WeekMember.objects.all().delete()

    import_module("apps.cohorts.migrations.0002_week_member").week_members_fill(apps, connection.schema_editor())

    assert counted(cohort) == expected


def test_the_cohort_update_is_queued_only_for_members_of_a_cohort_for_that_exam(
    bank, cohort, django_capture_on_commit_callbacks
):
    from celery.signals import task_prerun

    ran = []

    def record(sender=None, **kwargs):
        ran.append(sender.name)

    task_prerun.connect(record)
    try:
        outsider, member = (get_user_model().objects.create_user(name) for name in ("outsider", "member"))
        CohortMember.objects.create(cohort=cohort, user=member, via="roster")
        with django_capture_on_commit_callbacks(execute=True):
            scored_mock(exam=bank, candidate=outsider, ability=0.5, seed=1)
        assert ran == ["apps.scoring.tasks.attempt_score"]
        with django_capture_on_commit_callbacks(execute=True):
            scored_mock(exam=bank, candidate=member, ability=0.5, seed=2)
    finally:
        task_prerun.disconnect(record)

    assert ran[1:] == ["apps.scoring.tasks.attempt_score", "apps.cohorts.tasks.cohort_stats_on_scored"]
    assert WeekMember.objects.filter(user=member).exists()
