"""Import a file of questions: parse it, check it against the syllabus and the bank, then write all of it or none.

Every door (``import_questions``, the admin upload page, the Celery task behind it) calls ``questions_import``.
One import is one transaction: any error anywhere means nothing is written, and the report names the file,
the place (line or XML element path) and the reason. A dry run produces the same report without writing.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core.enqueue import PUBLISH_RETRY_POLICY
from apps.questions.interchange.base import Case, Item, MediaFile, ParseResult, Problem, normalised_key
from apps.questions.interchange.formats import upload_parse
from apps.questions.models import (
    CaseStudy,
    CategoryTask,
    ImmutableQuestionError,
    Question,
    QuestionImport,
    QuestionStatus,
)
from apps.questions.rules import ChoiceDraft, PairDraft, QuestionDraft, StepDraft, normalise_loose
from apps.questions.selectors import questions_with_parts
from apps.questions.services import (
    QuestionInvalidError,
    case_study_is_editable,
    draft_content_hash,
    item_media_add,
    question_create,
    question_update,
    question_validate,
)
from apps.syllabus.models import Exam, Task

KEEP_STATUS = "keep"
IMPORT_STATUSES = (
    QuestionStatus.DRAFT,
    QuestionStatus.IN_REVIEW,
    QuestionStatus.PUBLISHED,
    QuestionStatus.PRETEST,
    KEEP_STATUS,
)
ASYNC_THRESHOLD = 200  # imports with more items than this run as a Celery task with a progress bar
IMPORT_TIME_LIMIT = 1900  # seconds; the Celery task's hard limit

Progress = Callable[[int, int], None]


@dataclass
class PlannedItem:
    """One item of the file and what the import does with it."""

    location: str
    ref: str
    type: str
    stem: str
    task: str
    status: str
    action: str  # create, update, new_version, retag, unchanged, duplicate
    note: str = ""
    gaps: list[str] = field(default_factory=list)
    # What the candidate will choose from, as the preview shows it: {"text", "key"}; steps in their correct
    # order, pairs as "prompt → response" (``key`` is None for those: the order or the pairing is the answer).
    options: list[dict] = field(default_factory=list)
    question_id: int | None = None  # the version in the bank once imported (created, updated or already there)


@dataclass
class ImportReport:
    filename: str
    format: str
    dry_run: bool
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    items: list[PlannedItem] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)

    @property
    def to_write(self) -> int:
        return sum(1 for item in self.items if item.action in {"create", "update", "new_version"})

    @property
    def unmapped(self) -> int:
        return sum(1 for item in self.items if not item.task and item.action != "duplicate")

    @property
    def by_type(self) -> dict[str, int]:
        return dict(Counter(item.type for item in self.items if item.action in {"create", "update", "new_version"}))

    def summary(self) -> str:
        """One paragraph for a terminal or a message: what was (or would be) written and what was left out."""
        if self.errors:
            return f"{self.filename}: nothing imported; {len(self.errors)} error(s)."
        verb = "would import" if self.dry_run else "imported"
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.by_type.items())) or "none"
        parts = [f"{self.filename} ({self.format}): {verb} {self.to_write} item(s) ({kinds})"]
        for action, label in (
            ("new_version", "as new versions"),
            ("update", "as updates"),
            ("retag", "with a new concept tag only"),
            ("unchanged", "unchanged"),
            ("duplicate", "duplicates skipped"),
        ):
            if self.count(action):
                parts.append(f"{self.count(action)} {label}")
        unsupported = len(self.skipped) - self.count("duplicate")
        if unsupported:
            parts.append(f"{unsupported} unsupported question(s) skipped")
        if self.unmapped:
            parts.append(f"{self.unmapped} without a task, waiting to be mapped")
        return "; ".join(parts) + "."

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        """The report stored with an upload (an upload that never got one reads as an empty report)."""
        report = cls(
            filename=data.get("filename", ""), format=data.get("format", ""), dry_run=data.get("dry_run", True)
        )
        for name in ("errors", "skipped", "warnings", "cases", "written"):
            if name in data:
                setattr(report, name, data[name])
        report.items = [PlannedItem(**item) for item in data.get("items", [])]
        return report


def category_tasks(*, exam: Exam) -> dict[str, str]:
    """The category → task code mappings remembered for ``exam``."""
    return dict(CategoryTask.objects.filter(exam=exam).values_list("category", "task__code"))


def category_tasks_read(*, text: str, filename: str, exam: Exam) -> tuple[dict[str, Task], list[str]]:
    """A category → task map from CSV (``category,task`` per line; a header line is optional). Every problem
    names the file and line; a task must be one of ``exam``'s."""
    tasks = {task.code: task for task in Task.objects.filter(domain__exam=exam).select_related("domain__exam")}
    mapping: dict[str, Task] = {}
    errors: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and [cell.lower() for cell in cells] == ["category", "task"]):
            continue
        if len(row) != 2:
            errors.append(f"{filename}: line {number}: expected two columns, category and task; found {len(row)}.")
            continue
        category, code = cells
        if not category:
            errors.append(f"{filename}: line {number}: the category is empty.")
        elif code not in tasks:
            errors.append(f"{filename}: line {number}: {code!r} is not a task of {exam.code} (e.g. 1.2).")
        elif category in mapping and mapping[category].code != code:
            errors.append(f"{filename}: line {number}: category {category!r} is mapped twice, to different tasks.")
        else:
            mapping[category] = tasks[code]
    return mapping, errors


