from __future__ import annotations

from django.db.models import QuerySet

from apps.syllabus.models import Exam, Objective, Task


def exam_default() -> Exam | None:
    return Exam.objects.filter(is_active=True).order_by("code").first()


def tasks_for_exam(*, exam: Exam) -> QuerySet[Task]:
    return Task.objects.filter(domain__exam=exam).select_related("domain")


def objectives_by_code(*, exam: Exam) -> dict[str, Objective]:
    """Objectives keyed by their code (``1.2.3``)."""
    objectives = Objective.objects.filter(task__domain__exam=exam).select_related("task")
    return {objective.code: objective for objective in objectives}
