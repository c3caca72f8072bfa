"""Reads for cohorts. Every lookup is scoped: leads see their own cohorts, members see only themselves."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Case, Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, TextField, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator

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
    WeekMember,
    WeekStat,
)
from apps.core.converters import id_param
from apps.core.markdown import markdown_to_html
from apps.core.templatetags.display import heat_class, pair_percent
from apps.exams.models import AttemptMode, AttemptState
from apps.questions.models import Question
from apps.scoring.irt import wilson_interval
from apps.scoring.models import AttemptResult
from apps.syllabus.models import Task


def cohort_members_of(*, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of the (user id, exam id) pairs whose user is in a cohort for that exam, in one query."""
    if not pairs:
        return set()
    users = {user_id for user_id, _ in pairs}
    exams = {exam_id for _, exam_id in pairs}
    found = CohortMember.objects.filter(user_id__in=users, cohort__exam_id__in=exams).values_list(
        "user_id", "cohort__exam_id"
    )
    return set(found) & pairs


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


@dataclass(frozen=True)
class DashboardFilter:
    """What the lead narrowed the dashboard to: whole weeks (the tallies are kept per week) and an assignment,
    with a note for each parameter that was malformed and therefore ignored."""

    since: date | None = None  # a Monday
    until: date | None = None  # a Sunday
    assignment: Assignment | None = None
    notes: tuple[str, ...] = ()  # parameters ignored, and why
    widened: str = ""  # how dates inside a week were taken to the whole week

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.assignment)

    @property
    def dated(self) -> bool:
        return bool(self.since or self.until)

    def params(self) -> dict[str, str]:
        """The filter as GET parameters: the dashboard's URL and every CSV link carry them."""
        params = {}
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        if self.assignment:
            params["assignment"] = str(self.assignment.pk)
        return params

    @property
    def query(self) -> str:
        return urlencode(self.params())


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def dashboard_filter_parse(*, cohort: Cohort, params: Mapping[str, str]) -> DashboardFilter:
    """The filter from GET parameters ``since``, ``until`` (YYYY-MM-DD) and ``assignment`` (an id). A malformed
    value is ignored with a note saying which; an assignment of another cohort (or none) is a 404. Dates widen to
    whole weeks, Monday to Sunday, since every tally is kept per week."""
    notes: list[str] = []
    days: dict[str, date | None] = {}
    for name, label in (("since", "From"), ("until", "To")):
        raw = (params.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            days[name] = None
            notes.append(f"{label} date “{raw[:40]}” is not a date (YYYY-MM-DD), so it was ignored.")
    since, until = days["since"], days["until"]
    if since and until and since > until:
        since, until = until, since
        notes.append("The From date came after the To date; they were swapped.")
    week_since = _monday(since) if since else None
    week_until = _monday(until) + timedelta(days=6) if until else None
    widened = ""
    if (since and week_since != since) or (until and week_until != until):
        widened = (
            "Figures are kept per week, so the range covers whole weeks (Monday to Sunday): "
            f"{week_since.isoformat() if week_since else 'the start'} to "
            f"{week_until.isoformat() if week_until else 'today'}."
        )
    assignment = None
    raw = (params.get("assignment") or "").strip()
    if raw:
        if id_param(raw) is None:
            notes.append(f"Assignment “{raw[:40]}” is not an assignment number, so it was ignored.")
        else:
            assignment = Assignment.objects.filter(cohort=cohort, pk=int(raw)).first()
            if assignment is None:
                raise Http404("No such assignment in this cohort.")
    return DashboardFilter(week_since, week_until, assignment, tuple(notes), widened)


@dataclass(frozen=True)
class Headline:
    members: int  # everyone in the cohort
    active: int  # active this week, or in the filtered weeks, or took the assignment
    active_label: str
    scored: int  # members with a score counted below
    median: float | None
    passing: int
    passing_low: float | None  # Wilson 95% interval of the share at passing standard
    passing_high: float | None

    @property
    def passing_share(self) -> float | None:
        return self.passing / self.scored if self.scored else None


@dataclass(frozen=True)
class ObjectiveRow:
    code: str
    statement: str
    correct: int
    total: int

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class ItemRow:
    question_id: int
    family: str
    task_code: str
    excerpt: str
    missed: int
    seen: int

    @property
    def rate(self) -> float:
        return self.missed / self.seen if self.seen else 0.0


@dataclass(frozen=True)
class HeatCell:
    """One cell of the task heatmap: its colour class, the percent right and the number of answers."""

    css: str
    percent: str
    total: int


def heat_cells(tasks: list[Task], tallies: Mapping[str, list[int]] | None) -> list[HeatCell]:
    """A heatmap row, one cell per task, from ``{task code: [correct, total]}``: built here once, since a
    template filter per cell costs more than the rest of the page at 50 members by 12 tasks."""
    tallies = tallies or {}
    cells = []
    for task in tasks:
        pair = tallies.get(task.code)
        cells.append(HeatCell(heat_class(pair), pair_percent(pair), pair[1] if pair else 0))
    return cells


@dataclass(frozen=True)
class WeekRow:
    week: date
    active: int
    ready: int
    mean_scaled: float | None

    @property
    def share(self) -> float | None:
        return self.ready / self.active if self.active else None


@dataclass
class Dashboard:
    cohort: Cohort
    members: list[dict]
    member_count: int
    page: int
    pages: int
    histogram: list[dict]
    tasks: list[Task]
    weakest_objectives: list[ObjectiveRow]
    most_missed: list[ItemRow]
    weeks: list[WeekRow]
    assignments: list[dict] = field(default_factory=list)
    filter: DashboardFilter = field(default_factory=DashboardFilter)
    headline: Headline | None = None
    scores: list[int] = field(default_factory=list)
    cohort_tasks: dict[str, list[int]] = field(default_factory=dict)  # {task code: [correct, total]}
    cohort_cells: list[HeatCell] = field(default_factory=list)
    objectives: list[ObjectiveRow] = field(default_factory=list)  # every objective with answers, weakest first
    items: list[ItemRow] = field(default_factory=list)  # every item seen MIN_SEEN times, most missed first
    sort: str = "name"
    q: str = ""


HISTOGRAM_BINS = list(range(100, 1000, 50))
PAGE_SIZE = 50
MIN_SEEN = 5  # an item's miss rate is ranked from this many answers on: below it, one miss would top the list
MIN_OBJECTIVE_ANSWERS = 3
EXCERPT_CHARS = 120
# Sort keys of the members table: the MemberStat field each reads (name sorts by username).
MEMBER_SORTS = {
    "name": "user__username",
    "latest": "latest_scaled",
    "best": "best_scaled",
    "chance": "pass_probability",
    "attempts": "attempts",
    "active": "last_active",
}


def member_sort_parse(value: str | None) -> str:
    """A sort key of the members table, ``-`` first for descending; anything else sorts by name."""
    value = (value or "").strip()
    return value if value.lstrip("-") in MEMBER_SORTS else "name"


def stem_excerpt(stem: str, length: int = EXCERPT_CHARS) -> str:
    """An item's stem as plain text (its Markdown rendered, then the tags dropped), cut at about ``length``."""
    text = " ".join(strip_tags(markdown_to_html(stem)).split())
    return Truncator(text).chars(length)


def _scores_in_filter(cohort: Cohort, flt: DashboardFilter) -> list[tuple[int, int, bool, datetime]]:
    """(user id, scaled score, passed, submitted) of each member's latest mock in the filter: their MemberStat
    without one; their latest week row in the weeks; their attempt for the assignment. One query."""
    passing = cohort.exam.passing_score
    if flt.assignment is not None:
        results = AttemptResult.objects.filter(
            attempt__assignment_link__assignment=flt.assignment, attempt__state=AttemptState.SCORED
        )
        if flt.since:
            results = results.filter(attempt__submitted_at__date__gte=flt.since)
        if flt.until:
            results = results.filter(attempt__submitted_at__date__lte=flt.until)
        return [
            (user_id, scaled, passed, submitted)
            for user_id, scaled, passed, submitted in results.values_list(
                "attempt__candidate_id", "scaled_score", "passed", "attempt__submitted_at"
            )
        ]
    if flt.dated:
        rows = WeekMember.objects.filter(cohort=cohort, user_id__in=_member_ids(cohort))
        if flt.since:
            rows = rows.filter(week__gte=flt.since)
        if flt.until:
            rows = rows.filter(week__lte=flt.until)
        latest: dict[int, tuple[int, int, bool, datetime]] = {}
        for user_id, scaled, passed, submitted in rows.order_by("submitted_at").values_list(
            "user_id", "scaled_score", "passed", "submitted_at"
        ):
            latest[user_id] = (user_id, scaled, passed, submitted)
        return list(latest.values())
    stats = MemberStat.objects.filter(cohort=cohort, latest_scaled__isnull=False, user_id__in=_member_ids(cohort))
    # No dates: nothing groups these by week, and converting a thousand of them costs more than the query.
    return [
        (user_id, scaled, scaled >= passing, None) for user_id, scaled in stats.values_list("user_id", "latest_scaled")
    ]


def _member_ids(cohort: Cohort) -> QuerySet:
    return CohortMember.objects.filter(cohort=cohort).values("user_id")


def _members_in_filter(cohort: Cohort, flt: DashboardFilter) -> QuerySet[CohortMember]:
    """Members the filter keeps: those who took the assignment, or were active in the weeks (took a mock in
    them, or their last activity falls in them)."""
    members = CohortMember.objects.filter(cohort=cohort)
    if flt.assignment is not None:
        members = members.filter(
            user_id__in=AssignmentAttempt.objects.filter(assignment=flt.assignment).values("user_id")
        )
    if flt.dated:
        weeks = WeekMember.objects.filter(cohort=cohort)
        last = MemberStat.objects.filter(cohort=cohort, last_active__isnull=False)
        if flt.since:
            weeks, last = weeks.filter(week__gte=flt.since), last.filter(last_active__date__gte=flt.since)
        if flt.until:
            weeks, last = weeks.filter(week__lte=flt.until), last.filter(last_active__date__lte=flt.until)
        members = members.filter(Q(user_id__in=weeks.values("user_id")) | Q(user_id__in=last.values("user_id")))
    return members


def _buckets(queryset: QuerySet, flt: DashboardFilter) -> QuerySet:
    """ObjectiveStat or ItemMissStat rows in the filter's weeks and assignment."""
    if flt.since:
        queryset = queryset.filter(week__gte=flt.since)
    if flt.until:
        queryset = queryset.filter(week__lte=flt.until)
    if flt.assignment is not None:
        queryset = queryset.filter(assignment_key=flt.assignment.pk)
    return queryset


def _median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


def cohort_dashboard(
    *,
    cohort: Cohort,
    since: date | None = None,
    until: date | None = None,
    flt: DashboardFilter | None = None,
    q: str = "",
    sort: str = "name",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    item_rows: int = 10,
    today: date | None = None,
) -> Dashboard:
    """Everything the dashboard shows, read from the aggregates Celery keeps, in a fixed number of queries
    whatever the cohort's size. Members come a page at a time (searched by ``q``, sorted by ``sort``); the
    headline, histogram and tallies cover everyone the filter keeps.

    ``flt`` narrows every figure to whole weeks and an assignment (``since``/``until`` are a shortcut for a
    date-only filter). The share at passing standard comes with its Wilson 95% interval.
    """
    flt = flt or DashboardFilter(
        _monday(since) if since else None, _monday(until) + timedelta(days=6) if until else None
    )
    today = today or timezone.localdate()
    passing = cohort.exam.passing_score
    filtered = _members_in_filter(cohort, flt)
    listed = filtered
    q = q.strip()[:100]
    if q:
        listed = listed.filter(
            Q(user__username__icontains=q) | Q(user__first_name__icontains=q) | Q(user__last_name__icontains=q)
        )
    this_week = MemberStat.objects.filter(cohort=cohort, last_active__date__gte=_monday(today)).values("user_id")
    counts = CohortMember.objects.filter(cohort=cohort).aggregate(
        total=Count("id"),
        filtered=Count("id", filter=Q(pk__in=filtered.values("pk"))),
        listed=Count("id", filter=Q(pk__in=listed.values("pk"))),
        this_week=Count("id", filter=Q(user_id__in=this_week)),
    )
    member_count = counts["listed"]
    pages = max(1, -(-member_count // page_size))
    page = min(max(1, page), pages)
    sort = member_sort_parse(sort)
    key = MEMBER_SORTS[sort.lstrip("-")]
    descending = sort.startswith("-")
    if key != "user__username":
        listed = listed.annotate(
            sort_value=Subquery(MemberStat.objects.filter(cohort=cohort, user_id=OuterRef("user_id")).values(key)[:1])
        )
        order = [F("sort_value").desc(nulls_last=True) if descending else F("sort_value").asc(nulls_last=True)]
    else:
        order = [F("user__username").desc() if descending else F("user__username").asc()]
    page_members = list(
        listed.select_related("user").order_by(*order, "user__username")[(page - 1) * page_size : page * page_size]
    )
    stats = {
        stat.user_id: stat
        for stat in MemberStat.objects.filter(cohort=cohort, user_id__in=[m.user_id for m in page_members])
    }
    tasks = list(Task.objects.filter(domain__exam=cohort.exam).order_by("code"))
    members = []
    for m in page_members:
        stat = stats.get(m.user_id)
        cells = heat_cells(tasks, stat.tasks if stat else None)
        members.append({"user": m.user, "joined": m.joined_at, "stat": stat, "cells": cells})

    scored = _scores_in_filter(cohort, flt)
    scores = sorted(score for _, score, _, _ in scored)
    in_bin = Counter(min(score // 50 * 50, HISTOGRAM_BINS[-1]) for score in scores)  # 1000 joins 950–999
    histogram = [
        {"low": low, "high": low + 49, "count": in_bin[low], "passing": low <= passing < low + 50}
        for low in HISTOGRAM_BINS
    ]
    ready = sum(1 for _, _, passed, _ in scored if passed)
    low, high = wilson_interval(ready, len(scored)) if scored else (None, None)
    if flt.assignment is not None:
        active, active_label = counts["filtered"], "Took this assignment"
    elif flt.dated:
        active, active_label = counts["filtered"], "Active in these weeks"
    else:
        active, active_label = counts["this_week"], "Active this week"
    headline = Headline(counts["total"], active, active_label, len(scored), _median(scores), ready, low, high)

    objectives = sorted(
        (
            ObjectiveRow(
                f"{row['objective__task__code']}.{row['objective__order']}",
                row["objective__statement"],
                row["correct"],
                row["total"],
            )
            for row in _buckets(ObjectiveStat.objects.filter(cohort=cohort), flt)
            .values("objective_id", "objective__task__code", "objective__order", "objective__statement")
            .annotate(correct=Sum("correct"), total=Sum("total"))
            if row["total"]
        ),
        key=lambda row: (row.rate, -row.total, row.code),
    )
    # Summed per family without joining the questions: the join to read each row's task cost more than the sum
    # (11,000 bucket rows at 1,000 members). The task codes, and the stems of the ranked items, come after.
    item_tallies = list(
        _buckets(ItemMissStat.objects.filter(cohort=cohort), flt)
        .values("family")
        .annotate(missed=Sum("missed"), seen=Sum("seen"), question_id=Max("question_id"))
    )
    ranked = sorted(
        (row for row in item_tallies if row["seen"] >= MIN_SEEN),
        key=lambda row: (-row["missed"] / row["seen"], -row["seen"], row["question_id"]),
    )[:item_rows]
    about: dict[int, tuple[str, str]] = {  # question id: (task code, stem if ranked)
        pk: (code or "", stem)
        for pk, code, stem in Question.objects.filter(pk__in=[row["question_id"] for row in item_tallies])
        .annotate(
            ranked_stem=Case(
                When(pk__in=[row["question_id"] for row in ranked], then="stem"),
                default=Value(""),
                output_field=TextField(),
            )
        )
        .values_list("pk", "task__code", "ranked_stem")
    }
    # The whole cohort's share right per task, from the same tallies, so that it follows the filter too.
    cohort_tasks: dict[str, list[int]] = {}
    for row in item_tallies:
        pair = cohort_tasks.setdefault(about[row["question_id"]][0], [0, 0])
        pair[0] += row["seen"] - row["missed"]
        pair[1] += row["seen"]
    items = []
    for row in ranked:
        code, stem = about[row["question_id"]]
        items.append(
            ItemRow(row["question_id"], str(row["family"]), code, stem_excerpt(stem), row["missed"], row["seen"])
        )

    weeks = _weeks_in_filter(cohort, flt, scored)
    assignments = [
        {"assignment": a, "started": a.started, "done": a.done, "members": counts["total"]}
        for a in Assignment.objects.filter(cohort=cohort)
        .annotate(
            started=Count("attempts"),
            done=Count(
                "attempts", filter=Q(attempts__attempt__state__in=[AttemptState.SUBMITTED, AttemptState.SCORED])
            ),
        )
        .order_by("-due_at")
    ]
    return Dashboard(
        cohort,
        members,
        member_count,
        page,
        pages,
        histogram,
        tasks,
        [row for row in objectives if row.total >= MIN_OBJECTIVE_ANSWERS][:10],
        items[:10],
        weeks,
        assignments,
        filter=flt,
        headline=headline,
        scores=scores,
        cohort_tasks=cohort_tasks,
        cohort_cells=heat_cells(tasks, cohort_tasks),
        objectives=objectives,
        items=items,
        sort=sort,
        q=q,
    )


def _weeks_in_filter(cohort: Cohort, flt: DashboardFilter, scored: list) -> list[WeekRow]:
    """Readiness per week, oldest first (at most 26 weeks): the kept WeekStat rows in the filter's weeks, or, for
    an assignment, its scored attempts grouped by week (each member's latest of the week counts)."""
    if flt.assignment is not None:
        latest: dict[date, dict[int, tuple[datetime, int, bool]]] = defaultdict(dict)
        for user_id, scaled, passed, submitted in scored:
            if submitted is None:
                continue
            week = _monday(timezone.localtime(submitted).date())
            if user_id not in latest[week] or latest[week][user_id][0] < submitted:
                latest[week][user_id] = (submitted, scaled, passed)
        rows = [
            WeekRow(
                week,
                len(by_user),
                sum(1 for _, _, passed in by_user.values() if passed),
                sum(scaled for _, scaled, _ in by_user.values()) / len(by_user),
            )
            for week, by_user in sorted(latest.items())
        ]
        return rows[-26:]
    weeks = WeekStat.objects.filter(cohort=cohort).order_by("-week")
    if flt.since:
        weeks = weeks.filter(week__gte=flt.since)
    if flt.until:
        weeks = weeks.filter(week__lte=flt.until)
    return [WeekRow(w.week, w.active, w.ready, w.mean_scaled) for w in reversed(weeks[:26])]


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


@dataclass(frozen=True)
class TaskProfileRow:
    code: str
    title: str
    correct: int
    total: int

    @property
    def pair(self) -> list[int]:
        return [self.correct, self.total]


@dataclass(frozen=True)
class DomainProfileRow:
    number: int
    title: str
    correct: int
    total: int
    tasks: list[TaskProfileRow]

    @property
    def pair(self) -> list[int]:
        return [self.correct, self.total]


@dataclass
class MemberProfile:
    cohort: Cohort
    member: CohortMember
    stat: MemberStat | None
    results: list[AttemptResult]  # scored attempts on the cohort's version, newest first
    mocks: list[AttemptResult]  # scored mocks, oldest first
    domains: list[DomainProfileRow]


def cohort_member_profile(*, cohort: Cohort, user_id: int) -> MemberProfile:
    """One member as their lead sees them: standing, score trend, domain and task profile (pooled over their
    attempts on the cohort's version), and attempts. A 404 for anyone not in this cohort (the cohort itself is
    already scoped to the lead)."""
    member = CohortMember.objects.filter(cohort=cohort, user_id=user_id).select_related("user").first()
    if member is None:
        raise Http404("No such member in this cohort.")
    stat = MemberStat.objects.filter(cohort=cohort, user_id=user_id).first()
    results = list(
        AttemptResult.objects.filter(
            attempt__candidate_id=user_id, attempt__exam=cohort.exam, attempt__state=AttemptState.SCORED
        )
        .select_related("attempt")
        .order_by("-attempt__started_at")
    )
    mocks = [r for r in reversed(results) if r.attempt.mode == AttemptMode.MOCK]
    pooled = stat.tasks if stat else {}
    domains: dict[int, DomainProfileRow] = {}
    for task in (
        Task.objects.filter(domain__exam=cohort.exam).select_related("domain").order_by("domain__number", "code")
    ):
        correct, total = (pooled.get(task.code) or [0, 0])[:2]
        row = domains.get(task.domain.number) or DomainProfileRow(task.domain.number, task.domain.title, 0, 0, [])
        domains[task.domain.number] = DomainProfileRow(
            row.number,
            row.title,
            row.correct + correct,
            row.total + total,
            [*row.tasks, TaskProfileRow(task.code, task.title, correct, total)],
        )
    return MemberProfile(cohort, member, stat, results, mocks, list(domains.values()))


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
