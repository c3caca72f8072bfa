"""Scored mock attempts with answers of a chosen quality, for item statistics tests."""

from __future__ import annotations

import random

from apps.exams.models import AttemptItem
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.models import Question
from apps.questions.selectors import match_responses


def answer_for(question: Question, *, right: bool) -> dict:
    """A canonical answer that is right, or wrong, for the question."""
    if question.type in ("single", "multiple"):
        keys = [c.pk for c in question.choices.all() if c.is_correct]
        wrong = [c.pk for c in question.choices.all() if not c.is_correct]
        return {"choices": keys if right else [wrong[0]]}
    if question.type == "ordering":
        positions = {str(s.pk): s.position for s in question.steps.all()}
        if not right:
            first, second = list(positions)[:2]
            positions[first], positions[second] = positions[second], positions[first]
        return {"positions": positions}
    responses = match_responses(question)
    matches = {str(p.pk): responses.index(p.response) + 1 for p in question.pairs.all() if p.prompt}
    if not right:
        first = next(iter(matches))
        matches[first] = (matches[first] % len(responses)) + 1
    return {"matches": matches}


def scored_mock(*, exam, candidate, ability: float, seed: int, always_right: set[int] = frozenset()):
    """A mock where the candidate gets each item right with probability ``ability`` (or always)."""
    rng = random.Random(seed)
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=seed)
    items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question"))
    for item in items:
        right = item.question_id in always_right or rng.random() < ability
        item.answer = answer_for(item.question, right=right)
    AttemptItem.objects.bulk_update(items, ["answer"])
    attempt_submit(attempt=attempt)
    return attempt
