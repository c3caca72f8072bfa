"""Reads for cohorts. Every lookup is scoped: leads see their own cohorts, members see only themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from apps.cohorts.models import (
    Assignment,
    AssignmentAttempt,
    Cohort,
    CohortMember,
    DigestSubscription,
    ItemMissStat,
    Membership,
    MemberStat,
    ObjectiveStat,
    Role,
    WeekStat,
)
from apps.exams.models import AttemptState
from apps.syllabus.models import Task


def in_a_cohort(*, user_id: int, exam_id: int) -> bool:
    return CohortMember.objects.filter(user_id=user_id, cohort__exam_id=exam_id).exists()


def cohorts_led_by(*, user) -> QuerySet[Cohort]:
    """Cohorts the user leads, or all cohorts of organisations they administer."""
    admin_of = Membership.objects.filter(user=user, role=Role.ADMIN).values("organisation_id")
    return (
        Cohort.objects.filter(Q(leads=user) | Q(organisation_id__in=admin_of))
        .distinct()
        .select_related("exam")
        .order_by("name")
    )


def cohort_for_lead(*, user, cohort_id: int) -> Cohort:
    cohort = cohorts_led_by(user=user).select_related("exam", "organisation").filter(pk=cohort_id).first()
    if cohort is None:
        raise Http404("No such cohort among yours.")
    return cohort


def assignment_for_lead(*, user, assignment_id: int) -> Assignment:
    """An assignment of one of the user's cohorts; any other is a 404, as if it did not exist."""
    assignment = (
        Assignment.objects.filter(cohort__in=cohorts_led_by(user=user))
        .select_related("cohort__exam", "cohort__organisation")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise Http404("No such assignment in your cohorts.")
    return assignment


def cohorts_of_member(*, user) -> QuerySet[Cohort]:
    return Cohort.objects.filter(members__user=user).select_related("exam", "organisation").order_by("name")


def can_create_cohorts(user) -> bool:
    return Membership.objects.filter(user=user, role__in=[Role.ADMIN, Role.LEAD]).exists()


def leads_cohorts(*, user) -> bool:
    """Whether the user leads a cohort or may start one (a lead or admin of an organisation)."""
    return can_create_cohorts(user) or cohorts_led_by(user=user).exists()


@dataclass
class AssignmentRow:
    assignment: Assignment
    status: str = "Not started"
    attempt_id: int | None = None


def assignments_for_member(*, user) -> list[AssignmentRow]:
    """What the member's cohorts assigned, with the member's own status on each."""
    assignments = list(
        Assignment.objects.filter(cohort__members__user=user).select_related("cohort").order_by("due_at")
    )
    links = {
        link.assignment_id: link
        for link in AssignmentAttempt.objects.filter(user=user, assignment__in=assignments).select_related("attempt")
    }
    rows = []
    for assignment in assignments:
        link = links.get(assignment.pk)
        if link is None:
            rows.append(AssignmentRow(assignment))
        else:
            state = link.attempt.state
            status = "In progress" if state == AttemptState.IN_PROGRESS else "Done"
            rows.append(AssignmentRow(assignment, status, link.attempt_id))
    return rows


@dataclass
class Dashboard:
    cohort: Cohort
    members: list[dict]
    member_count: int
    page: int
    pages: int
    histogram: list[dict]
    tasks: list[Task]
    weakest_objectives: list[ObjectiveStat]
    most_missed: list[ItemMissStat]
    weeks: list[WeekStat]
    assignments: list[dict] = field(default_factory=list)


HISTOGRAM_BINS = list(range(100, 1000, 50))
PAGE_SIZE = 50


def cohort_dashboard(
    *, cohort: Cohort, since: date | None = None, until: date | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> Dashboard:
    """Everything the dashboard shows, read from the aggregates Celery keeps, in a fixed number of queries
    whatever the cohort's size. Members come a page at a time; the histogram covers them all.

    A date range keeps the members active in it and the weeks inside it.
    """
    members_qs = CohortMember.objects.filter(cohort=cohort)
    stats_qs = MemberStat.objects.filter(cohort=cohort)
    if since or until:
        active = stats_qs.exclude(last_active__isnull=True)
        if since:
            active = active.filter(last_active__date__gte=since)
        if until:
            active = active.filter(last_active__date__lte=until)
        members_qs = members_qs.filter(user_id__in=active.values("user_id"))
        stats_qs = active
    member_count = members_qs.count()
    pages = max(1, -(-member_count // page_size))
    page = min(max(1, page), pages)
    page_members = list(
        members_qs.select_related("user").order_by("user__username")[(page - 1) * page_size : page * page_size]
    )
    stats = {stat.user_id: stat for stat in stats_qs.filter(user_id__in=[m.user_id for m in page_members])}
    members = [{"user": m.user, "joined": m.joined_at, "stat": stats.get(m.user_id)} for m in page_members]
    latest = list(stats_qs.filter(latest_scaled__isnull=False).values_list("latest_scaled", flat=True))
    histogram = [
        {
            "low": low,
            "high": low + 49,
            "count": sum(1 for s in latest if low <= s < low + 50 or (low == 950 and s == 1000)),
            "passing": low <= 720 < low + 50,
        }
        for low in HISTOGRAM_BINS
    ]
    tasks = list(Task.objects.filter(domain__exam=cohort.exam).order_by("code"))
    weakest = list(
        ObjectiveStat.objects.filter(cohort=cohort, total__gte=3)
        .annotate(rate=Cast(F("correct"), FloatField()) / F("total"))
        .select_related("objective__task")
        .order_by("rate", "-total")[:10]
    )
    missed = list(
        ItemMissStat.objects.filter(cohort=cohort, missed__gt=0)
        .select_related("question__task")
        .order_by("-missed", "-seen")[:10]
    )
    weeks = WeekStat.objects.filter(cohort=cohort).order_by("-week")
    if since:
        weeks = weeks.filter(week__gte=since - timedelta(days=6))
    if until:
        weeks = weeks.filter(week__lte=until)
    weeks = list(weeks[:26])
    assignments = assignments_completion(
        cohort=cohort, assignments=Assignment.objects.filter(cohort=cohort).order_by("-due_at"), members=member_count
    )
    return Dashboard(cohort, members, member_count, page, pages, histogram, tasks, weakest, missed, weeks, assignments)


def assignments_completion(*, cohort: Cohort, assignments, members: int) -> list[dict]:
    """Each assignment with how many members started it and how many finished it (submitted or scored)."""
    completion = {
        row["assignment_id"]: row
        for row in AssignmentAttempt.objects.filter(assignment__cohort=cohort)
        .values("assignment_id")
        .annotate(
            started=Count("id"),
            done=Count("id", filter=Q(attempt__state__in=[AttemptState.SUBMITTED, AttemptState.SCORED])),
        )
    }
    return [
        {
            "assignment": a,
            "started": completion.get(a.pk, {}).get("started", 0),
            "done": completion.get(a.pk, {}).get("done", 0),
            "members": members,
        }
        for a in assignments
    ]


def member_percentile(*, cohort: Cohort, user) -> int | None:
    """The member's rank among members with a mock score, as a percentile; no one else's score is revealed."""
    if not cohort.show_percentile:
        return None
    mine = MemberStat.objects.filter(cohort=cohort, user=user).values_list("latest_scaled", flat=True).first()
    if mine is None:
        return None
    scores = MemberStat.objects.filter(cohort=cohort, latest_scaled__isnull=False)
    below = scores.filter(latest_scaled__lt=mine).count()
    total = scores.count()
    return round(100 * below / total) if total > 1 else None


@dataclass
class Onboarding:
    """A new cohort's first steps: people in, then the first assignment."""

    members: int
    assignments: list[Assignment]

    @property
    def people_added(self) -> bool:
        return self.members > 0

    @property
    def first_assigned(self) -> bool:
        return bool(self.assignments)

    @property
    def active(self) -> bool:
        """The steps show until both are done."""
        return not (self.people_added and self.first_assigned)

    @property
    def hides_dashboard(self) -> bool:
        """With nobody in the cohort every figure is zero: the steps take the page instead."""
        return not self.people_added


def cohort_onboarding(
    *, cohort: Cohort, members: int | None = None, assignments: list[Assignment] | None = None
) -> Onboarding:
    """The steps' state. The dashboard passes the figures it has already read (its unfiltered member count, all
    the cohort's assignments), so the page costs no extra query."""
    if members is None:
        members = CohortMember.objects.filter(cohort=cohort).count()
    if assignments is None:
        assignments = list(Assignment.objects.filter(cohort=cohort))
    return Onboarding(members=members, assignments=sorted(assignments, key=lambda a: a.due_at)[:5])


def digest_cohort_ids(*, user) -> set[int]:
    """The cohorts whose weekly digest the user has turned on."""
    return set(DigestSubscription.objects.filter(lead=user).values_list("cohort_id", flat=True))


STALLED_DAYS = 14
DIGEST_NAMES = 20  # longer lists are cut, with a count of the rest: the dashboard has everyone
DIGEST_TASKS = 3
DIGEST_TASK_MIN_ANSWERS = 5  # fewer answers say little about a task
DIGEST_DUE_BEFORE = timedelta(days=7)
DIGEST_DUE_AFTER = timedelta(days=14)


@dataclass
class DigestPerson:
    username: str
    detail: str


@dataclass
class CohortDigest:
    cohort: Cohort
    week: date
    members: int
    ready: list[DigestPerson]
    ready_more: int
    stalled: list[DigestPerson]
    stalled_more: int
    weakest_tasks: list[dict]
    assignments: list[dict]


def cohort_digest(*, cohort: Cohort, now: datetime | None = None) -> CohortDigest:
    """A lead's week in one email, read from the aggregates the dashboard uses.

    Ready: latest mock at or above the exam's passing score. Stalled: nothing submitted for STALLED_DAYS days
    (counted from joining for those who never started), or, among those not yet ready, a latest mock no better
    than the one before. Weakest tasks: percent right pooled over the members' answers, among tasks with at least
    DIGEST_TASK_MIN_ANSWERS answers. Assignments: due from a week ago to two weeks ahead, with completion.
    """
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    members = list(CohortMember.objects.filter(cohort=cohort).select_related("user").order_by("user__username"))
    stats = {stat.user_id: stat for stat in MemberStat.objects.filter(cohort=cohort)}
    passing = cohort.exam.passing_score
    quiet_since = now - timedelta(days=STALLED_DAYS)
    ready: list[DigestPerson] = []
    stalled: list[DigestPerson] = []
    pooled: dict[str, list[int]] = {}
    for member in members:
        stat = stats.get(member.user_id)
        name = member.user.get_username()
        last = stat.last_active if stat and stat.last_active else None
        is_ready = bool(stat and stat.latest_scaled is not None and stat.latest_scaled >= passing)
        if is_ready:
            ready.append(DigestPerson(name, f"latest mock {stat.latest_scaled}"))
        if (last or member.joined_at) < quiet_since:
            since = f"since {timezone.localtime(last).date():%Y-%m-%d}" if last else "since joining"
            stalled.append(DigestPerson(name, f"no activity {since}"))
        elif not is_ready and stat and stat.trend is not None and stat.trend <= 0:
            stalled.append(DigestPerson(name, f"latest mock {stat.latest_scaled}, {stat.trend:+d} on the one before"))
        for code, (correct, total) in (stat.tasks if stat else {}).items():
            pair = pooled.setdefault(code, [0, 0])
            pair[0] += correct
            pair[1] += total
    titles = dict(Task.objects.filter(domain__exam=cohort.exam).values_list("code", "title"))
    weakest = sorted(
        (
            {"code": code, "title": titles.get(code, ""), "correct": c, "total": t, "percent": round(100 * c / t)}
            for code, (c, t) in pooled.items()
            if t >= DIGEST_TASK_MIN_ANSWERS and code in titles
        ),
        key=lambda row: (row["correct"] / row["total"], -row["total"]),
    )[:DIGEST_TASKS]
    due = Assignment.objects.filter(
        cohort=cohort, due_at__gte=now - DIGEST_DUE_BEFORE, due_at__lte=now + DIGEST_DUE_AFTER
    ).order_by("due_at")
    return CohortDigest(
        cohort=cohort,
        week=today - timedelta(days=today.weekday()),
        members=len(members),
        ready=ready[:DIGEST_NAMES],
        ready_more=max(0, len(ready) - DIGEST_NAMES),
        stalled=stalled[:DIGEST_NAMES],
        stalled_more=max(0, len(stalled) - DIGEST_NAMES),
        weakest_tasks=weakest,
        assignments=assignments_completion(cohort=cohort, assignments=due, members=len(members)),
    )
