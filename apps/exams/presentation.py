"""How an item is shown in one attempt, and the translation between what the browser posts and stored answers.

The browser sees only display positions (1, 2, 3...). Database ids never reach the page, because their order
follows authoring order and would give away an ordering item's sequence or a matching item's pairs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from apps.questions.models import Question, QuestionType
from apps.questions.selectors import match_responses


def presentation_build(question: Question, rng: random.Random) -> dict[str, list[int]]:
    """Shuffle options, steps, prompts and responses for one attempt; the result is stored on the item."""
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        ids = [choice.pk for choice in question.choices.all()]
        rng.shuffle(ids)
        return {"choices": ids}
    if question.type == QuestionType.ORDERING:
        ids = [step.pk for step in question.steps.all()]
        correct = list(ids)
        while len(ids) > 1 and ids == correct:  # never show the steps already in the right order
            rng.shuffle(ids)
        return {"steps": ids}
    prompts = [pair.pk for pair in question.pairs.all() if pair.prompt]
    responses = list(range(1, len(match_responses(question)) + 1))
    rng.shuffle(prompts)
    rng.shuffle(responses)
    return {"prompts": prompts, "responses": responses}


def presentation_identity(question: Question) -> dict[str, list[int]]:
    """Authored order, for the instructor's preview."""
    return {
        "choices": [choice.pk for choice in question.choices.all()],
        "steps": [step.pk for step in question.steps.all()],
        "prompts": [pair.pk for pair in question.pairs.all() if pair.prompt],
        "responses": list(range(1, len(match_responses(question)) + 1)),
    }


class AnswerFormatError(ValueError):
    """The posted answer does not fit the item (tampered or stale form)."""


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AnswerFormatError(f"{field}: {value!r} is not a number.") from None


class QuestionKind:
    """Just the type of a question, for decoding answers without loading the question."""

    def __init__(self, kind: str) -> None:
        self.type = kind


def answer_from_post(
    question: Question | QuestionKind, presentation: dict[str, list[int]], data: QueryDict
) -> dict[str, Any]:
    """Decode display positions from a form post into a canonical answer; refuse anything out of range."""
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        shown = presentation["choices"]
        picked = sorted({_int(value, "choice") for value in data.getlist("choice") if value != ""})
        if any(not 1 <= n <= len(shown) for n in picked):
            raise AnswerFormatError("choice: not one of the options shown.")
        if question.type == QuestionType.SINGLE and len(picked) > 1:
            raise AnswerFormatError("choice: a single-answer item takes one option.")
        return {"choices": [shown[n - 1] for n in picked]} if picked else {}
    if question.type == QuestionType.ORDERING:
        shown = presentation["steps"]
        positions = {}
        for index, step_id in enumerate(shown, start=1):
            value = data.get(f"step-{index}", "")
            if value == "":
                continue
            position = _int(value, f"step-{index}")
            if not 1 <= position <= len(shown):
                raise AnswerFormatError(f"step-{index}: position out of range.")
            positions[str(step_id)] = position
        return {"positions": positions} if positions else {}
    prompts, responses = presentation["prompts"], presentation["responses"]
    matches = {}
    for index, pair_id in enumerate(prompts, start=1):
        value = data.get(f"prompt-{index}", "")
        if value == "":
            continue
        shown_number = _int(value, f"prompt-{index}")
        if not 1 <= shown_number <= len(responses):
            raise AnswerFormatError(f"prompt-{index}: not one of the responses shown.")
        matches[str(pair_id)] = responses[shown_number - 1]
    return {"matches": matches} if matches else {}


@dataclass
class ShownPart:
    """One option, step, prompt or response as displayed: its display number, text and the candidate's pick."""

    number: int
    text: str
    selected: Any = None
    eliminated: bool = False


@dataclass
class ShownItem:
    choices: list[ShownPart]
    steps: list[ShownPart]
    prompts: list[ShownPart]
    responses: list[ShownPart]
    positions: range


def item_display(
    question: Question, presentation: dict[str, list[int]], answer: dict[str, Any] | None, eliminated: list[int]
) -> ShownItem:
    """What the template renders: texts in display order with the saved answer mapped back to display numbers."""
    answer = answer or {}
    kind = question.type
    choices_by_id = (
        {c.pk: c for c in question.choices.all()} if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE) else {}
    )
    steps_by_id = {step.pk: step for step in question.steps.all()} if kind == QuestionType.ORDERING else {}
    pairs_by_id = {pair.pk: pair for pair in question.pairs.all()} if kind == QuestionType.MATCHING else {}
    picked = set(answer.get("choices") or [])
    choices = [
        ShownPart(n, choices_by_id[cid].text, cid in picked, cid in eliminated)
        for n, cid in enumerate(presentation.get("choices", []), start=1)
        if cid in choices_by_id
    ]
    positions = answer.get("positions") or {}
    steps = [
        ShownPart(n, steps_by_id[sid].text, positions.get(str(sid)))
        for n, sid in enumerate(presentation.get("steps", []), start=1)
        if sid in steps_by_id
    ]
    response_texts = match_responses(question) if question.type == QuestionType.MATCHING else []
    shown_responses = presentation.get("responses", [])
    display_number = {canonical: n for n, canonical in enumerate(shown_responses, start=1)}
    matches = answer.get("matches") or {}
    prompts = [
        ShownPart(n, pairs_by_id[pid].prompt, display_number.get(matches.get(str(pid))))
        for n, pid in enumerate(presentation.get("prompts", []), start=1)
        if pid in pairs_by_id
    ]
    responses = [
        ShownPart(n, response_texts[canonical - 1])
        for n, canonical in enumerate(shown_responses, start=1)
        if 0 < canonical <= len(response_texts)
    ]
    return ShownItem(choices, steps, prompts, responses, range(1, len(steps) + 1))
