"""Marking one item 0/1, as the real exam does: multiple response, ordering and matching are all-or-nothing.

Answers are canonical (database ids, never display positions):
``{"choices": [id, ...]}``, ``{"positions": {"step_id": position}}``, ``{"matches": {"pair_id": response_no}}``
where ``response_no`` is the 1-based number of the response in ``match_responses(question)``.
"""

from __future__ import annotations

from typing import Any

from apps.questions.models import Question, QuestionType
from apps.questions.selectors import match_responses


def answer_is_correct(question: Question, answer: dict[str, Any] | None) -> bool:
    """True only for a complete, fully right answer; unanswered counts as wrong (no penalty for guessing)."""
    if not answer:
        return False
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        keys = {choice.pk for choice in question.choices.all() if choice.is_correct}
        return set(answer.get("choices") or []) == keys
    if question.type == QuestionType.ORDERING:
        given = answer.get("positions") or {}
        return all(given.get(str(step.pk)) == step.position for step in question.steps.all())
    responses = match_responses(question)
    given = answer.get("matches") or {}
    prompts = [pair for pair in question.pairs.all() if pair.prompt]
    return all(
        (number := given.get(str(pair.pk))) is not None
        and 1 <= number <= len(responses)
        and responses[number - 1] == pair.response
        for pair in prompts
    )
