"""Reads of the question bank."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from apps.questions.models import (
    DELIVERABLE_STATUSES,
    LOCKED_STATUSES,
    Choice,
    ItemMedia,
    MatchPair,
    OrderingStep,
    Placement,
    Question,
    QuestionStatus,
    QuestionType,
)
from apps.syllabus.models import Exam, Objective


def questions_with_parts(queryset: QuerySet[Question] | None = None, *, objectives: bool = True) -> QuerySet[Question]:
    """Versions with everything needed to show them, in a fixed number of queries."""
    queryset = Question.objects.all() if queryset is None else queryset
    prefetches = [
        Prefetch("choices", queryset=Choice.objects.order_by("order", "id")),
        Prefetch("steps", queryset=OrderingStep.objects.order_by("position", "id")),
        Prefetch("pairs", queryset=MatchPair.objects.order_by("order", "id")),
    ]
    if objectives:
        prefetches.append(Prefetch("objectives", queryset=Objective.objects.select_related("task")))
    return queryset.select_related("task__domain", "case_study").prefetch_related(*prefetches)


def questions_of_exam(*, exam: Exam) -> QuerySet[Question]:
    """Every version an exam version can use: written for it (its task is one of the version's) or placed in it,
    and of an item type its forms take."""
    return Question.objects.filter(
        Q(task__domain__exam=exam) | Q(pk__in=Placement.objects.filter(exam=exam).values("question_id")),
        type__in=exam.item_types,
    )


def item_skills(*, exam_id: int, question_ids: list[int]) -> list[tuple[int, int]]:
    """(question id, skill id) for each skill of these items in an exam version: an item's own objectives where it
    was written for the version, its placement's where it was carried over. Two queries."""
    home = Question.objects.filter(pk__in=question_ids, task__domain__exam_id=exam_id, objectives__isnull=False)
    placed = Placement.objects.filter(exam_id=exam_id, question_id__in=question_ids, objectives__isnull=False)
    return [*home.values_list("pk", "objectives"), *placed.values_list("question_id", "objectives")]


# What form assembly reads of each item: enough to place it, never its content.
PLACED_FIELDS = (
    "id",
    "family",
    "status",
    "type",
    "concept",
    "task_id",
    "task__domain_id",
    "case_study_id",
    "case_order",
)


def questions_placed(
    *,
    exam: Exam,
    statuses: Iterable[str],
    task_ids: Iterable[int] | None = None,
    families: Iterable | None = None,
) -> list[Question]:
    """The versions an exam version can deliver, each with its task *in that version*: its own task when written
    for it, its placement's task when carried over. These instances are a view for assembling forms (their task
    may differ from the stored one): read them, never save them."""
    home = Question.objects.filter(task__domain__exam=exam, status__in=list(statuses), type__in=exam.item_types)
    placed = Placement.objects.filter(
        exam=exam, question__status__in=list(statuses), question__type__in=exam.item_types
    )
    if task_ids is not None:
        home, placed = home.filter(task_id__in=list(task_ids)), placed.filter(task_id__in=list(task_ids))
    if families is not None:
        home, placed = home.filter(family__in=list(families)), placed.filter(question__family__in=list(families))
    questions = list(home.select_related("task__domain").only(*PLACED_FIELDS))
    fields = ["task_id", "task__domain_id", *(f"question__{name}" for name in PLACED_FIELDS if "__" not in name)]
    for placement in placed.select_related("question", "task__domain").only(*fields):
        question = placement.question
        question.task = placement.task
        questions.append(question)
    return sorted(questions, key=lambda question: question.pk)


def questions_in_blueprint_part(
    queryset: QuerySet[Question], *, exam: Exam, task_id: int | None = None, domain_id: int | None = None
) -> QuerySet[Question]:
    """The versions among ``queryset`` that a version's coverage counts under one of its tasks (or domains):
    written for it there, or carried over and placed there, of a type its forms take (as ``questions_placed``)."""
    if task_id is not None:
        home, placed = Q(task_id=task_id), Placement.objects.filter(exam=exam, task_id=task_id)
    else:
        home, placed = Q(task__domain_id=domain_id), Placement.objects.filter(exam=exam, task__domain_id=domain_id)
    return queryset.filter(home | Q(pk__in=placed.values("question_id")), type__in=exam.item_types)


# Frozen versions as delivered, per process: a published, pretest or retired version (and its case study) never
# changes, so the question page reads it from here after the first time instead of in two queries. Bounded like
# the other per-process caches; cleared whole when full.
_DELIVERED: dict[int, Question] = {}
_DELIVERED_MAX = 2_000


def question_for_delivery(*, question_id: int) -> Question:
    """One version as a candidate sees it: only the parts its type has (two queries, none once a frozen version
    is cached). Each call gets its own copy of the instance; the parts it shares are only read."""
    cached = _DELIVERED.get(question_id)
    if cached is not None:
        return copy.copy(cached)
    question = Question.objects.select_related("case_study").get(pk=question_id)
    part = {"single": "choices", "multiple": "choices", "ordering": "steps", "matching": "pairs"}[question.type]
    ordering = {"choices": ("order", "id"), "steps": ("position", "id"), "pairs": ("order", "id")}[part]
    model = {"choices": Choice, "steps": OrderingStep, "pairs": MatchPair}[part]
    prefetch_related_objects([question], Prefetch(part, queryset=model.objects.order_by(*ordering)))
    if question.status in LOCKED_STATUSES:
        if len(_DELIVERED) >= _DELIVERED_MAX:
            _DELIVERED.clear()
        _DELIVERED[question_id] = copy.copy(question)
    return question


def question_versions(*, question: Question) -> QuerySet[Question]:
    return Question.objects.filter(family=question.family).order_by("-version")


def match_responses(question: Question) -> list[str]:
    """The distinct responses of a matching item, in authored order (pairs first, then unused ones)."""
    seen: dict[str, None] = {}
    for pair in question.pairs.all():
        seen.setdefault(pair.response, None)
    return list(seen)


@dataclass
class TaskCoverage:
    code: str
    title: str
    target_share: float
    pk: int = 0  # the task's id: the question list filters by it (``blueprint_task``)
    published: int = 0
    pretest: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    objectives: int = 0
    objectives_uncovered: list[Objective] = field(default_factory=list)

    @property
    def type_cells(self) -> list[tuple[str, str, int]]:
        """(type, its label, published items of it), in the order of the page's columns."""
        return [(kind, QuestionType(kind).label.lower(), count) for kind, count in self.by_type.items()]


@dataclass
class DomainCoverage:
    number: int
    title: str
    weight: int
    pk: int = 0  # the domain's id: the question list filters by it (``blueprint_domain``)
    tasks: list[TaskCoverage] = field(default_factory=list)
    published: int = 0
    share: float = 0.0


@dataclass
class Coverage:
    exam: Exam
    domains: list[DomainCoverage]
    published: int
    pretest: int
    objectives: int
    objectives_uncovered: int
    types: list[tuple[str, str]]

    @property
    def task_count(self) -> int:
        return sum(len(domain.tasks) for domain in self.domains)


def skill_published_counts(*, exam: Exam) -> Counter[int]:
    """Published items per skill (objective id) of a version: items written for it and items placed in it, of the
    types its forms take. Two queries."""
    counts: Counter[int] = Counter()
    counts.update(
        Objective.objects.filter(
            task__domain__exam=exam, questions__status=QuestionStatus.PUBLISHED, questions__type__in=exam.item_types
        ).values_list("pk", flat=True)
    )
    counts.update(
        Objective.objects.filter(
            placements__exam=exam,
            placements__question__status=QuestionStatus.PUBLISHED,
            placements__question__type__in=exam.item_types,
        ).values_list("pk", flat=True)
    )
    return counts


def bank_coverage(*, exam: Exam) -> Coverage:
    """Published items per domain and task against the blueprint, and the objectives with no published item.

    Items count under their task in this version: their own, or their placement's when carried over from the
    version it replaces. A handful of queries whatever the bank's size.
    """
    counts = Counter(
        (question.task_id, question.type, question.status)
        for question in questions_placed(exam=exam, statuses=[QuestionStatus.PUBLISHED, QuestionStatus.PRETEST])
    )
    covered = skill_published_counts(exam=exam)
    types = [(kind, label) for kind, label in QuestionType.choices if exam.takes(kind)]
    objectives = list(Objective.objects.filter(task__domain__exam=exam).select_related("task__domain"))
    domains: dict[int, DomainCoverage] = {}
    tasks: dict[int, TaskCoverage] = {}
    tasks_per_domain = Counter(objective.task.domain_id for objective in objectives if objective.order == 1)
    for objective in objectives:
        task, domain = objective.task, objective.task.domain
        if domain.id not in domains:
            domains[domain.id] = DomainCoverage(domain.number, domain.title, domain.weight, domain.id)
        if task.id not in tasks:
            coverage = TaskCoverage(task.code, task.title, domain.weight / max(tasks_per_domain[domain.id], 1), task.id)
            for kind, _ in types:  # in the order of the page's columns
                coverage.by_type[kind] = counts[(task.id, kind, QuestionStatus.PUBLISHED)]
                coverage.pretest += counts[(task.id, kind, QuestionStatus.PRETEST)]
            coverage.published = sum(coverage.by_type.values())
            tasks[task.id] = coverage
            domains[domain.id].tasks.append(coverage)
            domains[domain.id].published += coverage.published
        tasks[task.id].objectives += 1
        if objective.id not in covered:
            tasks[task.id].objectives_uncovered.append(objective)
    published = sum(domain.published for domain in domains.values())
    for domain in domains.values():
        domain.share = 100 * domain.published / published if published else 0.0
    return Coverage(
        exam=exam,
        domains=sorted(domains.values(), key=lambda d: d.number),
        published=published,
        pretest=sum(task.pretest for task in tasks.values()),
        objectives=len(objectives),
        objectives_uncovered=sum(len(task.objectives_uncovered) for task in tasks.values()),
        types=types,
    )


def item_media_for_user(*, user, media_id: object, name: str) -> ItemMedia | None:
    """The media file if ``user`` may see its item: staff who may view questions see every file; a candidate sees
    the files of items that are delivered (a published or pretest version in the family) or that they met in an
    attempt. Checked by family because a new version keeps referring to the files of the version it came from."""
    from apps.exams.models import AttemptItem  # exams depends on questions, not the other way round

    media = ItemMedia.objects.select_related("question").filter(pk=media_id, name=name).first()
    if media is None or not user.is_authenticated:
        return None
    if user.is_staff and user.has_perm("questions.view_question"):
        return media
    family = media.question.family
    if Question.objects.filter(family=family, status__in=DELIVERABLE_STATUSES).exists():
        return media
    if AttemptItem.objects.filter(attempt__candidate=user, question__family=family).exists():
        return media
    return None
