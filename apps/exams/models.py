"""Attempts: one candidate's sitting of a mock exam, a practice set or a review set.

The server owns the clock: ``deadline`` is fixed when the attempt starts (plus the candidate's accommodation).
``next_check_at`` is the indexed column the sweeper scans to finalise attempts nobody submitted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.questions.models import Question
from apps.syllabus.models import Exam

GRACE_SECONDS = 60
SCRATCHPAD_MAX_CHARS = 20_000


class Accommodation(models.Model):
    """Extra time a candidate gets on every timed attempt (e.g. +30 minutes for non-native speakers)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodation")
    extra_minutes = models.PositiveSmallIntegerField(default=30)
    reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: +{self.extra_minutes} min"


class AttemptMode(models.TextChoices):
    MOCK = "mock", "Full mock exam"
    BETA = "beta", "Beta form"  # the version's beta exam (e.g. 85 questions in 170 minutes): no pass line
    PRACTICE = "practice", "Practice set"
    REVIEW = "review", "Review missed"


# Attempts that run like the real exam: one at a time per version, no pause, keys only after submission.
FULL_EXAM_MODES = (AttemptMode.MOCK, AttemptMode.BETA)


class AttemptState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    SCORED = "scored", "Scored"
    ABANDONED = "abandoned", "Abandoned"


class Feedback(models.TextChoices):
    END = "end", "At the end"
    IMMEDIATE = "immediate", "After each item"


class AnswerState(models.TextChoices):
    ANSWERED = "answered", "Answered"
    INCOMPLETE = "incomplete", "Incomplete"
    UNANSWERED = "unanswered", "Unanswered"


def answer_state(answer: dict | None, complete: bool) -> str:
    """``answered``, ``incomplete`` or ``unanswered``, as the question grid and the review screen show it."""
    if not answer:
        return AnswerState.UNANSWERED
    return AnswerState.ANSWERED if complete else AnswerState.INCOMPLETE


class SubmittedBy(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    DEADLINE = "deadline", "Time ran out"
    SWEEPER = "sweeper", "Finalised by the sweeper"


class Attempt(models.Model):
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    mode = models.CharField(max_length=10, choices=AttemptMode.choices)
    state = models.CharField(max_length=12, choices=AttemptState.choices, default=AttemptState.IN_PROGRESS)
    feedback = models.CharField(max_length=10, choices=Feedback.choices, default=Feedback.END)
    item_count = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Empty for untimed practice.")
    accommodation_seconds = models.PositiveIntegerField(default=0)
    deadline = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.CharField(max_length=10, choices=SubmittedBy.choices, blank=True)
    last_position = models.PositiveSmallIntegerField(default=1)
    selection = models.JSONField(default=dict, blank=True, help_text="Domains, tasks and size the set was built from.")
    scratchpad = models.TextField(
        blank=True,
        max_length=SCRATCHPAD_MAX_CHARS,
        help_text="The candidate's private notes during the attempt (the exam's whiteboard); erased on submission.",
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The sweeper's scan: in-progress attempts whose check time has come.
            models.Index(
                fields=["next_check_at"],
                name="attempt_due_for_check",
                condition=models.Q(state="in_progress"),
            ),
            models.Index(fields=["candidate", "-started_at"], name="attempt_candidate_recent"),
            # Scoring's claim of the attempts waiting for it, oldest first, and the re-send of those it lost.
            models.Index(
                fields=["submitted_at", "id"],
                name="attempt_awaiting_score",
                condition=models.Q(state="submitted"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_seconds__isnull=True) | models.Q(deadline__isnull=False),
                name="attempt_timed_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} #{self.pk} ({self.candidate})"

    @property
    def is_timed(self) -> bool:
        return self.deadline is not None

    @property
    def is_open(self) -> bool:
        return self.state == AttemptState.IN_PROGRESS

    @property
    def is_full_exam(self) -> bool:
        return self.mode in FULL_EXAM_MODES


class AttemptItem(models.Model):
    """One delivered item: the exact question version, its shuffled presentation and the latest saved answer.

    ``presentation`` lists the ids in display order (choices, steps, prompts, and response numbers), so what a
    candidate saw can be reconstructed; the browser only ever sees display positions, never ids that could
    reveal the key.
    """

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="attempt_items")
    task = models.ForeignKey(
        "syllabus.Task",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The item's task in the attempt's exam version: results stay tied to the version taken.",
    )
    scored = models.BooleanField(default=True, help_text="False for unscored pretest items.")
    presentation = models.JSONField(default=dict)
    answer = models.JSONField(null=True, blank=True)
    answer_seq = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    eliminated = models.JSONField(default=list, blank=True)
    complete = models.BooleanField(
        default=False,
        help_text="The answer has every part the item asks for (as many options as it says to choose, every step "
        "placed once, every prompt matched). Set with each save.",
    )
    revealed_at = models.DateTimeField(
        null=True, blank=True, help_text="Practice with feedback after each item: the answer was checked and locked."
    )
    is_correct = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="attempt_item_position_unique"),
            models.UniqueConstraint(fields=["attempt", "question"], name="attempt_item_question_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"

    @property
    def is_answered(self) -> bool:
        return bool(self.answer)

    @property
    def answer_state(self) -> str:
        return answer_state(self.answer, self.complete)
