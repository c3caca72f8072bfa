"""Writes for exam delivery: starting attempts, saving answers, flags, submitting, pausing and sweeping.

Integrity rules (see EXAM_FORMAT.md): the server owns the clock; every save is one idempotent write that
records server time; saves after ``deadline + GRACE_SECONDS`` are refused; a submitted attempt never changes;
two submits yield one submission; abandoned attempts are finalised by the sweeper with their saved answers.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from apps.exams.assembly import PlannedItem, form_assemble, practice_assemble, review_assemble
from apps.exams.models import (
    GRACE_SECONDS,
    Accommodation,
    Attempt,
    AttemptItem,
    AttemptMode,
    AttemptState,
    Feedback,
    SubmittedBy,
)
from apps.exams.presentation import AnswerFormatError, answer_from_post, presentation_build
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
            scored=item.scored,
            presentation=presentation_build(with_parts[item.question.pk], rng),
        )
        for position, item in enumerate(planned, start=1)
    )
    return attempt


@transaction.atomic
def attempt_start_mock(*, candidate, exam: Exam, seed: int | None = None, now: datetime | None = None) -> Attempt:
    """Start a full mock exam, or return the one already in progress (a timer cannot be reset by restarting)."""
    existing = (
        Attempt.objects.select_for_update()
        .filter(candidate=candidate, exam=exam, mode=AttemptMode.MOCK, state=AttemptState.IN_PROGRESS)
        .first()
    )
    if existing is not None:
        return existing
    rng = random.Random(seed)
    planned = form_assemble(exam=exam, candidate=candidate, rng=rng)
    return _create(
        candidate=candidate,
        exam=exam,
        mode=AttemptMode.MOCK,
        planned=planned,
        rng=rng,
        duration_seconds=exam.minutes * 60,
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
    """A practice set over chosen tasks; timed sets run at the real exam's pace per question."""
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
def attempt_start_review(*, candidate, exam: Exam, count: int = 20, seed: int | None = None) -> Attempt:
    rng = random.Random(seed)
    planned = review_assemble(candidate=candidate, exam=exam, count=count)
    return _create(
        candidate=candidate,
        exam=exam,
        mode=AttemptMode.REVIEW,
        planned=planned,
        rng=rng,
        duration_seconds=None,
        feedback=Feedback.IMMEDIATE,
    )


def _lock_open(attempt_id: int, *, now: datetime, grace: bool) -> Attempt:
    """Lock the attempt row for a write and check it still takes changes at ``now``."""
    attempt = Attempt.objects.select_for_update(no_key=True).get(pk=attempt_id)
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
    item: AttemptItem
    saved_at: datetime
    applied: bool


def attempt_answer_save(
    *, attempt: Attempt, position: int, data: QueryDict, seq: int | None = None, now: datetime | None = None
) -> SaveResult:
    """Save the full answer state of one item (idempotent: repeating a save changes nothing).

    ``seq`` is the browser's counter: a save that arrives after a newer one for the same item is ignored, so
    answers never go back in time when requests overtake each other.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _lock_open(attempt.pk, now=now, grace=True)
        item = AttemptItem.objects.select_related("question").get(attempt_id=attempt.pk, position=position)
        if item.revealed_at is not None:
            raise AttemptClosedError("You already checked this answer; it is locked.")
        answer = answer_from_post(item.question, item.presentation, data)
        seq = seq if seq is not None else item.answer_seq + 1
        applied = bool(
            AttemptItem.objects.filter(pk=item.pk, answer_seq__lt=seq).update(
                answer=answer or None, answer_seq=seq, answered_at=now
            )
        )
        Attempt.objects.filter(pk=attempt.pk).update(last_position=position)
    item.refresh_from_db()
    return SaveResult(item=item, saved_at=now, applied=applied)


@transaction.atomic
def attempt_flag_set(*, attempt: Attempt, position: int, flagged: bool, now: datetime | None = None) -> AttemptItem:
    _lock_open(attempt.pk, now=now or timezone.now(), grace=True)
    AttemptItem.objects.filter(attempt_id=attempt.pk, position=position).update(flagged=flagged)
    return AttemptItem.objects.get(attempt_id=attempt.pk, position=position)


@transaction.atomic
def attempt_eliminate_set(
    *, attempt: Attempt, position: int, option: int, eliminated: bool, now: datetime | None = None
) -> AttemptItem:
    """Strike out (or restore) the option shown at display number ``option``."""
    _lock_open(attempt.pk, now=now or timezone.now(), grace=True)
    item = AttemptItem.objects.select_related("question").get(attempt_id=attempt.pk, position=position)
    shown = item.presentation.get("choices", [])
    if item.question.type not in (QuestionType.SINGLE, QuestionType.MULTIPLE) or not 1 <= option <= len(shown):
        raise AnswerFormatError("option: not one of the options shown.")
    choice_id = shown[option - 1]
    struck = [cid for cid in item.eliminated if cid != choice_id] + ([choice_id] if eliminated else [])
    item.eliminated = struck
    item.save(update_fields=["eliminated"])
    return item


@transaction.atomic
def attempt_item_reveal(*, attempt: Attempt, position: int, now: datetime | None = None) -> AttemptItem:
    """Practice with feedback after each item: lock the answer and mark it, so the key may now be shown."""
    now = now or timezone.now()
    locked = _lock_open(attempt.pk, now=now, grace=True)
    if locked.feedback != Feedback.IMMEDIATE:
        raise AttemptClosedError("Feedback for this set comes at the end.")
    item = AttemptItem.objects.get(attempt_id=attempt.pk, position=position)
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
        )
        if won:
            transaction.on_commit(lambda: attempt_score.delay(attempt.pk))
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
    if locked.mode == AttemptMode.MOCK:
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
