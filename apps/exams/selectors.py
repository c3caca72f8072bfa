"""Reads for exam delivery. Every lookup is scoped by the candidate: someone else's attempt is a 404."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple
from uuid import UUID

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.core.db import ModelColumns, planned_once_cursor
from apps.exams.models import (
    Accommodation,
    AnswerState,
    Attempt,
    AttemptItem,
    AttemptMode,
    AttemptState,
    answer_state,
)
from apps.questions.selectors import question_for_delivery
from apps.syllabus.models import Exam


def attempts_of(*, candidate) -> QuerySet[Attempt]:
    return Attempt.objects.filter(candidate=candidate)


def attempt_families_unfinished(*, candidate, modes: Iterable[str]) -> dict[UUID, tuple[int, str]]:
    """The item families in the candidate's unfinished attempts (in progress, paused ones too) of these modes,
    each with the id and mode of an attempt holding it; one query. Assembly keeps them apart: a practice or
    review set shows keys, so it must not share an item with a running mock."""
    rows = AttemptItem.objects.filter(
        attempt__candidate=candidate, attempt__state=AttemptState.IN_PROGRESS, attempt__mode__in=list(modes)
    ).values_list("question__family", "attempt_id", "attempt__mode")
    return {family: (attempt_id, mode) for family, attempt_id, mode in rows}


def attempt_for_candidate(*, candidate, attempt_id: int) -> Attempt:
    attempt = attempts_of(candidate=candidate).select_related("exam").filter(pk=attempt_id).first()
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def attempt_item_at(*, attempt: Attempt, position: int) -> AttemptItem:
    """The item at a position with its question and parts: one query, three the first time a version is shown."""
    item = AttemptItem.objects.filter(attempt=attempt, position=position).first()
    if item is None:
        raise Http404("No such question in this attempt.")
    item.question = question_for_delivery(question_id=item.question_id)
    return item


class ItemCell(NamedTuple):
    """One question as the navigator and the review screen show it (no content, no key). A named tuple: the
    question page builds 65 of them, and a frozen dataclass takes three times as long to make."""

    position: int
    state: str  # AnswerState
    flagged: bool


@dataclass
class Progress:
    total: int
    answered: int
    incomplete: int
    flagged: int
    cells: list[ItemCell] = field(default_factory=list)

    @property
    def unanswered(self) -> int:
        return self.total - self.answered - self.incomplete

    @property
    def incomplete_positions(self) -> list[int]:
        return [cell.position for cell in self.cells if cell.state == AnswerState.INCOMPLETE]

    @property
    def to_finish(self) -> int:
        """Questions still needing work: unanswered or incomplete."""
        return self.total - self.answered


def _progress(total: int, cells: list[ItemCell]) -> Progress:
    """From every item's cell, in position order."""
    states = Counter(cell.state for cell in cells)
    return Progress(
        total=total,
        answered=states[AnswerState.ANSWERED],
        incomplete=states[AnswerState.INCOMPLETE],
        flagged=sum(cell.flagged for cell in cells),
        cells=cells,
    )


def attempt_progress(*, attempt: Attempt) -> Progress:
    """Counts and the state of every question, in one query: what the navigator, the review screen, the pacing
    hint and the submit confirmation show."""
    rows = (
        AttemptItem.objects.filter(attempt=attempt)
        .order_by("position")
        .values_list("position", "answer", "complete", "flagged")
    )
    cells = [
        ItemCell(position, answer_state(answer, complete), flagged) for position, answer, complete, flagged in rows
    ]
    return _progress(attempt.item_count, cells)


@dataclass
class QuestionScreen:
    """What the question page reads: the attempt with its exam version (as it was before the page remembered its
    position: ``last_position`` is the question the candidate comes from), the item at the position (None when the
    attempt has no such position) with its question, and every question's state."""

    attempt: Attempt
    item: AttemptItem | None
    progress: Progress


@cache
def _screen_columns() -> tuple[ModelColumns, ModelColumns, ModelColumns]:
    # `selection` (how the form was assembled) is never shown on the page: it loads if something asks for it.
    return (
        ModelColumns(Attempt, "a", defer=("selection",)),
        ModelColumns(Exam, "e"),
        ModelColumns(AttemptItem, "i"),
    )


# Each item's state packed in one integer (position × 8 + answered × 4 + complete × 2 + flagged), so that the
# question page reads every item's state in the same statement as the attempt, as one comma-separated list.
# An answer counts as given unless missing or empty, as `answer_state` has it (an empty JSON object, array or null).
_CELL_CODE = (
    "c.position * 8"
    " + CASE WHEN c.answer IS NOT NULL AND c.answer NOT IN ('{}', '[]', 'null') THEN 4 ELSE 0 END"
    " + CASE WHEN c.complete THEN 2 ELSE 0 END + CASE WHEN c.flagged THEN 1 ELSE 0 END"
)
# The packed answered and complete bits (4 and 2) as `answer_state` names them.
_PACKED_STATES = {
    0: AnswerState.UNANSWERED,
    2: AnswerState.UNANSWERED,
    4: AnswerState.INCOMPLETE,
    6: AnswerState.ANSWERED,
}
_CELLS = {  # string_agg on PostgreSQL, group_concat on SQLite: the one difference between the two here
    vendor: f"(SELECT {aggregate}(CAST({_CELL_CODE} AS TEXT), ',') FROM exams_attemptitem c WHERE c.attempt_id = a.id)"  # noqa: S608
    for vendor, aggregate in (("postgresql", "string_agg"), ("sqlite", "group_concat"))
}


