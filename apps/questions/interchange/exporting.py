"""Export versions from the bank in one of the writable formats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Max, OuterRef, QuerySet, Subquery

from apps.questions.interchange.base import Case, ExportResult, Item, MediaFile, Problem
from apps.questions.interchange.formats import FORMATS, module
from apps.questions.models import ItemMedia, Question
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
    _media_load(items)
    return items, list(cases.values())


_MEDIA_REF_RE = re.compile(r"\(media:([0-9a-f-]{36})/([^)\s]+)\)")


def _media_load(items: list[Item]) -> None:
    """Each item's images and audio, found by the references in its texts: a new version refers to the files
    of the version it came from, so the files are looked up by id, not by the version that owns them."""
    wanted: dict[str, list[Item]] = {}
    for item in items:
        draft = item.draft
        texts = [draft.stem, draft.explanation, *(c.text for c in draft.choices), *(c.rationale for c in draft.choices)]
        texts += [text for step in draft.steps for text in (step.text, step.rationale)]
        texts += [text or "" for pair in draft.pairs for text in (pair.prompt, pair.response, pair.rationale)]
        joined = "\n".join(texts)
        if "(media:" not in joined:
            continue
        for match in _MEDIA_REF_RE.finditer(joined):
            wanted.setdefault(match.group(1), []).append(item)
    if not wanted:
        return
    for media in ItemMedia.objects.filter(pk__in=list(wanted)):
        try:
            with media.file.open("rb") as handle:
                file = MediaFile(handle.read(), media.content_type)
        except OSError:  # the storage lost the file: the export goes on, the reference stays as it is
            continue
        for item in wanted[str(media.pk)]:
            item.media[f"{media.pk}/{media.name}"] = file


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


@dataclass(frozen=True)
class LossGroup:
    """One reason a format loses something, with the items it applies to (by ref, in export order)."""

    reason: str
    items: list[str]
    shown: int = 5  # how many items to name before "and N more"

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def examples(self) -> str:
        """``t11-001, t11-002 and 428 more``: a few items by ref, then how many others."""
        named, more = self.items[: self.shown], len(self.items) - self.shown
        if more > 0:
            return f"{', '.join(named)} and {more:,} more"
        return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"

    @property
    def items_label(self) -> str:
        return f"{self.count:,} item{'s' if self.count != 1 else ''}"

    def __str__(self) -> str:
        return f"{self.items_label} ({self.examples}): {self.reason}"


def export_losses_grouped(losses: list[Problem]) -> list[LossGroup]:
    """What a format could not carry, one group per reason, most frequent first (then in order of first
    appearance): an export of the whole bank loses the same thing from hundreds of items."""
    by_reason: dict[str, list[str]] = {}
    for loss in losses:
        # Locations read "item <ref>" (or "item <n>" without a ref); the group already says they are items.
        by_reason.setdefault(loss.message, []).append(loss.location.removeprefix("item ") or "(no ref)")
    groups = [LossGroup(reason, items) for reason, items in by_reason.items()]
    return sorted(groups, key=lambda group: -group.count)
