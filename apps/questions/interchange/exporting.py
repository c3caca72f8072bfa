"""Export versions from the bank in one of the writable formats."""

from __future__ import annotations

from django.db.models import Max, OuterRef, QuerySet, Subquery

from apps.questions.interchange.base import Case, ExportResult, Item
from apps.questions.interchange.formats import FORMATS, module
from apps.questions.models import Question
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.questions.services import question_to_draft
from apps.syllabus.models import Exam


def question_items(queryset: QuerySet[Question]) -> tuple[list[Item], list[Case]]:
    """Versions as interchange items (in a fixed number of queries), with the case studies they belong to."""
    items: list[Item] = []
    cases: dict[int, Case] = {}
    for question in questions_with_parts(queryset).order_by("case_study_id", "case_order", "task__code", "ref", "pk"):
        draft = question_to_draft(question)
        case_ref = ""
        if question.case_study is not None:
            study = question.case_study
            case_ref = study.ref or f"case-{study.pk}"
            cases.setdefault(study.pk, Case(case_ref, study.title, study.scenario))
        items.append(
            Item(
                draft=draft,
                ref=question.ref,
                version=question.version,
                family=str(question.family),
                case_ref=case_ref,
                case_order=question.case_order if case_ref else 0,
            )
        )
    return items, list(cases.values())


def questions_for_export(
    *,
    statuses: list[str] | None = None,
    tasks: list[str] | None = None,
    all_versions: bool = False,
    exam: Exam | None = None,
) -> QuerySet[Question]:
    """The versions an export covers: by default the latest version of each item among those selected
    (with ``statuses=["published"]`` that is the live version, not a newer draft). With ``exam``, only the items
    that exam version can use: written for it or carried over to it."""
    queryset = Question.objects.all() if exam is None else questions_of_exam(exam=exam)
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if tasks:
        queryset = queryset.filter(task__code__in=tasks)
    if not all_versions:
        latest = queryset.filter(family=OuterRef("family")).values("family").annotate(v=Max("version"))
        queryset = queryset.filter(version=Subquery(latest.values("v")))
    return queryset


def questions_export(*, queryset: QuerySet[Question], fmt: str) -> ExportResult:
    """The file for ``fmt``, with what the format could not carry listed in ``losses``."""
    if fmt not in FORMATS or not FORMATS[fmt].can_export:
        raise ValueError(f"cannot export to {fmt!r}")
    items, cases = question_items(queryset)
    if fmt == "native":  # the one format that records the exam version; say it only when the items share one
        codes = set(queryset.values_list("task__domain__exam__code", flat=True).distinct())
        return module(fmt).export(items, cases, exam=codes.pop() if len(codes) == 1 else None)
    return module(fmt).export(items, cases)
