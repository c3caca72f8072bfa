"""Items and their versions.

A row of ``Question`` is one *version* of an item. Versions of the same item share a ``family`` id. Once a
version has been published (or used as a pretest item) its content is frozen: attempts point at that exact
row, so no past result can change. Editing it means creating the next version (see services).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.core.models import TimeStampedModel
from apps.syllabus.models import ItemType, Objective, Task


class ImmutableQuestionError(Exception):
    """Raised when code tries to change the content of a published, pretest or retired version."""


# The kinds of item; an exam version's blueprint lists those its forms use (Exam.item_types).
QuestionType = ItemType


class QuestionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    PRETEST = "pretest", "Pretest (unscored)"
    RETIRED = "retired", "Retired"


class Difficulty(models.TextChoices):
    EASY = "easy", "Easy"
    MEDIUM = "medium", "Medium"
    HARD = "hard", "Hard"


LOCKED_STATUSES = frozenset({QuestionStatus.PUBLISHED, QuestionStatus.PRETEST, QuestionStatus.RETIRED})
DELIVERABLE_STATUSES = frozenset({QuestionStatus.PUBLISHED, QuestionStatus.PRETEST})
CONTENT_FIELDS = (
    "type",
    "stem",
    "explanation",
    "task_id",
    "difficulty",
    "angoff",
    "references",
    "case_study_id",
    "case_order",
)


class CaseStudy(TimeStampedModel):
    """A shared scenario that owns several items; each item is scored on its own."""

    ref = models.CharField(max_length=40, blank=True, db_index=True, help_text="Stable external id.")
    title = models.CharField(max_length=200)
    scenario = models.TextField(help_text="Markdown. Shown above every item of the case study.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name_plural = "case studies"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        return self.questions.filter(status__in=LOCKED_STATUSES).exists()


class Question(TimeStampedModel):
    family = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveSmallIntegerField(default=1, editable=False)
    ref = models.CharField(max_length=40, blank=True, db_index=True, help_text="Stable external id.")
    concept = models.SlugField(
        max_length=60,
        blank=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lower-case letters, digits and hyphens.")],
        help_text="Items with the same concept test the same thing: a mock form holds at most one of them.",
    )
    type = models.CharField(max_length=10, choices=QuestionType.choices)
    status = models.CharField(max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.DRAFT)
    # Null only for imported drafts whose file named no task: they wait in the admin for an instructor to map.
    task = models.ForeignKey(Task, null=True, on_delete=models.PROTECT, related_name="questions")
    objectives = models.ManyToManyField(Objective, related_name="questions")
    case_study = models.ForeignKey(CaseStudy, null=True, blank=True, on_delete=models.PROTECT, related_name="questions")
    case_order = models.PositiveSmallIntegerField(default=0)
    stem = models.TextField(help_text='Markdown. Multiple response stems say "(Choose two.)" or similar.')
    explanation = models.TextField(help_text="Markdown. Why the key is right, and the rule to remember.")
    references = models.TextField(blank=True, help_text="Documentation links, one per line.")
    difficulty = models.CharField(max_length=6, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    angoff = models.FloatField(
        null=True,
        blank=True,
        help_text="Angoff rating: the chance (0-1) that a minimally competent candidate answers correctly.",
    )
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Where an imported item came from, kept so an instructor can find and sort a migrated bank and exports can
    # write it back: the source's own name for the question, its category path and its tags. None of it is
    # content a candidate sees, so editing it never needs a new version.
    name = models.CharField(max_length=255, blank=True, help_text="The question's name in the bank it came from.")
    category = models.CharField(
        max_length=500,
        blank=True,
        db_index=True,
        help_text='Category path in the source bank, e.g. "ML/Data/Cleaning".',
    )
    tags = models.JSONField(default=list, blank=True, help_text="Tags from the source bank.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["task__code", "ref", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="question_version_unique_in_family"),
            models.CheckConstraint(
                condition=models.Q(angoff__isnull=True) | models.Q(angoff__gt=0, angoff__lt=1),
                name="question_angoff_is_probability",
            ),
            models.CheckConstraint(
                condition=models.Q(task__isnull=False) | models.Q(status__in=["draft", "in_review"]),
                name="question_unmapped_only_as_draft",
            ),
        ]
        indexes = [models.Index(fields=["status", "task"], name="question_status_task")]
        permissions = [("publish_question", "Can publish, retire or send questions to review")]

    def __str__(self) -> str:
        label = self.ref or f"#{self.pk}"
        return f"{label} v{self.version}"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Question:
        instance = super().from_db(db, field_names, values)
        # Only fields actually loaded (``.only()`` may defer some); reading a deferred one would query again.
        instance._loaded = {
            name: instance.__dict__[name] for name in (*CONTENT_FIELDS, "status") if name in instance.__dict__
        }
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Last line of defence under the services: a frozen version's content never changes in place.
        loaded = getattr(self, "_loaded", None)
        if loaded and loaded.get("status", self.status) in LOCKED_STATUSES:
            changed = [name for name in CONTENT_FIELDS if name in loaded and getattr(self, name) != loaded[name]]
            if changed:
                raise ImmutableQuestionError(
                    f"{self} is {loaded['status']}; create a new version to change {', '.join(changed)}."
                )
        super().save(*args, **kwargs)
        self._loaded = {name: getattr(self, name) for name in (*CONTENT_FIELDS, "status")}

    @property
    def is_locked(self) -> bool:
        loaded = getattr(self, "_loaded", None)
        return (loaded.get("status", self.status) if loaded else self.status) in LOCKED_STATUSES

    @property
    def reference_list(self) -> list[str]:
        return [line.strip() for line in self.references.splitlines() if line.strip()]


class _QuestionPart(models.Model):
    """Options, steps and pairs belong to one version and freeze with it."""

    question: models.ForeignKey[Question, Question]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.question.is_locked:
            raise ImmutableQuestionError(f"{self.question} is frozen; create a new version to change it.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.question.is_locked:
            raise ImmutableQuestionError(f"{self.question} is frozen; create a new version to change it.")
        return super().delete(*args, **kwargs)


class Choice(_QuestionPart):
    """An option of a single-answer or multiple-response item."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    rationale = models.TextField(help_text="Why this option is right or wrong in this scenario.")

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class OrderingStep(_QuestionPart):
    """A step of an ordering item; ``position`` is its place in the correct order."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    rationale = models.TextField(help_text="Why the step belongs at this position.")

    class Meta:
        ordering = ["question", "position", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class MatchPair(_QuestionPart):
    """A matching prompt and its correct response; a blank prompt is a response that matches nothing."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="pairs")
    order = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField(blank=True, help_text="Leave blank for a response that matches no prompt.")
    response = models.TextField()
    rationale = models.TextField(help_text="Why this prompt goes with this response.")

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return f"{self.prompt[:30]} -> {self.response[:30]}"


