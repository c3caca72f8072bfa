"""The blueprint of an exam: domains with weights, tasks, and the objectives items are written against.

Nothing here is specific to MLA-C01; a second exam is a second fixture or a few admin forms.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Exam(models.Model):
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
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
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

    class Meta:
        ordering = ["domain__exam", "domain__number", "code"]
        constraints = [models.UniqueConstraint(fields=["domain", "code"], name="task_code_unique_per_domain")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Objective(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="objectives")
    order = models.PositiveSmallIntegerField()
    statement = models.TextField()

    class Meta:
        ordering = ["task__domain__exam", "task__domain__number", "task__code", "order"]
        constraints = [models.UniqueConstraint(fields=["task", "order"], name="objective_order_unique_per_task")]

    def __str__(self) -> str:
        return f"{self.code} {self.statement[:80]}"

    @property
    def code(self) -> str:
        return f"{self.task.code}.{self.order}"
