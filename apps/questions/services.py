"""Writes to the question bank. Every door (admin, API, importers, fixtures) goes through these."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet, prefetch_related_objects
from django.utils import timezone

from apps.questions.models import (
    DELIVERABLE_STATUSES,
    LOCKED_STATUSES,
    CaseStudy,
    CategoryTask,
    Choice,
    ItemMedia,
    MatchPair,
    OrderingStep,
    Question,
    QuestionReport,
    QuestionStatus,
)
from apps.questions.placements import placements_follow
from apps.questions.rules import (
    ChoiceDraft,
    PairDraft,
    QuestionDraft,
    RuleError,
    StepDraft,
    code_key,
    publication_errors,
    validate_question,
)
from apps.syllabus.models import Exam, ItemType, Objective, Task

# Allowed status moves. Publishing (or pretest) freezes the version; retired versions can be reinstated.
TRANSITIONS: dict[str, set[str]] = {
    QuestionStatus.DRAFT: {QuestionStatus.IN_REVIEW, QuestionStatus.PUBLISHED, QuestionStatus.PRETEST},
    QuestionStatus.IN_REVIEW: {QuestionStatus.DRAFT, QuestionStatus.PUBLISHED, QuestionStatus.PRETEST},
    QuestionStatus.PRETEST: {QuestionStatus.PUBLISHED, QuestionStatus.RETIRED},
    QuestionStatus.PUBLISHED: {QuestionStatus.RETIRED},
    QuestionStatus.RETIRED: {QuestionStatus.PUBLISHED},
}


class QuestionInvalidError(Exception):
    """The item breaks authoring rules; ``errors`` says which field and why."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


def question_to_draft(question: Question) -> QuestionDraft:
    """The plain draft of a saved version, for validation, hashing and export.

    Uses prefetched parts and objectives when the caller loaded them (``questions_with_parts``). Objectives
    always belong to the item's own task, so their codes need no join.
    """
    task = question.task.code if question.task_id else ""
    return QuestionDraft(
        type=question.type,
        stem=question.stem,
        explanation=question.explanation,
        task=task,
        objectives=[f"{task}.{order}" for order in sorted(o.order for o in question.objectives.all())],
        difficulty=question.difficulty,
        angoff=question.angoff,
        references=question.reference_list,
        status=question.status,
        concept=question.concept,
        name=question.name,
        category=question.category,
        tags=list(question.tags or []),
        choices=[ChoiceDraft(c.text, c.rationale, c.is_correct) for c in question.choices.all()],
        steps=[StepDraft(s.text, s.rationale) for s in question.steps.all()],
        pairs=[PairDraft(p.prompt or None, p.response, p.rationale) for p in question.pairs.all()],
    )


def draft_content_hash(draft: QuestionDraft, *, case_ref: str = "", case_order: int = 0) -> str:
    """A fingerprint of everything a candidate or reviewer would see; status is not content.

    Objectives are a set (the database keeps no order), so they are hashed in syllabus order: an item whose
    file lists them in another order is still the same item.
    """
    content = asdict(draft)
    content.pop("status")
    for key in ("concept", "name", "category", "tags"):  # tags for assembly and the source bank, not content
        content.pop(key)
    content["objectives"] = sorted(content["objectives"], key=code_key)
    content["case"] = [case_ref, case_order]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _syllabus_index(exam: Exam) -> dict[str, tuple[Task, dict[int, Objective]]]:
    """Task code → (task, objectives by order) of ``exam``, read once per Exam instance: an import validates
    thousands of drafts against the same syllabus, and a syllabus does not change while one request runs."""
    index = getattr(exam, "_syllabus_index", None)
    if index is None:
        index = {}
        for task in Task.objects.filter(domain__exam=exam).prefetch_related("objectives"):
            index[task.code] = (task, {objective.order: objective for objective in task.objectives.all()})
        exam._syllabus_index = index
    return index


