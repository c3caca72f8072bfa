"""Writes for organisations and cohorts: joining, rosters, assignments, and the dashboard aggregates."""

from __future__ import annotations

import csv
import io
import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, DateField, F, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import account_email_queue
from apps.cohorts.models import (
    Assignment,
    AssignmentAttempt,
    Cohort,
    CohortMember,
    CountedAttempt,
    DigestSubscription,
    ItemMissStat,
    Membership,
    MemberStat,
    ObjectiveStat,
    Organisation,
    Role,
    WeekMember,
    WeekStat,
)
from apps.cohorts.selectors import STALLED_DAYS, cohort_digest, cohorts_led_by
from apps.exams.models import Attempt, AttemptItem, AttemptMode, AttemptState
from apps.exams.services import attempt_start_mock, attempt_start_practice
from apps.questions.selectors import item_skills
from apps.scoring.models import AttemptResult
from apps.syllabus.models import Exam, Task

logger = logging.getLogger(__name__)

ROSTER_MAX_LINES = 5000
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


class CohortError(Exception):
    """A refused request, with a message for the person who made it."""


@transaction.atomic
def organisation_create(*, name: str, slug: str, admin) -> Organisation:
    organisation = Organisation.objects.create(name=name, slug=slug)
    Membership.objects.create(organisation=organisation, user=admin, role=Role.ADMIN)
    return organisation


def _role(user, organisation: Organisation) -> str | None:
    return Membership.objects.filter(organisation=organisation, user=user).values_list("role", flat=True).first()


@transaction.atomic
def cohort_create(*, organisation: Organisation, exam: Exam, name: str, by) -> Cohort:
    """Org admins and leads create cohorts; the creator leads it."""
    if _role(by, organisation) not in (Role.ADMIN, Role.LEAD):
        raise CohortError("Only team leads and organisation admins create cohorts.")
    name = name.strip()
    if not name:
        raise CohortError("Give the cohort a name.")
    cohort = Cohort.objects.create(organisation=organisation, exam=exam, name=name[:200])
    cohort.leads.add(by)
    return cohort


def _join(cohort: Cohort, user, via: str) -> CohortMember:
    Membership.objects.get_or_create(organisation=cohort.organisation, user=user, defaults={"role": Role.CANDIDATE})
    member, _ = CohortMember.objects.get_or_create(cohort=cohort, user=user, defaults={"via": via})
    return member


@transaction.atomic
def cohort_join(*, user, code: str = "", token: str = "") -> Cohort:
    """Join through a join code or an invite link; joining twice changes nothing."""
    cohort = None
    if code:
        cohort = Cohort.objects.filter(join_code=code.strip().upper()[:12]).first()
    elif token:
        try:
            cohort = Cohort.objects.filter(invite_token=uuid.UUID(str(token))).first()
        except ValueError:
            cohort = None  # a malformed link is just a wrong link
    if cohort is None:
        raise CohortError("That join code or invite link is not valid. Check it with your team lead.")
    _join(cohort, user, CohortMember.Via.CODE if code else CohortMember.Via.INVITE)
    return cohort


@dataclass
class RosterResult:
    added: int = 0
    created: int = 0
    already: int = 0
    invited: int = 0
    errors: list[str] = field(default_factory=list)