def _in_file(filename: str, problem: Problem) -> str:
    """A problem prefixed with the uploaded file's name, unless its location already starts with it (a QTI
    item file names itself; inside a ZIP it names the member, which the package's name then precedes)."""
    text = str(problem)
    return text if text == filename or text.startswith(f"{filename}:") else f"{filename}: {text}"


def _label(question: Question) -> str:
    return f"{question.ref or f'#{question.pk}'} v{question.version}"


def _content_key(draft: QuestionDraft, case_ref: str) -> str:
    """Duplicates share stem, options and keys in the same setting: a case study's item is read against its
    scenario."""
    return f"{case_ref}|{normalised_key(draft)}"


def _near_keys(draft: QuestionDraft, case_ref: str) -> list[tuple[str, str]]:
    """Keys under which two different items are probably the same question: (key, how they differ)."""
    return [
        (f"{case_ref}|{normalised_key(draft, keys=False)}", "the same stem and options with a different key"),
        (
            f"{case_ref}|{normalised_key(draft, keys=False, normaliser=normalise_loose)}",
            "a stem and options that differ only in symbols or punctuation",
        ),
    ]


@dataclass
class _Seen:
    """Content keys already met, each with the label of the first item that had it."""

    exact: dict[str, str] = field(default_factory=dict)
    near: dict[str, str] = field(default_factory=dict)

    def add(self, draft: QuestionDraft, case_ref: str, label: str) -> None:
        self.exact.setdefault(_content_key(draft, case_ref), label)
        for key, _how in _near_keys(draft, case_ref):
            self.near.setdefault(key, label)

    def near_match(self, draft: QuestionDraft, case_ref: str) -> tuple[str, str] | None:
        for key, how in _near_keys(draft, case_ref):
            if key in self.near:
                return self.near[key], how
        return None


def _near_duplicate(draft: QuestionDraft, case_ref: str, *, file: _Seen, bank: _Seen) -> str:
    """How ``draft`` nearly duplicates an item met earlier in the file or in the bank, naming it; or ""."""
    for seen, where in ((file, "in this file"), (bank, "in the bank")):
        if match := seen.near_match(draft, case_ref):
            other, how = match
            return f"{how} as {other} {where}"
    return ""


def _bank_keys(exam: Exam) -> _Seen:
    """Content keys over every version in the bank (duplicates of retired ones count)."""
    seen = _Seen()
    queryset = Question.objects.filter(Q(task__domain__exam=exam) | Q(task__isnull=True)).order_by("pk")
    for question in questions_with_parts(queryset, objectives=False):
        draft = QuestionDraft(
            type=question.type,
            stem=question.stem,
            choices=[ChoiceDraft(choice.text, correct=choice.is_correct) for choice in question.choices.all()],
            steps=[StepDraft(step.text) for step in question.steps.all()],
            pairs=[PairDraft(pair.prompt or None, pair.response) for pair in question.pairs.all()],
        )
        seen.add(draft, question.case_study.ref if question.case_study else "", _label(question))
    return seen


def _families(items: list[Item]) -> dict[str, list[Question]]:
    """Existing versions per family id and per ref for the native items that name them, oldest first."""
    refs = {item.ref for item in items if item.ref}
    families = {item.family for item in items if item.family}
    found: dict[str, list[Question]] = {}
    for question in Question.objects.filter(Q(ref__in=refs) | Q(family__in=families)).order_by("version"):
        found.setdefault(f"family:{question.family}", []).append(question)
        if question.ref:
            found.setdefault(f"ref:{question.ref}", []).append(question)
    return found


