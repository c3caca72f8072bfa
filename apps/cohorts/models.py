"""Organisations, their people and roles, cohorts, assignments, and the per-cohort aggregates that the
dashboard reads (kept current by Celery after each scoring, never recomputed on a page view)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from apps.exams.models import Attempt
from apps.syllabus.models import Exam, Objective, Task


def join_code_new() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    INSTRUCTOR = "instructor", "Instructor"
    LEAD = "lead", "Team lead"
    ADMIN = "admin", "Organisation admin"


class Membership(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.CANDIDATE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"


class Cohort(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cohorts")
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(max_length=200)
    join_code = models.CharField(max_length=12, unique=True, default=join_code_new)
    invite_token = models.UUIDField(unique=True, default=uuid.uuid4)
    leads = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="led_cohorts", blank=True)
    show_percentile = models.BooleanField(default=True, help_text="Members see their anonymous rank in the cohort.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class CohortMember(models.Model):
    class Via(models.TextChoices):
        CODE = "code", "Join code"
        INVITE = "invite", "Invite link"
        ROSTER = "roster", "Roster upload"
        LEAD = "lead", "Added by a lead"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_memberships")
    via = models.CharField(max_length=8, choices=Via.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "user"], name="cohort_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort}"


class Assignment(models.Model):
    class Kind(models.TextChoices):
        MOCK = "mock", "Full mock exam"
        PRACTICE = "practice", "Practice set"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    title = models.CharField(max_length=200)
    tasks = models.ManyToManyField(Task, blank=True, related_name="+")
    size = models.PositiveSmallIntegerField(default=65)
    due_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]

    def __str__(self) -> str:
        return self.title


class AssignmentAttempt(models.Model):
    """The attempt a member made for an assignment (one per member per assignment)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="attempts")
    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="assignment_link")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "user"], name="assignment_attempt_unique")]

    def __str__(self) -> str:
        return f"{self.assignment}: {self.user}"


class CountedAttempt(models.Model):
    """Marks an attempt as added to a cohort's tallies, so a retried task never counts it twice."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "attempt"], name="counted_attempt_unique")]

    def __str__(self) -> str:
        return f"{self.cohort}: attempt {self.attempt_id}"


class MemberStat(models.Model):
    """One member's standing in one cohort, refreshed after each of their scorings."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="member_stats")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    latest_scaled = models.PositiveSmallIntegerField(null=True)
    best_scaled = models.PositiveSmallIntegerField(null=True)
    pass_probability = models.FloatField(null=True)
    trend = models.SmallIntegerField(null=True, help_text="Latest minus previous mock score.")
    attempts = models.PositiveIntegerField(default=0)
    last_active = models.DateTimeField(null=True)
    tasks = models.JSONField(default=dict, help_text="{task code: [correct, total]} pooled over attempts.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "user"], name="member_stat_unique")]

    def __str__(self) -> str:
        return f"{self.cohort}: {self.user}"


# The tallies below come in buckets, so that the dashboard's filter (a range of weeks, an assignment) reads a
# handful of bucket rows instead of every answer: one row per week (Monday, local time, of the attempt's
# submission) and per assignment the attempts were for. ``assignment_key`` is an assignment's id, or 0 for
# attempts made outside any assignment; it is no foreign key so that deleting an assignment keeps its answers
# in the cohort's totals.
class ObjectiveStat(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="objective_stats")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="Monday of the week the attempts were submitted.")
    assignment_key = models.PositiveIntegerField(default=0, help_text="The assignment's id, 0 for none.")
    correct = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "week", "assignment_key", "objective"], name="objective_stat_bucket_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cohort}: {self.objective_id} in the week of {self.week} {self.correct}/{self.total}"


class ItemMissStat(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="item_stats")
    family = models.UUIDField()
    question = models.ForeignKey("questions.Question", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="Monday of the week the attempts were submitted.")
    assignment_key = models.PositiveIntegerField(default=0, help_text="The assignment's id, 0 for none.")
    missed = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "week", "assignment_key", "family"], name="item_miss_stat_bucket_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cohort}: {self.question_id} missed {self.missed}/{self.seen}"


class WeekStat(models.Model):
    """Readiness per ISO week: members whose latest mock that week passed, among members active that week."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="week_stats")
    week = models.DateField(help_text="Monday of the week.")
    active = models.PositiveIntegerField(default=0)
    ready = models.PositiveIntegerField(default=0)
    mean_scaled = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "week"], name="week_stat_unique")]
        ordering = ["week"]

    def __str__(self) -> str:
        return f"{self.cohort}: week of {self.week}"


class WeekMember(models.Model):
    """What one member counts for in a WeekStat: their latest scored mock of that week. A scoring replaces at
    most this one row, and the week's figures are then summed from these rows (at most one per member) instead
    of re-reading every mock the cohort took that week."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="Monday of the week.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField()
    scaled_score = models.PositiveSmallIntegerField()
    passed = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "week", "user"], name="week_member_unique")]

    def __str__(self) -> str:
        return f"{self.cohort}: {self.user_id} in the week of {self.week}"


class DigestSubscription(models.Model):
    """A lead's opt-in to the weekly digest email of one cohort. ``sent_week`` is claimed before each send, so a
    weekly run that is repeated (a retry, two beat processes) emails each lead once per cohort per week."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="digest_subscriptions")
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions")
    site_url = models.URLField(help_text="The site's address when the lead opted in, for the email's links.")
    sent_week = models.DateField(null=True, blank=True, help_text="Monday of the week last sent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "lead"], name="digest_subscription_unique")]

    def __str__(self) -> str:
        return f"{self.lead} gets the digest of {self.cohort}"