def roster_import(*, cohort: Cohort, text: str, filename: str = "roster.csv", site_url: str = "") -> RosterResult:
    """Add people from a CSV with the columns ``username,email[,first_name,last_name]``.

    Every line is checked first; any error means nothing is imported, and each error names its line.
    Unknown people get an account without a password; with ``site_url`` (the site's address, for the link),
    each one with an email is sent an invitation to choose a password, once the import commits.
    """
    result = RosterResult()
    rows: list[tuple[int, dict[str, str]]] = []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"username", "email"} <= {f.strip().lower() for f in reader.fieldnames}:
        result.errors.append(f"{filename}: line 1: the header must name the columns username and email.")
        return result
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        if line > ROSTER_MAX_LINES + 1:
            result.errors.append(f"{filename}: more than {ROSTER_MAX_LINES} people; split the file.")
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        username, email = row.get("username", ""), row.get("email", "")
        if not USERNAME_RE.match(username):
            result.errors.append(
                f"{filename}: line {line}: username {username!r} is empty or has characters not allowed."
            )
            continue
        if email and ("@" not in email or len(email) > 254):
            result.errors.append(f"{filename}: line {line}: email {email!r} is not an email address.")
            continue
        if username.lower() in seen:
            result.errors.append(f"{filename}: line {line}: {username} appears twice.")
            continue
        seen.add(username.lower())
        rows.append((line, row))
    if result.errors:
        return result
    users = get_user_model()
    invite: list[int] = []
    with transaction.atomic():
        for _, row in rows:
            user = users.objects.filter(username__iexact=row["username"]).first()
            if user is None:
                user = users.objects.create_user(
                    row["username"],
                    email=row.get("email", ""),
                    first_name=row.get("first_name", "")[:150],
                    last_name=row.get("last_name", "")[:150],
                )
                result.created += 1
                if user.email:
                    invite.append(user.pk)
            if CohortMember.objects.filter(cohort=cohort, user=user).exists():
                result.already += 1
                continue
            _join(cohort, user, CohortMember.Via.ROSTER)
            result.added += 1
        if site_url and invite:
            account_email_queue(user_ids=invite, kind="invitation", site_url=site_url, cohort_id=cohort.pk)
            result.invited = len(invite)
    return result


def _assignment_lead_check(cohort: Cohort, by) -> None:
    if not cohort.leads.filter(pk=by.pk).exists():
        raise CohortError("Only this cohort's leads assign work to it.")


def _assignment_tasks(cohort: Cohort, kind: str, task_ids: list[int] | None) -> list[Task]:
    if kind == Assignment.Kind.PRACTICE and not task_ids:
        raise CohortError("A practice assignment needs at least one task.")
    if not task_ids:
        return []
    tasks = list(Task.objects.filter(domain__exam=cohort.exam, pk__in=task_ids))
    if len(tasks) != len(set(task_ids)):
        raise CohortError("Some of the chosen tasks are not part of this cohort's exam.")
    return tasks


def _assignment_size(cohort: Cohort, kind: str, size: int) -> int:
    return cohort.exam.question_count if kind == Assignment.Kind.MOCK else max(1, min(size, 65))


@transaction.atomic
def assignment_create(
    *,
    cohort: Cohort,
    by,
    kind: str,
    title: str,
    due_at: datetime,
    task_ids: list[int] | None = None,
    size: int = 65,
    now: datetime | None = None,
) -> Assignment:
    _assignment_lead_check(cohort, by)
    if due_at <= (now or timezone.now()):
        raise CohortError("The due date has passed: choose a date and time from now on.")
    tasks = _assignment_tasks(cohort, kind, task_ids)
    assignment = Assignment.objects.create(
        cohort=cohort,
        kind=kind,
        title=title.strip()[:200] or "Assignment",
        due_at=due_at,
        created_by=by,
        size=_assignment_size(cohort, kind, size),
    )
    if tasks:
        assignment.tasks.set(tasks)
    return assignment