def questions_import(
    *,
    data: bytes,
    filename: str,
    exam: Exam,
    fmt: str = "auto",
    status: str = QuestionStatus.DRAFT,
    task: str = "",
    categories: dict[str, str] | None = None,
    author=None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``data`` (a file named ``filename``) into ``exam``'s bank, or only report what would happen.

    Items arrive with ``status`` (``keep`` keeps the statuses a native file states). An item whose file names
    no task takes the one its source category maps to (``categories``, then the mappings remembered for
    ``exam``), else ``task``; items left without one are imported as drafts waiting for an instructor to map
    them. Duplicates of items already in the bank (same normalised stem, options and key) are reported and
    skipped; near duplicates are imported with a warning naming both.
    """
    parsed = upload_parse(data=data, filename=filename, fmt=fmt, max_bytes=settings.IMPORT_MAX_BYTES)
    report = ImportReport(filename=filename, format=parsed.format, dry_run=dry_run)
    report.skipped = [_in_file(filename, problem) for problem in parsed.skipped]
    warnings = [_in_file(filename, problem) for problem in parsed.warnings]
    # A parser may note a warning both where it was found and on the item: report it once, where it was found.
    noted = {problem.message for problem in parsed.warnings}
    warnings += [
        _in_file(filename, Problem(item.location, warning))
        for item in parsed.items
        for warning in item.warnings
        if warning not in noted
    ]
    report.warnings = list(dict.fromkeys(warnings))
    report.errors = [_in_file(filename, problem) for problem in parsed.errors]
    if status not in IMPORT_STATUSES:
        report.errors.append(f"status {status!r} is not one of {', '.join(IMPORT_STATUSES)}.")
    if status == KEEP_STATUS and parsed.format != "native":
        report.errors.append("status 'keep' is only for native files, which state each item's status.")
    if task and not Task.objects.filter(domain__exam=exam, code=task).exists():
        report.errors.append(f"task {task!r} is not part of {exam.code}.")
    if not parsed.items and not parsed.errors:
        report.errors.append(f"{filename}: no question in this file can be imported.")
    if report.errors:
        return report
    try:
        with transaction.atomic():
            cases = _cases_plan(parsed, report, dry_run=dry_run)
            category_map = {**category_tasks(exam=exam), **(categories or {})}
            planned = _items_plan(parsed, report, exam=exam, status=status, task=task, categories=category_map)
            if report.errors:
                transaction.set_rollback(True)  # case studies the plan created go too
                return report
            if dry_run:
                return report
            _write(planned, report, cases=cases, exam=exam, author=author, progress=progress)
            if report.errors:
                transaction.set_rollback(True)
                return report
            report.written = True
    except QuestionInvalidError as exc:  # a rule the plan could not foresee; the transaction is rolled back
        report.errors.append(f"{filename}: {exc}")
    except (IntegrityError, ImmutableQuestionError) as exc:  # e.g. a family and version the bank already holds
        report.errors.append(f"{filename}: conflicts with the bank ({exc}); nothing was imported.")
    return report


def _cases_plan(parsed: ParseResult, report: ImportReport, *, dry_run: bool) -> dict[str, CaseStudy | None]:
    """Case studies by ref: existing ones (updated if still editable), new ones created unless dry run."""
    cases: dict[str, CaseStudy | None] = {}
    file_cases: dict[str, Case] = {}
    for case in parsed.cases:
        if not case.ref:
            report.errors.append(f"{report.filename}: {case.location}: a case study needs a ref.")
            continue
        file_cases[case.ref] = case
    existing = {case.ref: case for case in CaseStudy.objects.filter(ref__in=file_cases)}
    for ref, case in file_cases.items():
        study = existing.get(ref)
        if study is not None and (study.title, study.scenario) != (case.title, case.scenario):
            if not case_study_is_editable(study):
                report.errors.append(
                    f"{report.filename}: {case.location}: case study {ref} is in use by published items and "
                    "cannot change; give the changed scenario a new ref."
                )
                continue
            if not dry_run:
                study.title, study.scenario = case.title, case.scenario
                study.save()
        if study is None and not dry_run:
            study = CaseStudy.objects.create(ref=ref, title=case.title or ref, scenario=case.scenario)
        cases[ref] = study
        report.cases.append(ref)
    missing = {item.case_ref for item in parsed.items if item.case_ref} - set(cases)
    for ref in sorted(missing):
        study = CaseStudy.objects.filter(ref=ref).first()
        if study is None:
            report.errors.append(f"{report.filename}: items refer to case study {ref!r}, which is not in the file.")
        cases[ref] = study
    return cases


def _options_shown(draft: QuestionDraft) -> list[dict]:
    """The options of a draft as the import preview lists them, keys marked (texts cut to keep reports small)."""
    if draft.choices:
        return [{"text": choice.text[:300], "key": choice.correct} for choice in draft.choices]
    if draft.steps:
        return [{"text": f"{n}. {step.text[:300]}", "key": None} for n, step in enumerate(draft.steps, start=1)]
    return [
        {"text": f"{pair.prompt[:150]} → {pair.response[:150]}" if pair.prompt else f"(unused) {pair.response}"[:300],
         "key": None}
        for pair in draft.pairs
    ]  # fmt: skip


def _items_plan(
    parsed: ParseResult, report: ImportReport, *, exam: Exam, status: str, task: str, categories: dict[str, str]
) -> list[tuple[Item, PlannedItem, Question | None]]:
    """Decide what happens to each item and check it against every rule its status needs."""
    bank_keys = _bank_keys(exam)
    families = _families(parsed.items) if parsed.format == "native" else {}
    taken_refs = set(
        Question.objects.filter(ref__in=[item.ref for item in parsed.items if item.ref]).values_list("ref", flat=True)
    )
    seen: dict[str, tuple[str, str]] = {}  # content key → (location, family) of its first item in the file
    seen_near = _Seen()  # the file's items so far, for near duplicates
    planned: list[tuple[Item, PlannedItem, Question | None]] = []
    for item in parsed.items:
        draft = item.draft
        if status != KEEP_STATUS:
            draft.status = status
        if not draft.task and draft.category in categories:
            draft.task = categories[draft.category]
        if not draft.task and task:
            draft.task = task
        versions = families.get(f"family:{item.family}") or families.get(f"ref:{item.ref}") if families else None
        plan = PlannedItem(item.location, item.ref, draft.type, draft.stem[:160], draft.task, draft.status, "create")
        plan.options = _options_shown(draft)
        current = versions[-1] if versions else None
        key = _content_key(draft, item.case_ref)
        if current is not None:
            digest = draft_content_hash(draft, case_ref=item.case_ref, case_order=item.case_order)
            if digest in {version.content_hash for version in versions}:
                plan.action, plan.note = "unchanged", f"already in the bank as {_label(current)}"
                # The concept tag is not content: a native file (which carries it) retags the whole item in place.
                if parsed.format == "native" and current.concept != draft.concept:
                    plan.action, plan.note = "retag", f"concept of {_label(current)} becomes {draft.concept or 'none'}"
            elif current.is_locked:
                plan.action, plan.note = "new_version", f"next version after {_label(current)}"
            else:
                plan.action, plan.note = "update", f"replaces the content of {_label(current)}"
        elif key in seen and not (item.family and seen[key][1] == item.family):
            plan.action, plan.note = "duplicate", f"same stem, options and key as {seen[key][0]} in this file"
        elif key in bank_keys.exact:
            plan.action, plan.note = "duplicate", f"same stem, options and key as {bank_keys.exact[key]} in the bank"
        elif near := _near_duplicate(draft, item.case_ref, file=seen_near, bank=bank_keys):
            report.warnings.append(
                f"{report.filename}: {item.location}{f' ({item.ref})' if item.ref else ''}: imported, but it has "
                f"{near}: check that both are meant."
            )
        if plan.action == "create" and item.ref in taken_refs:
            report.warnings.append(
                f"{report.filename}: {item.location}: ref {item.ref!r} already names another item; "
                "imported without a ref."
            )
            item.ref = plan.ref = ""
        seen.setdefault(key, (item.location, item.family))
        seen_near.add(draft, item.case_ref, item.location)
        if plan.action == "duplicate":
            report.skipped.append(f"{report.filename}: {item.location}: duplicate, {plan.note}.")
        if plan.action in {"create", "update", "new_version"}:
            errors, gaps, _task, _objectives = question_validate(draft=draft, exam=exam, allow_gaps=True)
            who = f" ({item.ref})" if item.ref else ""
            report.errors += [f"{report.filename}: {item.location}{who}: {error}" for error in errors]
            plan.gaps = [str(gap) for gap in gaps]
        report.items.append(plan)
        planned.append((item, plan, current))
    return planned


def _write(
    planned: list[tuple[Item, PlannedItem, Question | None]],
    report: ImportReport,
    *,
    cases: dict[str, CaseStudy | None],
    exam: Exam,
    author,
    progress: Progress | None,
) -> None:
    total = len(planned)
    for done, (item, plan, current) in enumerate(planned, start=1):
        case = cases.get(item.case_ref) if item.case_ref else None
        media: list[tuple[uuid.UUID, str, MediaFile]] = []
        if item.media and plan.action in {"update", "create", "new_version"}:
            item.draft, media = _media_bound(item)
        try:
            if plan.action == "update" and current is not None:
                plan.question_id = question_update(question=current, draft=item.draft, exam=exam, allow_gaps=True).pk
            elif plan.action in {"retag", "unchanged"} and current is not None:
                plan.question_id = current.pk
                if plan.action == "retag":
                    Question.objects.filter(family=current.family).update(concept=item.draft.concept)
            elif plan.action in {"create", "new_version"}:
                # A new item keeps the family and version a native file gives; a new version follows its family.
                if current is not None:
                    ref, family, version = current.ref, current.family, max(current.version + 1, item.version or 0)
                else:
                    ref, family, version = item.ref, uuid.UUID(item.family) if item.family else None, item.version or 1
                plan.question_id = question_create(
                    draft=item.draft,
                    exam=exam,
                    author=author,
                    ref=ref,
                    case_study=case,
                    case_order=item.case_order,
                    family=family,
                    version=version,
                    allow_gaps=True,
                ).pk
            if media and plan.question_id is not None:
                question = Question.objects.get(pk=plan.question_id)
                for media_id, name, file in media:
                    item_media_add(
                        question=question, media_id=media_id, name=name, data=file.data, content_type=file.content_type
                    )
        except QuestionInvalidError as exc:
            report.errors += [f"{report.filename}: {item.location}: {error}" for error in exc.errors]
        if progress is not None and (done % 25 == 0 or done == total):
            progress(done, total)


def _media_bound(item: Item) -> tuple[QuestionDraft, list[tuple[uuid.UUID, str, MediaFile]]]:
    """The item's draft with every ``media:<name>`` made ``media:<id>/<name>`` (a fresh id per file, which the
    serving URL uses), and the files to store under those ids. Files no text uses are not stored."""
    draft = item.draft
    texts = [draft.stem, draft.explanation]
    texts += [text for choice in draft.choices for text in (choice.text, choice.rationale)]
    texts += [text for step in draft.steps for text in (step.text, step.rationale)]
    texts += [text or "" for pair in draft.pairs for text in (pair.prompt, pair.response, pair.rationale)]
    everything = "\n".join(texts)
    ids = {key: uuid.uuid4() for key in item.media if f"media:{key})" in everything}
    if not ids:
        return draft, []
    # A key is a file name, or ``<id>/<name>`` from a native export: the file keeps its name, under a new id.
    names: dict[str, str] = {}
    for key in ids:
        name, number = key.rsplit("/", 1)[-1], 1
        stem, dot, extension = name.rpartition(".")
        while name in names.values():
            number += 1
            name = f"{stem}-{number}{dot}{extension}"
        names[key] = name
    pattern = re.compile(r"\(media:(" + "|".join(re.escape(key) for key in ids) + r")\)")

    def bind(text: str) -> str:
        if not text:
            return text
        return pattern.sub(lambda match: f"(media:{ids[match.group(1)]}/{names[match.group(1)]})", text)

    draft = replace(
        draft,
        stem=bind(draft.stem),
        explanation=bind(draft.explanation),
        choices=[replace(c, text=bind(c.text), rationale=bind(c.rationale)) for c in draft.choices],
        steps=[replace(s, text=bind(s.text), rationale=bind(s.rationale)) for s in draft.steps],
        pairs=[
            replace(
                p,
                prompt=bind(p.prompt) if p.prompt else p.prompt,
                response=bind(p.response),
                rationale=bind(p.rationale),
            )
            for p in draft.pairs
        ],
    )
    return draft, [(media_id, names[key], item.media[key]) for key, media_id in ids.items()]


# --- the admin's upload → preview → confirm flow ---------------------------------------------------------


def import_progress_key(import_id: object) -> str:
    return f"question-import:{import_id}:progress"


def import_progress(job: QuestionImport) -> tuple[int, int]:
    """(done, total) of a running import. Kept in the cache: the import's own transaction hides its rows."""
    done, total = cache.get(import_progress_key(job.pk), (0, 0))
    return done, total or len(job.report.get("items", []))