def question_validate(
    *, draft: QuestionDraft, exam: Exam, allow_gaps: bool = False
) -> tuple[list[RuleError], list[RuleError], Task | None, list[Objective]]:
    """Pure rules plus the checks that need the syllabus: the task exists and the objectives are its own.

    Returns ``(errors, gaps, task, objectives)``. With ``allow_gaps`` (imports), a draft may be saved with
    completeness gaps and without a task, waiting for an instructor; every other status needs all rules, so
    the gaps are errors there. Authors writing in the admin or the API meet every rule from the start.
    """
    found = validate_question(draft)
    lenient = allow_gaps and draft.status == QuestionStatus.DRAFT
    errors = [error for error in found if not (lenient and error.completeness)]
    if not exam.takes(draft.type):
        allowed = " and ".join(ItemType(kind).label.lower() for kind in exam.item_types)
        errors.append(RuleError("type", f"{exam.code} forms use only {allowed} items."))
    gaps = [error for error in found if lenient and error.completeness]
    if not draft.task:
        if lenient:
            gaps.append(RuleError("task", "no task yet: map the item to a task before review.", completeness=True))
        else:
            errors.append(RuleError("task", "is required."))
        return errors, gaps, None, []
    syllabus = _syllabus_index(exam)
    task, by_order = syllabus.get(draft.task, (None, {}))
    if task is None:
        errors.append(RuleError("task", f"task {draft.task!r} is not part of {exam.code}."))
        return errors, gaps, None, []
    orders = []
    for code in draft.objectives:
        prefix, _, order = code.rpartition(".")
        if prefix != task.code or not order.isdigit():
            continue  # validate_question already reported it
        orders.append(int(order))
    objectives = [by_order[order] for order in dict.fromkeys(orders) if order in by_order]
    missing = sorted(set(orders) - {objective.order for objective in objectives})
    errors.extend(RuleError("objectives", f"task {task.code} has no objective {task.code}.{n}.") for n in missing)
    return errors, gaps, task, objectives


def question_check_complete(question: Question, draft: QuestionDraft | None = None) -> list[RuleError]:
    """Every rule a version must meet before review or publication (``draft``: the version's own, if read)."""
    draft = draft or question_to_draft(question)
    errors = validate_question(draft)
    if question.task_id is None:
        errors.append(RuleError("task", "map the item to a task first."))
    return errors


def _write_parts(question: Question, draft: QuestionDraft) -> None:
    Choice.objects.bulk_create(
        Choice(question=question, order=i, text=c.text, rationale=c.rationale, is_correct=c.correct)
        for i, c in enumerate(draft.choices, start=1)
    )
    OrderingStep.objects.bulk_create(
        OrderingStep(question=question, position=i, text=s.text, rationale=s.rationale)
        for i, s in enumerate(draft.steps, start=1)
    )
    MatchPair.objects.bulk_create(
        MatchPair(question=question, order=i, prompt=p.prompt or "", response=p.response, rationale=p.rationale)
        for i, p in enumerate(draft.pairs, start=1)
    )


@transaction.atomic
def question_create(
    *,
    draft: QuestionDraft,
    exam: Exam,
    author=None,
    ref: str = "",
    case_study: CaseStudy | None = None,
    case_order: int = 0,
    family=None,
    version: int = 1,
    allow_gaps: bool = False,
) -> Question:
    """Create a version from a draft and move it to the draft's status; invalid drafts save nothing."""
    errors, _gaps, task, objectives = question_validate(draft=draft, exam=exam, allow_gaps=allow_gaps)
    if errors:
        raise QuestionInvalidError(errors)
    question = Question(
        ref=ref,
        type=draft.type,
        status=QuestionStatus.DRAFT,
        task=task,
        case_study=case_study,
        case_order=case_order,
        stem=draft.stem,
        explanation=draft.explanation,
        references="\n".join(draft.references),
        difficulty=draft.difficulty,
        angoff=draft.angoff,
        concept=draft.concept,
        name=draft.name[:255],
        category=draft.category[:500],
        tags=list(draft.tags),
        author=author,
        version=version,
        content_hash=draft_content_hash(draft, case_ref=case_study.ref if case_study else "", case_order=case_order),
    )
    if family is not None:
        question.family = family
    question.save()
    if objectives:  # a new version has none yet: add, without set()'s read of the current ones
        question.objectives.add(*objectives)
    _write_parts(question, draft)
    if draft.status == QuestionStatus.RETIRED:  # a retired version (from a native file) was published once
        question_set_status(question=question, status=QuestionStatus.PUBLISHED)
    if draft.status != QuestionStatus.DRAFT:
        question_set_status(question=question, status=draft.status)
    return question