def _to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@transaction.atomic
def assignment_update(
    *,
    assignment: Assignment,
    by,
    kind: str,
    title: str,
    due_at: datetime,
    task_ids: list[int] | None = None,
    size: int = 65,
    now: datetime | None = None,
) -> Assignment:
    """Change an assignment as ``assignment_create`` would make it. A new due date must be in the future; the
    unchanged one may have passed (the form sends it back to the minute, so it is compared to the minute).
    Attempts already started keep the questions they were given; once anyone has started, the kind is fixed,
    since a cohort's completion would otherwise count mocks and practice sets as the same work."""
    cohort = assignment.cohort
    _assignment_lead_check(cohort, by)
    if _to_minute(due_at) == _to_minute(assignment.due_at):
        due_at = assignment.due_at
    elif due_at <= (now or timezone.now()):
        raise CohortError("The due date has passed: choose a date and time from now on, or keep the current one.")
    if kind != assignment.kind and assignment.attempts.exists():
        raise CohortError(
            "Members have already started this assignment, so its kind cannot change: create a new assignment."
        )
    tasks = _assignment_tasks(cohort, kind, task_ids)
    assignment.kind = kind
    assignment.title = title.strip()[:200] or "Assignment"
    assignment.due_at = due_at
    assignment.size = _assignment_size(cohort, kind, size)
    assignment.save(update_fields=["kind", "title", "due_at", "size"])
    assignment.tasks.set(tasks)
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment, by) -> int:
    """Delete an assignment. Attempts members already started are kept, with their scores, in their history and
    in the cohort's figures: only their link to the assignment goes. Returns how many attempts were unlinked."""
    _assignment_lead_check(assignment.cohort, by)
    unlinked = assignment.attempts.count()
    assignment.delete()  # AssignmentAttempt rows cascade; the Attempt rows they point to stay
    return unlinked


@transaction.atomic
def assignment_start(*, assignment: Assignment, user) -> Attempt:
    """Start (or resume) the member's attempt for an assignment."""
    if not CohortMember.objects.filter(cohort=assignment.cohort, user=user).exists():
        raise CohortError("This assignment is for another cohort.")
    link = AssignmentAttempt.objects.select_related("attempt").filter(assignment=assignment, user=user).first()
    if link is not None:
        return link.attempt
    exam = assignment.cohort.exam
    if assignment.kind == Assignment.Kind.MOCK:
        attempt = attempt_start_mock(candidate=user, exam=exam)
        if AssignmentAttempt.objects.filter(attempt=attempt).exists():
            raise CohortError("Finish the mock you already have in progress first.")
    else:
        attempt = attempt_start_practice(
            candidate=user,
            exam=exam,
            task_ids=list(assignment.tasks.values_list("pk", flat=True)),
            count=assignment.size,
            timed=True,
            feedback="end",
        )
    AssignmentAttempt.objects.create(assignment=assignment, attempt=attempt, user=user)
    return attempt


def _week(moment: datetime) -> date:
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def member_stat_values(results: list[AttemptResult]) -> dict:
    """A member's row from their results in start order: latest, best and trend of mocks, pooled task tallies."""
    mocks = [r for r in results if r.attempt.mode == AttemptMode.MOCK]
    tasks: dict[str, list[int]] = {}
    for result in results:
        for row in result.by_task:
            pair = tasks.setdefault(row["code"], [0, 0])
            pair[0] += row["correct"]
            pair[1] += row["total"]
    return {
        "latest_scaled": mocks[-1].scaled_score if mocks else None,
        "best_scaled": max(r.scaled_score for r in mocks) if mocks else None,
        "pass_probability": mocks[-1].pass_probability if mocks else None,
        "trend": mocks[-1].scaled_score - mocks[-2].scaled_score if len(mocks) > 1 else None,
        "attempts": len(results),
        "last_active": results[-1].attempt.submitted_at if results else None,
        "tasks": tasks,
    }


def member_stat_refresh(*, cohort: Cohort, user) -> MemberStat:
    """Recompute one member's row from their scored attempts (a handful of queries, whatever the cohort size)."""
    results = list(
        AttemptResult.objects.filter(attempt__candidate=user, attempt__exam=cohort.exam)
        .select_related("attempt")
        .order_by("attempt__started_at")
    )
    stat, _ = MemberStat.objects.update_or_create(cohort=cohort, user=user, defaults=member_stat_values(results))
    return stat


