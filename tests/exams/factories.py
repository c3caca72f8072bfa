"""A small but complete bank for delivery tests, built through the services."""

from __future__ import annotations

import itertools

from apps.questions.models import CaseStudy
from apps.syllabus.models import Exam, Task
from tests.questions.factories import QuestionFactory

TYPES = itertools.cycle(["single", "multiple", "single", "ordering", "single", "matching"])


def bank_build(exam: Exam, *, per_task: int = 6, pretest_per_task: int = 2, case_study: bool = True) -> None:
    """``per_task`` published items in each of the 12 tasks, some pretest items, and one 3-item case study."""
    for task in Task.objects.filter(domain__exam=exam).order_by("code"):
        for n in range(per_task):
            kind = next(TYPES)
            suffix = " (Choose two.)" if kind == "multiple" else ""
            QuestionFactory(exam=exam, task=task.code, type=kind, stem=f"Task {task.code} item {n}?{suffix}")
        for n in range(pretest_per_task):
            QuestionFactory(exam=exam, task=task.code, status="pretest", stem=f"Pretest {task.code} {n}?")
    if case_study:
        case = CaseStudy.objects.create(ref="cs-t", title="A retailer", scenario="A retailer streams clicks.")
        for order in (1, 2, 3):
            QuestionFactory(exam=exam, task="2.2", case_study=case, case_order=order, stem=f"Case item {order}?")
