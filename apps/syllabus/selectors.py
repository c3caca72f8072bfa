from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from apps.syllabus.models import Exam, ExamStatus, Objective, Task

_STATUS_RANK = Case(
    When(status=ExamStatus.CURRENT, then=Value(0)),
    When(status=ExamStatus.RETIRING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def exam_versions() -> QuerySet[Exam]:
    """The versions candidates can practise for: active and not retired, the current one first, then newest."""
    return (
        Exam.objects.filter(is_active=True)
        .exclude(status=ExamStatus.RETIRED)
        .annotate(status_rank=_STATUS_RANK)
        .order_by("status_rank", "-code")
    )


def exam_default() -> Exam | None:
    """The version a newcomer practises for: the current one."""
    return exam_versions().first()


def exam_by_code(code: str) -> Exam | None:
    return Exam.objects.filter(code=code, is_active=True).first()


def tasks_for_exam(*, exam: Exam) -> QuerySet[Task]:
    return Task.objects.filter(domain__exam=exam).select_related("domain")


def objectives_by_code(*, exam: Exam) -> dict[str, Objective]:
    """Objectives keyed by their code (``1.2.3``)."""
    objectives = Objective.objects.filter(task__domain__exam=exam).select_related("task")
    return {objective.code: objective for objective in objectives}