def _submitted(result: AttemptResult) -> tuple[datetime, int]:
    """The order in which a member's mocks of one week replace each other: the last submitted counts."""
    return result.attempt.submitted_at, result.attempt_id


def week_stat_count(*, cohort: Cohort, result: AttemptResult) -> WeekStat:
    """Count a member's newly scored mock in its week: it becomes what they count for that week if it is their
    latest there. Idempotent, and the cost does not grow with the cohort: one member row is replaced and the
    week's figures are summed from at most one row per member."""
    attempt = result.attempt
    week = _week(attempt.submitted_at)
    with transaction.atomic():
        WeekStat.objects.bulk_create([WeekStat(cohort=cohort, week=week)], ignore_conflicts=True)
        # The lock serialises a week's updates, so the sum below sees every member row committed before it.
        stat = WeekStat.objects.select_for_update().get(cohort=cohort, week=week)
        counted = WeekMember.objects.filter(cohort=cohort, week=week, user_id=attempt.candidate_id).first()
        if counted is not None and (counted.submitted_at, counted.attempt_id) >= _submitted(result):
            return stat
        WeekMember.objects.update_or_create(
            cohort=cohort,
            week=week,
            user_id=attempt.candidate_id,
            defaults={
                "attempt": attempt,
                "submitted_at": attempt.submitted_at,
                "scaled_score": result.scaled_score,
                "passed": result.passed,
            },
        )
        members = CohortMember.objects.filter(cohort=cohort).values("user_id")  # not those removed since
        totals = WeekMember.objects.filter(cohort=cohort, week=week, user_id__in=members).aggregate(
            active=Count("id"), ready=Count("id", filter=Q(passed=True)), mean=Avg("scaled_score")
        )
        stat.active, stat.ready, stat.mean_scaled = totals["active"], totals["ready"], totals["mean"]
        stat.save(update_fields=["active", "ready", "mean_scaled"])
    return stat


# Increments as upserts, one statement per table; the same SQL runs on PostgreSQL and SQLite. The ORM's
# bulk_create(update_conflicts=True) can only overwrite a column, not add to it, hence raw SQL.
_OBJECTIVE_UPSERT = """
INSERT INTO cohorts_objectivestat (cohort_id, week, assignment_key, objective_id, correct, total) VALUES {values}
ON CONFLICT (cohort_id, week, assignment_key, objective_id) DO UPDATE
SET correct = cohorts_objectivestat.correct + excluded.correct, total = cohorts_objectivestat.total + excluded.total
"""
_ITEM_UPSERT = """
INSERT INTO cohorts_itemmissstat (cohort_id, week, assignment_key, family, question_id, missed, seen) VALUES {values}
ON CONFLICT (cohort_id, week, assignment_key, family) DO UPDATE
SET missed = cohorts_itemmissstat.missed + excluded.missed, seen = cohorts_itemmissstat.seen + excluded.seen,
    question_id = excluded.question_id
"""