def question_import_stage(
    *, data: bytes, filename: str, exam: Exam, user, fmt: str = "auto", status: str = "draft", task: str = ""
) -> QuestionImport:
    """Keep an upload and its dry-run report for the instructor to confirm."""
    report = questions_import(
        data=data, filename=filename, exam=exam, fmt=fmt, status=status, task=task, author=user, dry_run=True
    )
    return QuestionImport.objects.create(
        uploaded_by=user,
        exam=exam,
        filename=filename[:255],
        format=fmt,
        status=status,
        task=task,
        data=data if report.ok else b"",
        state=QuestionImport.State.PREVIEWED if report.ok else QuestionImport.State.FAILED,
        report=report.as_dict(),
    )


class ImportQueueUnavailableError(Exception):
    """The task queue could not take a large import; the upload stays previewed, to be confirmed again."""


def question_import_confirm(*, job: QuestionImport) -> QuestionImport:
    """Import a previewed upload: now, or in a Celery task when it has more than ASYNC_THRESHOLD items."""
    from apps.questions.tasks import question_import_run as run_task

    claimed = QuestionImport.objects.filter(pk=job.pk, state=QuestionImport.State.PREVIEWED).update(
        state=QuestionImport.State.QUEUED, updated_at=timezone.now()
    )
    if claimed and len(job.report.get("items", [])) > ASYNC_THRESHOLD:
        cache.set(import_progress_key(job.pk), (0, len(job.report["items"])), timeout=24 * 3600)
        try:
            run_task.apply_async((str(job.pk),), retry_policy=PUBLISH_RETRY_POLICY)
        except OperationalError as exc:
            QuestionImport.objects.filter(pk=job.pk).update(state=QuestionImport.State.PREVIEWED)
            raise ImportQueueUnavailableError from exc
    elif claimed:
        question_import_run(import_id=job.pk)
    job.refresh_from_db()
    return job


