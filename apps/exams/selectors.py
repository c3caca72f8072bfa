"""Reads for exam delivery. Every lookup is scoped by the candidate: someone else's attempt is a 404."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.questions.selectors import question_for_delivery


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
    """The item at a position with its question and parts, in a fixed number of queries."""
    item = AttemptItem.objects.filter(attempt=attempt, position=position).select_related("question").first()
    if item is None:
        raise Http404("No such question in this attempt.")
    item.question = question_for_delivery(question_id=item.question_id, kind=item.question.type)
    return item


@dataclass
class Progress:
    total: int
    answered: int
    flagged: int

    @property
    def unanswered(self) -> int:
        return self.total - self.answered


def attempt_progress(*, attempt: Attempt) -> Progress:
    counts = AttemptItem.objects.filter(attempt=attempt).aggregate(
        answered=Count("id", filter=Q(answer__isnull=False)), flagged=Count("id", filter=Q(flagged=True))
    )
    return Progress(attempt.item_count, counts["answered"], counts["flagged"])


def attempt_remaining_seconds(*, attempt: Attempt, now: datetime | None = None) -> int | None:
    if attempt.deadline is None:
        return None
    reference = attempt.paused_at or now or timezone.now()
    return max(0, int((attempt.deadline - reference).total_seconds()))


REVIEW_FILTERS = {
    "all": Q(),
    "unanswered": Q(answer__isnull=True),
    "flagged": Q(flagged=True),
}


def attempt_review_rows(*, attempt: Attempt, show: str) -> QuerySet[AttemptItem]:
    return (
        AttemptItem.objects.filter(attempt=attempt)
        .filter(REVIEW_FILTERS.get(show, Q()))
        .select_related("question")
        .only("position", "answer", "flagged", "question__stem", "question__type")
        .order_by("position")
    )


def candidate_attempts(*, candidate, limit: int = 20) -> QuerySet[Attempt]:
    return attempts_of(candidate=candidate).select_related("result").order_by("-started_at")[:limit]


def attempt_is_reviewable(attempt: Attempt) -> bool:
    return attempt.state in (AttemptState.SUBMITTED, AttemptState.SCORED)
