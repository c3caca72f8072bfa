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
    key = answer_key(question)
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        return set(answer.get("choices") or []) == key
    if question.type == QuestionType.ORDERING:
        given = answer.get("positions") or {}
        return all(given.get(step) == position for step, position in key)
    responses, prompts = key
    given = answer.get("matches") or {}
    return all(
        (number := given.get(pair)) is not None and 1 <= number <= len(responses) and responses[number - 1] == response
        for pair, response in prompts
    )


def answer_key(question: Question):
    """What a right answer must hold: the key choices' ids; each step's (id, position); or the matching item's
    responses and each prompt's (pair id, response). Kept on a frozen version, whose parts never change: scoring
    marks the same cached versions over and over."""
    key = question.__dict__.get("_answer_key")
    if key is not None:
        return key
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        key = frozenset(choice.pk for choice in question.choices.all() if choice.is_correct)
    elif question.type == QuestionType.ORDERING:
        key = tuple((str(step.pk), step.position) for step in question.steps.all())
    else:
        prompts = tuple((str(pair.pk), pair.response) for pair in question.pairs.all() if pair.prompt)
        key = (match_responses(question), prompts)
    if question.is_locked:
        question.__dict__["_answer_key"] = key
    return key