@transaction.atomic
def question_update(*, question: Question, draft: QuestionDraft, exam: Exam, allow_gaps: bool = False) -> Question:
    """Replace a draft's content. Frozen versions refuse: use question_new_version."""
    question = Question.objects.select_for_update(of=("self",)).get(pk=question.pk)
    if question.is_locked:
        raise QuestionInvalidError([RuleError("status", f"{question} is {question.status}; create a new version.")])
    errors, _gaps, task, objectives = question_validate(draft=draft, exam=exam, allow_gaps=allow_gaps)
    if errors:
        raise QuestionInvalidError(errors)
    question.type = draft.type
    question.task = task
    question.stem = draft.stem
    question.explanation = draft.explanation
    question.references = "\n".join(draft.references)
    question.difficulty = draft.difficulty
    question.concept = draft.concept
    question.name, question.category, question.tags = draft.name[:255], draft.category[:500], list(draft.tags)
    question.angoff = draft.angoff
    question.content_hash = draft_content_hash(
        draft, case_ref=question.case_study.ref if question.case_study else "", case_order=question.case_order
    )
    question.save()
    question.objectives.set(objectives)
    question.choices.all().delete()
    question.steps.all().delete()
    question.pairs.all().delete()
    _write_parts(question, draft)
    if draft.status != question.status:
        question_set_status(question=question, status=draft.status)
    placements_follow(question=question)
    return question


@transaction.atomic
def question_new_version(*, question: Question, author=None) -> Question:
    """The editable next version of an item: a copy of ``question`` as a draft.

    The copied version and its id stay exactly as they were. If the family already has an open draft,
    that draft is returned instead of a second one.
    """
    family = Question.objects.select_for_update(of=("self",)).filter(family=question.family)
    open_draft = family.filter(status__in=[QuestionStatus.DRAFT, QuestionStatus.IN_REVIEW]).first()
    if open_draft is not None:
        return open_draft
    latest = family.aggregate(latest=Max("version"))["latest"] or 0
    draft = question_to_draft(question)
    draft.status = QuestionStatus.DRAFT
    new = question_create(
        draft=draft,
        exam=question.task.domain.exam,
        author=author or question.author,
        ref=question.ref,
        case_study=question.case_study,
        case_order=question.case_order,
        family=question.family,
        version=latest + 1,
    )
    placements_follow(question=new, source=question)
    return new


@transaction.atomic
def question_set_status(*, question: Question, status: str) -> Question:
    """Move a version along draft → in review → published/pretest → retired.

    Publishing a version retires the family's previously deliverable version, so one version per item is live.
    """
    question = Question.objects.select_for_update(of=("self",)).select_related("task").get(pk=question.pk)
    if status == question.status:
        return question
    if status not in TRANSITIONS.get(question.status, set()):
        raise QuestionInvalidError([RuleError("status", f"cannot move {question} from {question.status} to {status}.")])
    if status == QuestionStatus.IN_REVIEW or status in DELIVERABLE_STATUSES:
        prefetch_related_objects([question], "objectives", "choices", "steps", "pairs")
        draft = question_to_draft(question)  # read once for every check below
        errors = question_check_complete(question, draft)
        if status in DELIVERABLE_STATUSES:
            errors += publication_errors(draft)
        if errors:
            raise QuestionInvalidError(errors)
    if status in DELIVERABLE_STATUSES:
        Question.objects.filter(family=question.family, status__in=DELIVERABLE_STATUSES).exclude(pk=question.pk).update(
            status=QuestionStatus.RETIRED, updated_at=timezone.now()
        )
        if question.published_at is None:
            question.published_at = timezone.now()
    question.status = status
    question.save(update_fields=["status", "published_at", "updated_at"])
    return question


