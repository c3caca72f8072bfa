"""Carrying items over to a newer exam version: each item written for the earlier version is placed in the later
one, under the task and skills that continue its own, when the later version still takes it.

An item stays behind when the later version's forms do not use its type (MLA-C02 forms are single and multiple
response only), when it belongs to a case study (C02 has none), or when every skill it was written for was
removed. Placing is idempotent: running it again updates placements to the current maps and adds new items.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from apps.questions.models import Placement, Question, QuestionStatus
from apps.questions.selectors import skill_published_counts
from apps.syllabus.models import Exam, Objective, Task


class CarryOverError(ValueError):
    """The two versions are not a version and the one that replaces it."""


@dataclass
class SkillCoverage:
    code: str
    statement: str
    published: int


@dataclass
class CarryOverReport:
    source: Exam
    target: Exam
    placed: int = 0  # new placements
    updated: int = 0  # placements whose task or skills changed
    unchanged: int = 0
    withdrawn: int = 0  # placements removed: the item no longer fits the later version
    left: dict[str, list[str]] = field(default_factory=dict)  # reason -> items that stay behind
    coverage: list[SkillCoverage] = field(default_factory=list)

    @property
    def gaps(self) -> list[SkillCoverage]:
        return [skill for skill in self.coverage if not skill.published]


def _placement_for(
    question: Question, target: Exam, continuing: dict[int, Task]
) -> tuple[Task, list[Objective]] | None:
    """The task and skills that continue the item's own in ``target``, or None when all its skills were removed.

    The task is the one most of its continued skills belong to (the one continuing its own task on a tie): the
    maps of skills may cross tasks where content moved, and an item's skills must lie in its task."""
    successors = [
        objective.successor
        for objective in question.objectives.all()
        if objective.successor and objective.successor.task.domain.exam_id == target.pk
    ]
    if not successors:
        return None
    counts = Counter(skill.task_id for skill in successors)
    best = max(counts.values())
    tied = [task_id for task_id, n in counts.items() if n == best]
    own = continuing.get(question.task_id)
    task_id = own.pk if own is not None and own.pk in tied else min(tied)
    skills = sorted({s.pk: s for s in successors if s.task_id == task_id}.values(), key=lambda skill: skill.order)
    return next(skill.task for skill in skills), skills


@transaction.atomic
def bank_carry_over(
    *, target: Exam, questions: QuerySet[Question] | None = None, dry_run: bool = False, with_coverage: bool = True
) -> CarryOverReport:
    """Place the earlier version's items (all of them, or ``questions``) in ``target``, the version replacing it.

    Retired versions are left alone: only the live version of an item, and drafts in the making, are placed.
    An item placed before but out of scope now (an edit changed its type or skills) is withdrawn. With
    ``dry_run`` the report is made and nothing is written.
    """
    source = target.replaces
    if source is None:
        raise CarryOverError(f"{target.code} replaces no earlier version: there is nothing to carry over.")
    report = CarryOverReport(source=source, target=target)
    continuing = {task.continues_id: task for task in Task.objects.filter(domain__exam=target) if task.continues_id}
    candidates = (Question.objects.all() if questions is None else questions).filter(task__domain__exam=source)
    candidates = (
        candidates.exclude(status=QuestionStatus.RETIRED)
        .select_related("task")
        .prefetch_related("objectives__successor__task__domain")
        .order_by("id")
    )
    existing = {
        placement.question_id: placement
        for placement in Placement.objects.filter(exam=target, question__in=candidates).prefetch_related("objectives")
    }
    left: dict[str, list[str]] = defaultdict(list)
    withdrawn: list[int] = []
    for question in candidates:
        reason, placement = _stays_behind(question, target, continuing)
        current = existing.get(question.pk)
        if reason:
            left[reason].append(question.ref or f"#{question.pk}")
            if current is not None:  # placed before an edit took it out of the later version's scope
                withdrawn.append(current.pk)
            continue
        task, skills = placement
        if current is None:
            report.placed += 1
            if not dry_run:
                created = Placement.objects.create(question=question, exam=target, task=task)
                created.objectives.set(skills)
        elif current.task_id != task.pk or {o.pk for o in current.objectives.all()} != {s.pk for s in skills}:
            report.updated += 1
            if not dry_run:
                current.task = task
                current.save(update_fields=["task"])
                current.objectives.set(skills)
        else:
            report.unchanged += 1
    report.withdrawn = len(withdrawn)
    if withdrawn and not dry_run:
        Placement.objects.filter(pk__in=withdrawn).delete()
    report.left = dict(left)
    if with_coverage:
        report.coverage = skill_coverage(exam=target)  # as the bank stands now: before placing, with dry_run
    return report


def _stays_behind(question: Question, target: Exam, continuing: dict[int, Task]) -> tuple[str, tuple | None]:
    """Why ``question`` stays out of ``target`` (and "" with its task and skills there when it goes in)."""
    if not target.takes(question.type):
        return f"{target.code} forms do not use {question.get_type_display().lower()} items", None
    if question.case_study_id and not target.case_studies_per_form:
        return f"{target.code} forms carry no case studies", None
    placement = _placement_for(question, target, continuing)
    if placement is None:
        return f"every skill it was written for was removed in {target.code}", None
    return "", placement


def placements_follow(*, question: Question, source: Question | None = None) -> None:
    """Keep an item's placements true to it after an edit, or give a new version (``question``) the placements
    of the version it was copied from (``source``): a new version of a carried-over item stays carried over."""
    for exam in Exam.objects.filter(placements__question=source or question).distinct():
        bank_carry_over(target=exam, questions=Question.objects.filter(pk=question.pk), with_coverage=False)


def skill_coverage(*, exam: Exam) -> list[SkillCoverage]:
    """Published items per skill of the version, counting items written for it and items placed in it."""
    counts = skill_published_counts(exam=exam)
    return [
        SkillCoverage(objective.code, objective.statement, counts[objective.pk])
        for objective in Objective.objects.filter(task__domain__exam=exam).select_related("task")
    ]