def _tallies_add(
    cohort_id: int, bucket: tuple[date, int], objectives: list[tuple[int, int, int]], items: list[tuple]
) -> None:
    week, assignment_key = bucket[0].isoformat(), bucket[1]
    with connection.cursor() as cursor:
        if objectives:
            cursor.execute(
                _OBJECTIVE_UPSERT.format(values=", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(objectives))),
                [
                    value
                    for oid, correct, total in objectives
                    for value in (cohort_id, week, assignment_key, oid, correct, total)
                ],
            )
        if items:
            cursor.execute(
                _ITEM_UPSERT.format(values=", ".join(["(%s, %s, %s, %s, %s, %s, 1)"] * len(items))),
                [
                    value
                    for family, qid, missed in items
                    for value in (cohort_id, week, assignment_key, _uuid_param(family), qid, missed)
                ],
            )


def _uuid_param(value):
    # SQLite stores UUIDField as 32 hex characters; PostgreSQL takes the UUID itself.
    return value if connection.vendor == "postgresql" else value.hex


def attempt_bucket(attempt: Attempt) -> tuple[date, int]:
    """The tally bucket an attempt's answers go to: the week it was submitted, and its assignment (0: none)."""
    assignment_id = AssignmentAttempt.objects.filter(attempt=attempt).values_list("assignment_id", flat=True).first()
    return _week(attempt.submitted_at or attempt.started_at), assignment_id or 0


def tally_buckets(*, items: QuerySet, exam_id: int) -> tuple[list[dict], list[dict]]:
    """The objective and item tallies of the scored answers ``items``, per bucket (week of submission and
    assignment), summed in the database: (objective rows, item rows), as dicts of ObjectiveStat and ItemMissStat
    fields. An item's skills in the cohort's version are its own when written for it, its placement's when
    carried over. Takes any AttemptItem queryset, so that a migration can pass its historical models."""
    bucket = {
        "week": TruncWeek(Coalesce("attempt__submitted_at", "attempt__started_at"), output_field=DateField()),
        "assignment_key": Coalesce("attempt__assignment_link__assignment_id", Value(0)),
    }
    tally = {"correct": Count("id", filter=Q(is_correct=True)), "total": Count("id")}
    home = (
        items.filter(question__task__domain__exam_id=exam_id)
        .annotate(**bucket, objective_id=F("question__objectives"))
        .values("week", "assignment_key", "objective_id")
        .annotate(**tally)
    )
    placed = (
        items.filter(question__placements__exam_id=exam_id)
        .annotate(**bucket, objective_id=F("question__placements__objectives"))
        .values("week", "assignment_key", "objective_id")
        .annotate(**tally)
    )
    objectives: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in [*home, *placed]:
        if row["objective_id"] is not None:
            pair = objectives[(row["week"], row["assignment_key"], row["objective_id"])]
            pair[0] += row["correct"]
            pair[1] += row["total"]
    item_rows = (
        items.annotate(**bucket, family=F("question__family"))
        .values("week", "assignment_key", "family")
        .annotate(missed=Count("id", filter=Q(is_correct=False)), seen=Count("id"), question_id=Max("question_id"))
    )
    return (
        [
            {"week": week, "assignment_key": key, "objective_id": oid, "correct": correct, "total": total}
            for (week, key, oid), (correct, total) in objectives.items()
        ],
        list(item_rows),
    )


def cohort_stats_on_scored(*, attempt_id: int) -> int:
    """After an attempt is scored: refresh the member's row and add the attempt to each of their cohorts'
    objective and item tallies exactly once. Returns the number of cohorts updated."""
    attempt = Attempt.objects.filter(pk=attempt_id, state=AttemptState.SCORED).select_related("result").first()
    if attempt is None:
        return 0
    cohorts = list(Cohort.objects.filter(members__user_id=attempt.candidate_id, exam_id=attempt.exam_id))
    if not cohorts:
        return 0
    rows = list(
        AttemptItem.objects.filter(attempt=attempt, scored=True).values_list(
            "question_id", "question__family", "is_correct"
        )
    )
    objectives: dict[int, list[int]] = {}
    for question_id, objective_id in item_skills(exam_id=attempt.exam_id, question_ids=[row[0] for row in rows]):
        objectives.setdefault(objective_id, []).append(question_id)
    correct_by_question = {question_id: bool(correct) for question_id, _, correct in rows}
    bucket = attempt_bucket(attempt)
    for cohort in cohorts:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    CountedAttempt.objects.create(cohort=cohort, attempt=attempt)
            except IntegrityError:
                pass  # counted before: a retried task must not count twice
            else:
                _tallies_add(
                    cohort.pk,
                    bucket,
                    [(oid, sum(correct_by_question[q] for q in qids), len(qids)) for oid, qids in objectives.items()],
                    [(family, qid, 0 if correct else 1) for qid, family, correct in rows],
                )
            member_stat_refresh(cohort=cohort, user=attempt.candidate)
            if attempt.mode == AttemptMode.MOCK and attempt.submitted_at:
                week_stat_count(cohort=cohort, result=attempt.result)
    return len(cohorts)


@transaction.atomic
def cohort_stats_rebuild(*, cohort: Cohort) -> None:
    """Recompute every aggregate of a cohort from scratch, in bulk (after an import, or to repair drift)."""
    members = list(CohortMember.objects.filter(cohort=cohort).values_list("user_id", flat=True))
    attempts = Attempt.objects.filter(candidate_id__in=members, exam=cohort.exam, state=AttemptState.SCORED)
    MemberStat.objects.filter(cohort=cohort).delete()
    ObjectiveStat.objects.filter(cohort=cohort).delete()
    ItemMissStat.objects.filter(cohort=cohort).delete()
    WeekStat.objects.filter(cohort=cohort).delete()
    WeekMember.objects.filter(cohort=cohort).delete()
    CountedAttempt.objects.filter(cohort=cohort).delete()
    results: dict[int, list[AttemptResult]] = {}
    for result in (
        AttemptResult.objects.filter(attempt__in=attempts).select_related("attempt").order_by("attempt__started_at")
    ):
        results.setdefault(result.attempt.candidate_id, []).append(result)
    stats = []
    weeks: dict[date, dict[int, AttemptResult]] = {}
    for user_id in members:
        mine = results.get(user_id, [])
        for result in mine:
            if result.attempt.mode == AttemptMode.MOCK and result.attempt.submitted_at:
                week = weeks.setdefault(_week(result.attempt.submitted_at), {})
                if user_id not in week or _submitted(result) > _submitted(week[user_id]):
                    week[user_id] = result
        stats.append(MemberStat(cohort=cohort, user_id=user_id, **member_stat_values(mine)))
    MemberStat.objects.bulk_create(stats, batch_size=2000)
    WeekMember.objects.bulk_create(
        [
            WeekMember(
                cohort=cohort,
                week=week,
                user_id=user_id,
                attempt_id=result.attempt_id,
                submitted_at=result.attempt.submitted_at,
                scaled_score=result.scaled_score,
                passed=result.passed,
            )
            for week, latest in weeks.items()
            for user_id, result in latest.items()
        ],
        batch_size=2000,
    )
    WeekStat.objects.bulk_create(
        [
            WeekStat(
                cohort=cohort,
                week=week,
                active=len(latest),
                ready=sum(1 for r in latest.values() if r.passed),
                mean_scaled=sum(r.scaled_score for r in latest.values()) / len(latest),
            )
            for week, latest in weeks.items()
        ]
    )
    objective_rows, item_rows = tally_buckets(
        items=AttemptItem.objects.filter(attempt__in=attempts, scored=True), exam_id=cohort.exam_id
    )
    ObjectiveStat.objects.bulk_create([ObjectiveStat(cohort=cohort, **row) for row in objective_rows], batch_size=5000)
    ItemMissStat.objects.bulk_create([ItemMissStat(cohort=cohort, **row) for row in item_rows], batch_size=5000)
    CountedAttempt.objects.bulk_create(
        [CountedAttempt(cohort=cohort, attempt_id=pk) for pk in attempts.values_list("pk", flat=True)], batch_size=5000
    )


DIGEST_SALT = "cohorts.digest-off"


def digest_subscribe(*, cohort: Cohort, lead, site_url: str) -> DigestSubscription:
    """Turn on the weekly digest of a cohort the user leads (or administers); turning it on twice changes nothing
    but the address used for the links."""
    if not cohorts_led_by(user=lead).filter(pk=cohort.pk).exists():
        raise CohortError("Only this cohort's leads get its digest.")
    if not lead.email:
        raise CohortError("Your account has no email address: add one on your account page first.")
    subscription, _ = DigestSubscription.objects.update_or_create(
        cohort=cohort, lead=lead, defaults={"site_url": site_url}
    )
    return subscription


def digest_unsubscribe(*, cohort: Cohort, lead) -> bool:
    return DigestSubscription.objects.filter(cohort=cohort, lead=lead).delete()[0] > 0


def digest_off_token(subscription: DigestSubscription) -> str:
    """The signed key of the email's turn-off link: it works without logging in, for this one opt-in only."""
    return signing.dumps(subscription.pk, salt=DIGEST_SALT)


def digest_subscription_from_token(token: str) -> DigestSubscription | None:
    try:
        pk = signing.loads(token, salt=DIGEST_SALT)
    except signing.BadSignature:
        return None
    return DigestSubscription.objects.select_related("cohort", "lead").filter(pk=pk).first()


def cohort_digest_send(*, subscription_id: int, now: datetime | None = None) -> bool:
    """Email one lead the week's digest of one cohort, at most once per week.

    The week is claimed just before sending with a conditional UPDATE (sent_week before this Monday), so a
    second run of the same week, even a concurrent one, finds nothing to claim; if the mail server refuses the
    email the claim is given back for a later run. Nothing is sent to a lead without an email address or who no
    longer leads the cohort."""
    now = now or timezone.now()
    week = _week(now)
    subscription = DigestSubscription.objects.select_related("cohort__exam", "lead").filter(pk=subscription_id).first()
    if subscription is None or not subscription.lead.email or not subscription.lead.is_active:
        return False
    if not cohorts_led_by(user=subscription.lead).filter(pk=subscription.cohort_id).exists():
        return False
    if subscription.sent_week is not None and subscription.sent_week >= week:
        return False  # sent already: spare the rendering (the claim below is what guarantees once)
    base = subscription.site_url.rstrip("/")
    context = {
        "digest": cohort_digest(cohort=subscription.cohort, now=now),
        "lead": subscription.lead,
        "now": now,
        "passing_score": subscription.cohort.exam.passing_score,
        "stalled_days": STALLED_DAYS,
        "dashboard_url": base + reverse("cohorts:dashboard", args=[subscription.cohort_id]),
        "off_url": base + reverse("cohorts:digest-off", args=[digest_off_token(subscription)]),
    }
    # One line: a newline in a subject would let a cohort's name inject headers.
    subject = "".join(render_to_string("cohorts/email/digest_subject.txt", context).splitlines())
    email = EmailMultiAlternatives(
        subject,
        render_to_string("cohorts/email/digest_body.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [subscription.lead.email],
        headers={"List-Unsubscribe": f"<{context['off_url']}>"},
    )
    email.attach_alternative(render_to_string("cohorts/email/digest_body.html", context), "text/html")
    # Claimed only once the email is ready, so a failure before it leaves the week to the next run.
    previous = subscription.sent_week
    claimed = (
        DigestSubscription.objects.filter(pk=subscription.pk)
        .filter(Q(sent_week__isnull=True) | Q(sent_week__lt=week))
        .update(sent_week=week)
    )
    if not claimed:
        return False
    try:
        email.send()
    except OSError as exc:  # smtplib's errors are OSErrors too
        DigestSubscription.objects.filter(pk=subscription.pk, sent_week=week).update(sent_week=previous)
        logger.error("digest of cohort %s to user %s not sent: %s", subscription.cohort_id, subscription.lead_id, exc)
        return False
    logger.info("cohort digest sent", extra={"cohort_id": subscription.cohort_id, "user_id": subscription.lead_id})
    return True


def cohort_digests_send(*, now: datetime | None = None) -> int:
    """The weekly run: every opt-in not yet sent this week. Returns how many emails went out."""
    now = now or timezone.now()
    week = _week(now)
    due = DigestSubscription.objects.filter(Q(sent_week__isnull=True) | Q(sent_week__lt=week)).order_by("pk")
    return sum(cohort_digest_send(subscription_id=pk, now=now) for pk in due.values_list("pk", flat=True))
