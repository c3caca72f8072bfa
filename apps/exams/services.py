"""Writes for exam delivery: starting attempts, saving answers, flags, submitting, pausing and sweeping.

Integrity rules (see EXAM_FORMAT.md): the server owns the clock; every save is one idempotent write that
records server time; saves after ``deadline + GRACE_SECONDS`` are refused; a submitted attempt never changes;
two submits yield one submission; abandoned attempts are finalised by the sweeper with their saved answers.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from apps.core.enqueue import enqueue_on_commit
from apps.exams.assembly import FormAssemblyError, PlannedItem, form_assemble, practice_assemble, review_assemble
from apps.exams.models import (
    FULL_EXAM_MODES,
    GRACE_SECONDS,
    SCRATCHPAD_MAX_CHARS,
    Accommodation,
    AnswerState,
    Attempt,
    AttemptItem,
    AttemptMode,
    AttemptState,
    Feedback,
    SubmittedBy,
    answer_state,
)
from apps.exams.presentation import (
    AnswerFormatError,
    QuestionKind,
    answer_from_post,
    answer_gap,
    answer_is_complete,
    presentation_build,
)
from apps.exams.selectors import QuestionScreen, attempt_question_screen
from apps.questions.models import QuestionType
from apps.questions.selectors import questions_with_parts
from apps.scoring.marking import answer_is_correct
from apps.syllabus.models import Exam

logger = logging.getLogger(__name__)
GRACE = timedelta(seconds=GRACE_SECONDS)


class AttemptClosedError(Exception):
    """The attempt no longer takes changes; ``reason`` is shown to the candidate."""

    def __init__(self, reason: str, *, finished: bool = False) -> None:
        self.reason = reason
        self.finished = finished  # True when the attempt is over: send the candidate to the results
        super().__init__(reason)


class AnswerLockedError(AttemptClosedError):
    """The item's answer was checked (practice with feedback after each question): it can no longer change, but
    the rest of the attempt goes on, so moving to another question is fine."""

    def __init__(self) -> None:
        super().__init__("You already checked this answer; it is locked.")


def accommodation_seconds(*, candidate, base_seconds: int, exam: Exam) -> int:
    """Extra time for this candidate, scaled to the attempt's length (full extra time on a full mock)."""
    extra = Accommodation.objects.filter(user=candidate).values_list("extra_minutes", flat=True).first()
    if not extra:
        return 0
    return round(extra * 60 * base_seconds / (exam.minutes * 60))