def attempt_question_screen(
    *, candidate, attempt_id: int, position: int, before: tuple[str, list] = ("", [])
) -> QuestionScreen:
    """The question page's reads in one statement of hand-written SQL (`ModelColumns` says why): the candidate's
    attempt joined with its exam version and the item at the position, and every item's state. Someone else's
    attempt is a 404, as with `attempt_for_candidate`. ``before``: a WITH clause (its SQL and parameters) to run in
    the same statement, which is how `attempt_question_open` remembers the position without a round trip."""
    attempt_columns, exam_columns, item_columns = _screen_columns()
    with planned_once_cursor() as cursor:
        cursor.execute(
            f"{before[0]}SELECT {attempt_columns.sql}, {exam_columns.sql}, {item_columns.sql}, "  # noqa: S608
            f"{_CELLS[connection.vendor]} "
            "FROM exams_attempt a JOIN syllabus_exam e ON e.id = a.exam_id "
            "LEFT JOIN exams_attemptitem i ON i.attempt_id = a.id AND i.position = %s "
            "WHERE a.id = %s AND a.candidate_id = %s",
            [*before[1], position, attempt_id, candidate.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such attempt.")
    attempt = attempt_columns.instance(row)
    attempt.exam = exam_columns.instance(row, attempt_columns.width)
    item, item_start = None, attempt_columns.width + exam_columns.width
    if row[item_start] is not None:
        item = item_columns.instance(row, item_start)
        item.attempt = attempt
        item.question = question_for_delivery(question_id=item.question_id)
    codes = sorted(int(code) for code in row[-1].split(",")) if row[-1] else []
    cells = [ItemCell(code >> 3, _PACKED_STATES[code & 6], bool(code & 1)) for code in codes]
    return QuestionScreen(attempt=attempt, item=item, progress=_progress(attempt.item_count, cells))


def attempt_remaining_ms(*, attempt: Attempt, now: datetime | None = None) -> int | None:
    """Milliseconds to the deadline (stopped while paused), for the live countdown to follow the server's clock."""
    if attempt.deadline is None:
        return None
    reference = attempt.paused_at or now or timezone.now()
    return max(0, int((attempt.deadline - reference).total_seconds() * 1000))


def attempt_remaining_seconds(*, attempt: Attempt, now: datetime | None = None) -> int | None:
    remaining = attempt_remaining_ms(attempt=attempt, now=now)
    return None if remaining is None else remaining // 1000


REVIEW_FILTERS: dict[str, tuple[str, Q]] = {
    "all": ("All", Q()),
    "unanswered": ("Unanswered", Q(answer__isnull=True)),
    "incomplete": ("Incomplete", Q(answer__isnull=False, complete=False)),
    "flagged": ("Flagged", Q(flagged=True)),
}


def attempt_review_rows(*, attempt: Attempt, show: str) -> QuerySet[AttemptItem]:
    return (
        AttemptItem.objects.filter(attempt=attempt)
        .filter(REVIEW_FILTERS.get(show, REVIEW_FILTERS["all"])[1])
        .select_related("question")
        .only("position", "answer", "complete", "flagged", "question__stem", "question__type")
        .order_by("position")
    )


def candidate_attempts(*, candidate, limit: int = 20) -> QuerySet[Attempt]:
    return attempts_of(candidate=candidate).select_related("result", "exam").order_by("-started_at")[:limit]


def attempt_is_reviewable(attempt: Attempt) -> bool:
    return attempt.state in (AttemptState.SUBMITTED, AttemptState.SCORED)


def mock_in_progress(*, candidate, exam, beta: bool = False) -> Attempt | None:
    """The candidate's running full mock (or beta form) of this version, if any (there is at most one)."""
    return (
        attempts_of(candidate=candidate)
        .filter(exam=exam, mode=AttemptMode.BETA if beta else AttemptMode.MOCK, state=AttemptState.IN_PROGRESS)
        .select_related("exam")
        .first()
    )


@dataclass
class MockBriefing:
    """What the instructions before a full mock (or a beta form) say: the format, this candidate's time, a mock
    already running."""

    exam: object
    beta: bool
    questions: int
    scored: int
    unscored: int
    minutes: int
    running: Attempt | None
    running_remaining: int | None
    extra_minutes: int
    total_minutes: int


def mock_briefing(*, candidate, exam, beta: bool = False) -> MockBriefing:
    running = mock_in_progress(candidate=candidate, exam=exam, beta=beta)
    questions = exam.beta_question_count if beta else exam.question_count
    minutes = exam.beta_minutes if beta else exam.minutes
    extra = Accommodation.objects.filter(user=candidate).values_list("extra_minutes", flat=True).first() or 0
    extra = round(extra * minutes / exam.minutes)  # as the attempt scales it
    return MockBriefing(
        exam=exam,
        beta=beta,
        questions=questions,
        scored=questions - exam.unscored_count,
        unscored=exam.unscored_count,
        minutes=minutes,
        running=running,
        running_remaining=attempt_remaining_seconds(attempt=running) if running else None,
        extra_minutes=extra,
        total_minutes=minutes + extra,
    )
