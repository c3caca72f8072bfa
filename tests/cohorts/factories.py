"""Cohort test data: members with their dashboard rows, and tallies spread over two weeks, made directly (the
aggregates are what the dashboard reads; how scoring fills them is tested on its own)."""

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.cohorts.models import CohortMember, ItemMissStat, MemberStat, ObjectiveStat, WeekMember, WeekStat
from apps.exams.models import Attempt
from apps.syllabus.models import Objective
from tests.questions.factories import QuestionFactory

MONDAY = date(2026, 11, 2)  # a Monday
NEXT_MONDAY = MONDAY + timedelta(days=7)


def aware(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()) + timedelta(hours=hour))


def member_add(cohort, username: str, *, password: str | None = None, **stat):
    """A new member of ``cohort``; with MemberStat fields as keywords, their dashboard row too."""
    user = get_user_model().objects.create_user(username, password=password, first_name=stat.pop("first_name", ""))
    CohortMember.objects.create(cohort=cohort, user=user, via="lead")
    if stat:
        MemberStat.objects.create(cohort=cohort, user=user, **stat)
    return user


def two_weeks_seed(*, cohort, exam):
    """Tallies and week rows in two weeks: in the first, member "early" (650) and a weak 1.1.1 and item on 1.1;
    in the second, member "late" (800) and a weak 2.1.1 and item on 2.1. Returns the two items."""
    first = Objective.objects.get(task__domain__exam=exam, task__code="1.1", order=1)
    second = Objective.objects.get(task__domain__exam=exam, task__code="2.1", order=1)
    q1 = QuestionFactory(exam=exam, task="1.1", stem="Which **service** stores features for *online* inference?")
    q2 = QuestionFactory(exam=exam, task="2.1", stem="Which metric suits an imbalanced classifier?")
    ObjectiveStat.objects.create(cohort=cohort, objective=first, week=MONDAY, correct=1, total=10)
    ObjectiveStat.objects.create(cohort=cohort, objective=second, week=NEXT_MONDAY, correct=2, total=10)
    ItemMissStat.objects.create(cohort=cohort, family=q1.family, question=q1, week=MONDAY, missed=9, seen=10)
    ItemMissStat.objects.create(cohort=cohort, family=q2.family, question=q2, week=NEXT_MONDAY, missed=8, seen=10)
    early = member_add(cohort, "early", latest_scaled=650, attempts=1, last_active=aware(MONDAY))
    late = member_add(cohort, "late", latest_scaled=800, attempts=1, last_active=aware(NEXT_MONDAY))
    for user, week, score in ((early, MONDAY, 650), (late, NEXT_MONDAY, 800)):
        attempt = Attempt.objects.create(
            candidate=user, exam=exam, mode="mock", item_count=1, started_at=aware(week), submitted_at=aware(week)
        )
        WeekMember.objects.create(
            cohort=cohort,
            week=week,
            user=user,
            attempt=attempt,
            submitted_at=aware(week),
            scaled_score=score,
            passed=score >= 720,
        )
        WeekStat.objects.create(cohort=cohort, week=week, active=1, ready=int(score >= 720), mean_scaled=score)
    return q1, q2