def _create(
    *,
    candidate,
    exam: Exam,
    mode: str,
    planned: list[PlannedItem],
    rng: random.Random,
    duration_seconds: int | None,
    feedback: str = Feedback.END,
    selection: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Attempt:
    now = now or timezone.now()
    extra = (
        accommodation_seconds(candidate=candidate, base_seconds=duration_seconds, exam=exam) if duration_seconds else 0
    )
    deadline = now + timedelta(seconds=duration_seconds + extra) if duration_seconds else None
    attempt = Attempt.objects.create(
        candidate=candidate,
        exam=exam,
        mode=mode,
        feedback=feedback,
        item_count=len(planned),
        started_at=now,
        duration_seconds=duration_seconds,
        accommodation_seconds=extra,
        deadline=deadline,
        next_check_at=deadline + GRACE if deadline else None,
        selection=selection or {},
    )
    with_parts = questions_with_parts().in_bulk([item.question.pk for item in planned])
    AttemptItem.objects.bulk_create(
        AttemptItem(
            attempt=attempt,
            position=position,
            question_id=item.question.pk,
            task_id=item.question.task_id,  # its task in this version: results stay tied to the version taken
            scored=item.scored,
            presentation=presentation_build(with_parts[item.question.pk], rng),
        )
        for position, item in enumerate(planned, start=1)
    )
    return attempt


def _starts_serialise(candidate) -> None:
    """Lock the candidate's row until the transaction ends, so their attempts start one at a time: each start
    reads the items of the others to keep keys apart, and two starts at once would each miss the other's."""
    list(get_user_model().objects.select_for_update().filter(pk=candidate.pk).values_list("pk", flat=True))


@transaction.atomic
def attempt_start_mock(
    *, candidate, exam: Exam, beta: bool = False, seed: int | None = None, now: datetime | None = None
) -> Attempt:
    """Start a full mock exam, or return the one already in progress (a timer cannot be reset by restarting).

    With ``beta``, the version's beta form instead (e.g. 85 questions in 170 minutes): the same blueprint with
    more scored items, and no pass line. The form leaves out the items of the candidate's unfinished practice
    and review sets (see assembly)."""
    _starts_serialise(candidate)
    mode = AttemptMode.BETA if beta else AttemptMode.MOCK
    if beta and not exam.has_beta:
        raise FormAssemblyError(f"{exam.code} has no beta form.")
    existing = (
        Attempt.objects.select_for_update()
        .filter(candidate=candidate, exam=exam, mode=mode, state=AttemptState.IN_PROGRESS)
        .first()
    )
    if existing is not None:
        return existing
    rng = random.Random(seed)
    scored = exam.beta_question_count - exam.unscored_count if beta else exam.scored_count
    planned = form_assemble(exam=exam, candidate=candidate, rng=rng, scored_count=scored)
    return _create(
        candidate=candidate,
        exam=exam,
        mode=mode,
        planned=planned,
        rng=rng,
        duration_seconds=(exam.beta_minutes if beta else exam.minutes) * 60,
        now=now,
    )


@transaction.atomic
def attempt_start_practice(
    *,
    candidate,
    exam: Exam,
    task_ids: list[int],
    count: int,
    timed: bool,
    feedback: str,
    seed: int | None = None,
    now: datetime | None = None,
) -> Attempt:
    """A practice set over chosen tasks; timed sets run at the real exam's pace per question. It leaves out the
    items of the candidate's unfinished mocks, and raises FormAssemblyError when nothing else is left."""
    _starts_serialise(candidate)
    rng = random.Random(seed)
    planned = practice_assemble(exam=exam, candidate=candidate, task_ids=task_ids, count=count, rng=rng)
    duration = round(len(planned) * exam.seconds_per_question) if timed else None
    return _create(
        candidate=candidate,
        exam=exam,
        mode=AttemptMode.PRACTICE,
        planned=planned,
        rng=rng,
        duration_seconds=duration,
        feedback=feedback,
        selection={"tasks": task_ids, "count": count},
        now=now,
    )


@transaction.atomic
def attempt_start_review(
    *, candidate, exam: Exam, count: int = 20, seed: int | None = None, families: list | None = None
) -> Attempt:
    """A set of items to learn from, with feedback after each: missed or flagged ones, or those due for review,
    leaving out the items of the candidate's unfinished mocks."""
    _starts_serialise(candidate)
    rng = random.Random(seed)
    planned = review_assemble(candidate=candidate, exam=exam, count=count, families=families)
    return _create(
        candidate=candidate,
        exam=exam,
        mode=AttemptMode.REVIEW,
        planned=planned,
        rng=rng,
        duration_seconds=None,
        feedback=Feedback.IMMEDIATE,
    )


def _lock_open(attempt_id: int, *, now: datetime, grace: bool, candidate=None) -> Attempt:
    """Lock the attempt row for a write and check it still takes changes at ``now``.

    With ``candidate``, the lookup is scoped to them: someone else's attempt raises ``Attempt.DoesNotExist``.
    """
    attempts = Attempt.objects.select_for_update(no_key=True)
    if candidate is not None:
        attempts = attempts.filter(candidate=candidate)
    attempt = attempts.only("state", "paused_at", "deadline", "feedback", "mode").get(pk=attempt_id)
    if attempt.state != AttemptState.IN_PROGRESS:
        raise AttemptClosedError("This attempt has been submitted; answers can no longer change.", finished=True)
    if attempt.paused_at is not None:
        raise AttemptClosedError("This practice set is paused. Resume it to keep answering.")
    if attempt.deadline is not None and now > attempt.deadline + (GRACE if grace else timedelta(0)):
        raise AttemptClosedError(
            f"Time is up: the attempt ended at {timezone.localtime(attempt.deadline):%H:%M:%S} UTC, "
            "so this answer was not accepted. Answers saved before then are kept.",
            finished=True,
        )
    return attempt


@dataclass
class SaveResult:
    saved_at: datetime
    seq: int
    applied: bool
    state: str = AnswerState.UNANSWERED  # of the stored answer, when applied
    gap: str = ""  # what an incomplete answer lacks
    flagged: bool = False
    deadline: datetime | None = None  # the attempt's, read with the save


@dataclass(frozen=True)
class _ItemMeta:
    item_id: int
    candidate_id: int
    kind: str
    presentation: dict


# Attempt id -> (candidate id, {position: (item id, kind, presentation)}). About 65 small entries per attempt.
_LOCAL_META: dict[int, tuple[int, dict[int, tuple[int, str, dict]]]] = {}
_LOCAL_META_MAX = 1_000


def _item_meta(attempt_id: int, position: int) -> _ItemMeta:
    """What a save needs to know about an item. It never changes after the attempt starts, so it is cached:
    in this process first (no network round trip on the hot path), then in the shared cache, then read. A whole
    attempt is cached at once: a candidate saves each of its items once or a few times, so caching item by item
    would miss on most first saves, and each miss is a query."""
    meta = _LOCAL_META.get(attempt_id) or _attempt_meta(attempt_id)
    item = meta[1].get(position)
    if item is None:
        raise AttemptItem.DoesNotExist
    return _ItemMeta(item[0], meta[0], item[1], item[2])


def _attempt_meta(attempt_id: int) -> tuple[int, dict[int, tuple[int, str, dict]]]:
    key = f"exams:attempt-meta:{attempt_id}"
    meta = cache.get(key)
    if meta is None:
        rows = list(
            AttemptItem.objects.filter(attempt_id=attempt_id).values_list(
                "position", "pk", "attempt__candidate_id", "question__type", "presentation"
            )
        )
        items = {position: (pk, kind, presentation) for position, pk, _, kind, presentation in rows}
        if not items:
            raise AttemptItem.DoesNotExist
        meta = (rows[0][2], items)
        cache.set(key, meta, 6 * 3600)
    if len(_LOCAL_META) >= _LOCAL_META_MAX:
        _LOCAL_META.clear()
    _LOCAL_META[attempt_id] = meta
    return meta


# The guarded write of an answer, in one statement and one round trip. The FOR SHARE lock on the attempt row
# makes a concurrent submit (an UPDATE of that row) wait for this save, and a save that comes after the submit
# sees the attempt as submitted and changes nothing. The ORM cannot lock inside a subquery, hence raw SQL.
_SAVE_SQL = """
UPDATE exams_attemptitem
SET answer = %(answer)s::jsonb, complete = %(complete)s, answer_seq = {seq}, answered_at = %(now)s
WHERE id = %(item)s AND attempt_id = %(attempt)s AND revealed_at IS NULL {seq_guard}
  AND EXISTS (
    SELECT 1 FROM exams_attempt a
    WHERE a.id = %(attempt)s AND a.candidate_id = %(candidate)s AND a.state = 'in_progress' AND a.paused_at IS NULL
      AND (a.deadline IS NULL OR a.deadline + %(grace)s >= %(now)s)
    FOR SHARE
  )
RETURNING answer_seq, flagged, (SELECT d.deadline FROM exams_attempt d WHERE d.id = %(attempt)s)
"""


def _save_guarded(
    meta: _ItemMeta, attempt_id: int, answer: dict, *, complete: bool, seq: int | None, now: datetime
) -> tuple[int, bool, datetime | None] | None:
    """Write the answer if the attempt still takes it; returns the stored seq, the item's flag and the attempt's
    deadline (for the countdown, in the same round trip), or None when nothing changed."""
    if connection.vendor == "postgresql":
        sql = _SAVE_SQL.format(
            seq="%(seq)s" if seq is not None else "answer_seq + 1",
            seq_guard="AND answer_seq < %(seq)s" if seq is not None else "",
        )
        params = {
            "answer": json.dumps(answer) if answer else None,
            "complete": complete,
            "now": now,
            "item": meta.item_id,
            "attempt": attempt_id,
            "candidate": meta.candidate_id,
            "grace": GRACE,
            "seq": seq,
        }
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return (row[0], row[1], row[2]) if row else None
    # Other databases (SQLite under `make run`): the same checks under a transaction, which SQLite serialises.
    with transaction.atomic():
        _lock_open(attempt_id, now=now, grace=True)
        items = AttemptItem.objects.filter(pk=meta.item_id, revealed_at__isnull=True)
        if seq is not None:
            items = items.filter(answer_seq__lt=seq)
        new_seq = seq if seq is not None else F("answer_seq") + 1
        if not items.update(answer=answer or None, complete=complete, answer_seq=new_seq, answered_at=now):
            return None
        return AttemptItem.objects.values_list("answer_seq", "flagged", "attempt__deadline").get(pk=meta.item_id)


def attempt_answer_save(
    *,
    attempt_id: int,
    position: int,
    data: QueryDict,
    candidate=None,
    seq: int | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Save the full answer state of one item (idempotent: repeating a save changes nothing).

    ``seq`` is the browser's counter: a save that arrives after a newer one for the same item is ignored, so
    answers never go back in time when requests overtake each other. This is the hot path of an exam, so it is
    one guarded UPDATE; the reasons for a refusal are looked up only when a save is refused.
    """
    now = now or timezone.now()
    if seq is not None and not 0 < seq < 2**31:
        raise AnswerFormatError("seq: out of range.")
    meta = _item_meta(attempt_id, position)
    if candidate is not None and meta.candidate_id != candidate.pk:
        raise Attempt.DoesNotExist
    answer = answer_from_post(QuestionKind(meta.kind), meta.presentation, data)
    complete = answer_is_complete(meta.kind, meta.presentation, answer)
    stored = _save_guarded(meta, attempt_id, answer, complete=complete, seq=seq, now=now)
    if stored is not None:
        state = answer_state(answer, complete)
        gap = answer_gap(meta.kind, meta.presentation, answer)
        seq_stored, flagged, deadline = stored
        return SaveResult(
            saved_at=now, seq=seq_stored, applied=True, state=state, gap=gap, flagged=flagged, deadline=deadline
        )
    # Refused or stale: find out which, with the attempt locked so the answer is definitive.
    with transaction.atomic():
        _lock_open(attempt_id, now=now, grace=True)
        item = AttemptItem.objects.only("answer_seq", "revealed_at").get(pk=meta.item_id)
    if item.revealed_at is not None:
        raise AnswerLockedError
    return SaveResult(saved_at=now, seq=item.answer_seq, applied=False)


def _item_at(attempt: Attempt, position: int) -> AttemptItem:
    """The attempt's item at ``position``; AttemptItem.DoesNotExist (a 404 for the views) for a position it does
    not have, which only a hand-made URL asks for."""
    return AttemptItem.objects.select_related("question").get(attempt_id=attempt.pk, position=position)


# The position, remembered in the question page's own statement: for a running attempt that is not paused, one of
# its positions, and a change. set_config(..., true) is SET LOCAL: this statement's commit does not wait for the disk.
_POSITION_REMEMBER = (
    "WITH moved AS (UPDATE exams_attempt SET last_position = %s WHERE id = %s AND candidate_id = %s AND state = %s"
    " AND paused_at IS NULL AND last_position <> %s AND %s BETWEEN 1 AND item_count"
    " RETURNING set_config('synchronous_commit', 'off', true)) "
)


def attempt_question_open(*, candidate, attempt_id: int, position: int) -> QuestionScreen:
    """What the question page shows (`attempt_question_screen`), with the position remembered so that reopening the
    attempt lands there. A convenience, not an answer: on PostgreSQL the write does not wait for its flush to disk
    (a crash may lose the last few positions, never an answer), which keeps a question page from waiting on it.

    On PostgreSQL one statement reads and writes, the update in a WITH clause whose change the read does not see;
    so the screen's attempt still says where the candidate came from. Elsewhere, the read and then the update. The
    setting lasts until the commit: inside a larger transaction it would cover that transaction's other writes
    too, so the page calls this outside one (as every request runs: ATOMIC_REQUESTS is off)."""
    if connection.vendor == "postgresql":
        params = [position, attempt_id, candidate.pk, AttemptState.IN_PROGRESS, position, position]
        before = (_POSITION_REMEMBER, params)
        return attempt_question_screen(candidate=candidate, attempt_id=attempt_id, position=position, before=before)
    screen = attempt_question_screen(candidate=candidate, attempt_id=attempt_id, position=position)
    attempt = screen.attempt
    if screen.item is not None and attempt.last_position != position:
        Attempt.objects.filter(pk=attempt.pk, state=AttemptState.IN_PROGRESS, paused_at=None).update(
            last_position=position
        )
    return screen


@transaction.atomic
def attempt_flag_set(*, attempt: Attempt, position: int, flagged: bool, now: datetime | None = None) -> AttemptItem:
    _lock_open(attempt.pk, now=now or timezone.now(), grace=True)
    AttemptItem.objects.filter(attempt_id=attempt.pk, position=position).update(flagged=flagged)
    return _item_at(attempt, position)


@transaction.atomic
def attempt_eliminate_set(
    *, attempt: Attempt, position: int, option: int, eliminated: bool, now: datetime | None = None
) -> AttemptItem:
    """Strike out (or restore) the option shown at display number ``option``."""
    _lock_open(attempt.pk, now=now or timezone.now(), grace=True)
    item = _item_at(attempt, position)
    shown = item.presentation.get("choices", [])
    if item.question.type not in (QuestionType.SINGLE, QuestionType.MULTIPLE) or not 1 <= option <= len(shown):
        raise AnswerFormatError("option: not one of the options shown.")
    choice_id = shown[option - 1]
    struck = [cid for cid in item.eliminated if cid != choice_id] + ([choice_id] if eliminated else [])
    item.eliminated = struck
    item.save(update_fields=["eliminated"])
    return item


@transaction.atomic
def attempt_scratchpad_save(*, attempt: Attempt, text: str, now: datetime | None = None) -> Attempt:
    """Keep the candidate's scratch-pad notes with the attempt while it runs (private; erased on submission)."""
    if len(text) > SCRATCHPAD_MAX_CHARS:
        raise AnswerFormatError(f"scratch pad: at most {SCRATCHPAD_MAX_CHARS:,} characters ({len(text):,} given).")
    locked = _lock_open(attempt.pk, now=now or timezone.now(), grace=True)
    locked.scratchpad = text
    locked.save(update_fields=["scratchpad"])
    return locked


@transaction.atomic
def attempt_item_reveal(*, attempt: Attempt, position: int, now: datetime | None = None) -> AttemptItem:
    """Practice with feedback after each item: lock the answer and mark it, so the key may now be shown."""
    now = now or timezone.now()
    locked = _lock_open(attempt.pk, now=now, grace=True)
    if locked.feedback != Feedback.IMMEDIATE:
        raise AttemptClosedError("Feedback for this set comes at the end.")
    item = _item_at(attempt, position)
    if item.revealed_at is None:
        question = questions_with_parts().get(pk=item.question_id)
        item.is_correct = answer_is_correct(question, item.answer)
        item.revealed_at = now
        item.save(update_fields=["is_correct", "revealed_at"])
    return item


def attempt_submit(*, attempt: Attempt, by: str = SubmittedBy.CANDIDATE, now: datetime | None = None) -> bool:
    """Finalise an attempt with its latest saved answers and queue scoring.

    Returns False when it was already submitted: the conditional update lets exactly one of two racing submits
    (two tabs, or a tab and the sweeper) win.
    """
    from apps.scoring.tasks import attempt_score

    now = now or timezone.now()
    with transaction.atomic():
        won = Attempt.objects.filter(pk=attempt.pk, state=AttemptState.IN_PROGRESS).update(
            state=AttemptState.SUBMITTED,
            submitted_at=now,
            submitted_by=by,
            next_check_at=None,
            paused_at=None,
            scratchpad="",  # like the exam's whiteboard: gone once the attempt is over
        )
        if won:
            # A broker outage must not fail the submit: attempts_requeue_unscored re-sends lost scoring.
            enqueue_on_commit(attempt_score, attempt.pk)
    if won:
        logger.info("attempt submitted", extra={"attempt": attempt.pk, "by": by})
    return bool(won)


def attempt_expire_if_due(*, attempt: Attempt, now: datetime | None = None) -> bool:
    """Finalise a timed attempt whose deadline has passed (when its candidate comes back to it)."""
    now = now or timezone.now()
    due = attempt.deadline is not None and now >= attempt.deadline
    if attempt.state == AttemptState.IN_PROGRESS and attempt.paused_at is None and due:
        return attempt_submit(attempt=attempt, by=SubmittedBy.DEADLINE, now=now)
    return False


@transaction.atomic
def attempt_pause(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Pause a practice set; a timed set's clock stops until it is resumed. Mock exams cannot be paused."""
    now = now or timezone.now()
    locked = _lock_open(attempt.pk, now=now, grace=False)
    if locked.mode in FULL_EXAM_MODES:
        raise AttemptClosedError("A mock exam runs like the real one and cannot be paused.")
    locked.paused_at = now
    locked.next_check_at = None
    locked.save(update_fields=["paused_at", "next_check_at"])
    return locked


@transaction.atomic
def attempt_resume(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    now = now or timezone.now()
    locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
    if locked.state != AttemptState.IN_PROGRESS or locked.paused_at is None:
        return locked
    if locked.deadline is not None:
        locked.deadline += now - locked.paused_at
        locked.next_check_at = locked.deadline + GRACE
    locked.paused_at = None
    locked.save(update_fields=["paused_at", "deadline", "next_check_at"])
    return locked


def attempts_sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Submit every in-progress attempt whose deadline and grace have passed, with its saved answers.

    Uses the partial index on ``next_check_at``; each attempt is submitted through ``attempt_submit``, so a
    candidate submitting at the same moment cannot cause a double submission.
    """
    now = now or timezone.now()
    due = list(
        Attempt.objects.filter(state=AttemptState.IN_PROGRESS, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    finalised = 0
    for attempt_id in due:
        finalised += attempt_submit(attempt=Attempt(pk=attempt_id), by=SubmittedBy.SWEEPER, now=now)
    return finalised