class Placement(models.Model):
    """Where an item serves an exam version other than the one it was written for: its task and skills there.

    An item's own task (``Question.task``) places it in its home version; a placement adds another version,
    e.g. a C01 item carried over to MLA-C02. Forms of a version draw the items placed in it either way.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="placements")
    exam = models.ForeignKey("syllabus.Exam", on_delete=models.CASCADE, related_name="placements")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="placements")
    objectives = models.ManyToManyField(Objective, related_name="placements")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "exam"], name="placement_one_per_exam")]

    def __str__(self) -> str:
        return f"{self.question} in {self.exam_id}: {self.task}"


class QuestionImport(TimeStampedModel):
    """An uploaded file on its way into the bank: previewed, then imported on confirm (in Celery when large).

    The file's bytes are kept only until the import has run; the report stays as the record of what happened.
    """

    class State(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # unguessable in URLs
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    exam = models.ForeignKey("syllabus.Exam", on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=12, default="auto")
    status = models.CharField(max_length=10, default=QuestionStatus.DRAFT, help_text="Status the items arrive in.")
    task = models.CharField(max_length=10, blank=True, help_text="Task for items whose file names none.")
    data = models.BinaryField(blank=True, default=b"")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREVIEWED)
    report = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"


class QuestionReport(TimeStampedModel):
    """A candidate's report that an item they answered is wrong, unclear or out of date, for instructors to
    review. It names the exact version seen; each candidate has at most one open report per version."""

    class Reason(models.TextChoices):
        KEY = "key", "The marked answer is wrong"
        AMBIGUOUS = "ambiguous", "More than one answer fits, or the question is unclear"
        OUTDATED = "outdated", "It is out of date with AWS today"
        TYPO = "typo", "A typo, or text that does not display properly"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Fixed"
        DISMISSED = "dismissed", "Dismissed"

    COMMENT_MAX = 2000

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_reports")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True, help_text="What was done about it (instructors only).")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "reporter"],
                condition=models.Q(status="open"),
                name="question_report_one_open_per_reporter",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_at__isnull=False),
                name="question_report_closed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "question"], name="question_report_status")]

    def __str__(self) -> str:
        return f"{self.question}: {self.get_reason_display()} ({self.get_status_display()})"


class CategoryTask(models.Model):
    """An instructor's answer to "which task do this source category's questions belong to?", remembered so
    that the next import of the same bank places them without asking again."""

    exam = models.ForeignKey("syllabus.Exam", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=500, help_text='Category path as imported, e.g. "ML/Data/Cleaning".')
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "category → task mapping"
        constraints = [models.UniqueConstraint(fields=["exam", "category"], name="category_task_unique")]
        ordering = ["category"]

    def __str__(self) -> str:
        return f"{self.category} → {self.task.code}"


class ItemMedia(models.Model):
    """An image or audio file of one item version, referenced from its texts as ``media:<id>/<name>``.

    A new version copies the texts, so it keeps pointing at the rows of the version it came from; who may
    fetch a file is decided by the item's family (``apps.questions.views.item_media``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # unguessable in URLs
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="media")
    name = models.CharField(max_length=255, help_text="The file name the item's texts refer to.")
    file = models.FileField(upload_to="item-media/%Y/", max_length=300)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "item media file"
        constraints = [models.UniqueConstraint(fields=["question", "name"], name="item_media_name_unique")]

    def __str__(self) -> str:
        return f"{self.question}: {self.name}"

    @property
    def is_audio(self) -> bool:
        return self.content_type.startswith("audio/")
