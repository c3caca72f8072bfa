"""Exam versions and their blueprints: domains with weights, tasks, and the skills items are written against.

Names: an **exam version** (the ``Exam`` model, e.g. MLA-C01 or MLA-C02) is one certification's blueprint and
format; the ``apps.exams`` app is about something else, a candidate's **attempt** at a form drawn from a version.
A later version ``replaces`` an earlier one; each of its tasks ``continues`` a task of the earlier version, and
each of the earlier version's skills (``Objective``) names the skill that continues it, or the version that
removed it. Nothing here is specific to one version: a new version is a syllabus file and a map file.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ExamStatus(models.TextChoices):
    CURRENT = "current", "Current"
    RETIRING = "retiring", "Retiring"
    RETIRED = "retired", "Retired"


class ItemType(models.TextChoices):
    """The kinds of item (questions.QuestionType is this): a version's blueprint says which its forms use."""

    SINGLE = "single", "Single answer"
    MULTIPLE = "multiple", "Multiple response"
    ORDERING = "ordering", "Ordering"
    MATCHING = "matching", "Matching"


def _all_item_types() -> list[str]:
    return list(ItemType.values)


class Exam(models.Model):
    """An exam version: its blueprint (domains, tasks, skills) and its format."""

    code = models.SlugField(max_length=20, unique=True, help_text="Vendor code, e.g. MLA-C01.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    minutes = models.PositiveSmallIntegerField(default=130)
    question_count = models.PositiveSmallIntegerField(default=65)
    scored_count = models.PositiveSmallIntegerField(default=50)
    unscored_count = models.PositiveSmallIntegerField(default=15)
    scale_min = models.PositiveSmallIntegerField(default=100)
    scale_max = models.PositiveSmallIntegerField(default=1000)
    passing_score = models.PositiveSmallIntegerField(default=720)
    case_studies_per_form = models.PositiveSmallIntegerField(
        default=1,
        help_text="Case studies on every full mock while the bank has eligible ones; 0 means never a case study.",
    )
    item_types = models.JSONField(
        default=_all_item_types, help_text='Item types its forms use, e.g. ["single", "multiple"].'
    )
    status = models.CharField(max_length=10, choices=ExamStatus.choices, default=ExamStatus.CURRENT)
    status_note = models.CharField(
        max_length=300, blank=True, help_text="What candidates should know about its status, e.g. until when."
    )
    languages = models.JSONField(default=list, blank=True, help_text="Languages it is offered in now (BCP 47).")
    available_from = models.DateField(null=True, blank=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by")
    beta_code = models.CharField(max_length=20, blank=True, help_text="The beta exam's code, where there is one.")
    beta_question_count = models.PositiveSmallIntegerField(null=True, blank=True)
    beta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    beta_available_from = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "exam version"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(question_count=models.F("scored_count") + models.F("unscored_count")),
                name="exam_questions_are_scored_plus_unscored",
            ),
            models.CheckConstraint(
                condition=models.Q(scale_min__lt=models.F("passing_score"), passing_score__lt=models.F("scale_max")),
                name="exam_passing_score_inside_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"

    @property
    def seconds_per_question(self) -> float:
        return self.minutes * 60 / self.question_count

    @property
    def has_beta(self) -> bool:
        return bool(self.beta_question_count and self.beta_minutes)

    @property
    def is_current(self) -> bool:
        return self.status == ExamStatus.CURRENT

    def takes(self, item_type: str) -> bool:
        return item_type in self.item_types

    def clean(self) -> None:
        if not isinstance(self.item_types, list) or not self.item_types or set(self.item_types) - set(ItemType.values):
            raise ValidationError({"item_types": f"List some of {', '.join(ItemType.values)}."})

    @property
    def language_list(self) -> str:
        """ "Japanese, Korean and Simplified Chinese": the languages it is offered in, for people."""
        names = language_names(self.languages or [])
        return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


LANGUAGE_NAMES = {"en": "English", "ja": "Japanese", "ko": "Korean", "zh-Hans": "Simplified Chinese"}


def language_names(codes: list[str]) -> list[str]:
    return [LANGUAGE_NAMES.get(code, code) for code in codes]


class Domain(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="domains")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    weight = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of scored content, in percent.",
    )

    class Meta:
        ordering = ["exam", "number"]
        constraints = [models.UniqueConstraint(fields=["exam", "number"], name="domain_number_unique_per_exam")]

    def __str__(self) -> str:
        return f"Domain {self.number}: {self.title}"


class Task(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="tasks")
    code = models.CharField(max_length=10, help_text="Task statement number, e.g. 1.2.")
    title = models.CharField(max_length=300)
    continues = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="continued_by",
        help_text="The task of the version this one replaces that it carries on (mastery carries across).",
    )

    class Meta:
        ordering = ["domain__exam", "domain__number", "code"]
        constraints = [models.UniqueConstraint(fields=["domain", "code"], name="task_code_unique_per_domain")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Objective(models.Model):
    """A skill of a task (C01's guide says objective, C02's says skill); its code is ``<task>.<order>``."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="objectives")
    order = models.PositiveSmallIntegerField()
    statement = models.TextField()
    successor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predecessors",
        help_text="The skill of the next version that continues this one.",
    )
    removed_in = models.ForeignKey(
        Exam,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="removed_objectives",
        help_text="The next version, when it dropped this skill.",
    )

    class Meta:
        ordering = ["task__domain__exam", "task__domain__number", "task__code", "order"]
        constraints = [models.UniqueConstraint(fields=["task", "order"], name="objective_order_unique_per_task")]

    def __str__(self) -> str:
        return f"{self.code} {self.statement[:80]}"

    @property
    def code(self) -> str:
        return f"{self.task.code}.{self.order}"