def question_import_run(*, import_id: object) -> None:
    """Run a queued import once (a duplicate task finds nothing to claim) and record its report.

    A run whose worker died (its transaction rolled back, the message comes back to another worker) is claimed
    again once it is older than the task's time limit.
    """
    stale = timezone.now() - timedelta(seconds=IMPORT_TIME_LIMIT + 60)
    claimable = Q(state=QuestionImport.State.QUEUED) | Q(state=QuestionImport.State.RUNNING, updated_at__lt=stale)
    claimed = QuestionImport.objects.filter(claimable, pk=import_id).update(
        state=QuestionImport.State.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    job = QuestionImport.objects.select_related("uploaded_by", "exam").get(pk=import_id)

    def progress(done: int, total: int) -> None:
        cache.set(import_progress_key(job.pk), (done, total), timeout=24 * 3600)

    report = questions_import(
        data=bytes(job.data),
        filename=job.filename,
        exam=job.exam,
        fmt=job.format,
        status=job.status,
        task=job.task,
        author=job.uploaded_by,
        progress=progress,
    )
    job.report = report.as_dict()
    job.state = QuestionImport.State.DONE if report.written else QuestionImport.State.FAILED
    job.data = b""
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "state", "data", "finished_at", "updated_at"])


# --- the shipped bank ---------------------------------------------------------------------------------


class BankLoadError(Exception):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


@dataclass
class BankLoadResult:
    created: int = 0
    updated: int = 0
    new_versions: int = 0
    unchanged: int = 0
    case_studies: int = 0


def bank_load(*, text: str, filename: str, exam: Exam, author=None) -> BankLoadResult:
    """Load a native bank document (the shipped fixtures), idempotently: unchanged items are skipped, changed
    drafts updated in place, changed frozen items get a new version. Any error rolls the whole file back.

    The same import as every other door, with the statuses the file states.
    """
    report = questions_import(
        data=text.encode(), filename=filename, exam=exam, fmt="native", status=KEEP_STATUS, author=author
    )
    if report.errors:
        raise BankLoadError(report.errors)
    return BankLoadResult(
        created=report.count("create"),
        updated=report.count("update") + report.count("retag"),
        new_versions=report.count("new_version"),
        unchanged=report.count("unchanged"),
        case_studies=len(report.cases),
    )