@transaction.atomic
def questions_map_task(*, questions: QuerySet[Question], task: Task) -> tuple[int, list[str]]:
    """Give drafts (typically imported ones) a task; frozen versions are left alone and named.

    Objectives that belong to another task are dropped: the instructor picks the new task's objectives when
    completing the item. Returns (how many were mapped, the items refused and why).
    """
    mapped, refused = 0, []
    # Re-select by id: the admin's queryset may be DISTINCT (searches across parts), which cannot lock rows.
    locked = Question.objects.filter(pk__in=list(questions.values_list("pk", flat=True)))
    for question in locked.select_for_update(of=("self",)).select_related("case_study"):
        if question.is_locked:
            refused.append(f"{question} is {question.status}; create a new version to change its task.")
            continue
        question.task = task
        question.save()
        question.objectives.remove(*question.objectives.exclude(task=task))
        question.content_hash = draft_content_hash(
            question_to_draft(question),
            case_ref=question.case_study.ref if question.case_study else "",
            case_order=question.case_order,
        )
        question.save(update_fields=["content_hash", "updated_at"])
        mapped += 1
    return mapped, refused


@transaction.atomic
def category_task_remember(*, exam: Exam, category: str, task: Task) -> tuple[int, list[str]]:
    """Remember that ``category`` (a source bank's category path) holds ``task``'s questions, for later
    imports, and give that task to the category's drafts still waiting for one. Returns what
    ``questions_map_task`` returns for those drafts."""
    if task.domain.exam_id != exam.pk:
        raise QuestionInvalidError([RuleError("task", f"task {task.code} is not a task of {exam.code}.")])
    CategoryTask.objects.update_or_create(exam=exam, category=category, defaults={"task": task})
    waiting = Question.objects.filter(category=category, task__isnull=True)
    return questions_map_task(questions=waiting, task=task)


def case_study_is_editable(case_study: CaseStudy) -> bool:
    return not case_study.questions.filter(status__in=LOCKED_STATUSES).exists()


def question_report_submit(*, question: Question, reporter, reason: str, comment: str = "") -> QuestionReport:
    """File the reporter's report on this version of an item, or update their open one (one open report per
    person and version, a database constraint)."""
    fields = {"reason": reason, "comment": comment.strip()[: QuestionReport.COMMENT_MAX]}
    for _ in range(2):  # a second submit racing the first hits the constraint; the retry updates its row
        try:
            with transaction.atomic():
                report, _created = QuestionReport.objects.update_or_create(
                    question=question, reporter=reporter, status=QuestionReport.Status.OPEN, defaults=fields
                )
                return report
        except IntegrityError:
            continue
    raise IntegrityError("question report: could not file or update the open report")


def question_reports_close(*, reports: QuerySet[QuestionReport], by, status: str, note: str) -> int:
    """Close the open reports among ``reports`` as fixed or dismissed, with the instructor's note on what was done
    (the candidate's record of why their report closed); returns how many were closed."""
    if status not in (QuestionReport.Status.RESOLVED, QuestionReport.Status.DISMISSED):
        raise ValueError(f"reports are closed as resolved or dismissed, not {status!r}")
    note = note.strip()
    if not note:
        raise ValueError("a report is closed with a note saying what was done")
    return reports.filter(status=QuestionReport.Status.OPEN).update(
        status=status, note=note, closed_by=by, closed_at=timezone.now(), updated_at=timezone.now()
    )


def item_media_add(*, question: Question, media_id: uuid.UUID, name: str, data: bytes, content_type: str) -> ItemMedia:
    """Store an image or audio file of ``question`` (through the default storage) under the id its texts use in
    ``media:<id>/<name>``. A file of the same name replaces the earlier one: the texts were just rewritten."""
    ItemMedia.objects.filter(question=question, name=name).delete()
    media = ItemMedia(id=media_id, question=question, name=name, content_type=content_type, size=len(data))
    media.file.save(f"{media_id}-{name}", ContentFile(data), save=False)
    media.save()
    return media
