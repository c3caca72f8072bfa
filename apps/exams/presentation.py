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
from apps.questions.rules import option_letter
from apps.questions.selectors import match_responses


def presentation_build(question: Question, rng: random.Random) -> dict[str, list[int]]:
    """Shuffle options, steps, prompts and responses for one attempt; the result is stored on the item."""
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        ids = [choice.pk for choice in question.choices.all()]
        rng.shuffle(ids)
        # How many options to choose: public (the stem says "(Choose two.)"), and what "complete" means.
        return {"choices": ids, "pick": sum(choice.is_correct for choice in question.choices.all())}
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


NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _count_words(n: int) -> str:
    return NUMBER_WORDS.get(n, str(n))


def choices_to_pick(kind: str, presentation: dict[str, Any]) -> int:
    """How many options the item asks for: one for single answer, the stem's "(Choose two.)" for multiple."""
    if kind == QuestionType.SINGLE:
        return 1
    return int(presentation.get("pick") or 2)  # attempts started before "pick" was recorded: the usual two


def answer_is_complete(kind: str, presentation: dict[str, Any], answer: dict[str, Any] | None) -> bool:
    """The answer has every part the item asks for: exactly as many options as it says to choose, every step in
    its own position, every prompt matched. An incomplete answer is saved and marked like any other (it can only
    be wrong); the candidate is told, so that it is never a slip."""
    if not answer:
        return False
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        return len(answer.get("choices") or []) == choices_to_pick(kind, presentation)
    if kind == QuestionType.ORDERING:
        count = len(presentation.get("steps", []))
        return sorted((answer.get("positions") or {}).values()) == list(range(1, count + 1))
    return len(answer.get("matches") or {}) == len(presentation.get("prompts", []))


def answer_gap(kind: str, presentation: dict[str, Any], answer: dict[str, Any] | None) -> str:
    """What an incomplete answer lacks, as the end of "Incomplete: …"; empty when complete or unanswered."""
    if not answer or answer_is_complete(kind, presentation, answer):
        return ""
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        pick, chosen = choices_to_pick(kind, presentation), len(answer.get("choices") or [])
        return f"choose {_count_words(pick)} options; {_count_words(chosen)} {'is' if chosen == 1 else 'are'} chosen."
    if kind == QuestionType.ORDERING:
        count = len(presentation.get("steps", []))
        given = list((answer.get("positions") or {}).values())
        parts = []
        if len(given) < count:
            parts.append(f"{count - len(given)} of {count} steps have no position")
        parts += [
            f"position {position} is given to {given.count(position)} steps"
            for position in sorted(set(given))
            if given.count(position) > 1
        ]
        return "; ".join(parts) + "."
    count, matched = len(presentation.get("prompts", [])), len(answer.get("matches") or {})
    return f"{matched} of {count} items are matched."


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
    pick: int = 1  # options to choose
    pick_words: str = "one"


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
    pick = sum(choice.is_correct for choice in choices_by_id.values()) or 1
    return ShownItem(choices, steps, prompts, responses, range(1, len(steps) + 1), pick, _count_words(pick))


@dataclass
class ReviewedOption:
    letter: str
    text: str
    chosen: bool
    correct: bool
    rationale: str


@dataclass
class ReviewedStep:
    text: str
    position: int  # the right one
    given: int | None  # where the candidate put it
    rationale: str


@dataclass
class ReviewedMatch:
    prompt: str
    given: str | None
    correct: str
    rationale: str

    @property
    def right(self) -> bool:
        return self.given == self.correct


@dataclass
class ItemReview:
    """An item after its answer is final, in the order the candidate saw it: their answer next to the key.

    Only for locked answers (checked practice items, finished attempts): it carries the key and rationales.
    """

    kind: str
    options: list[ReviewedOption]
    steps: list[ReviewedStep]
    matches: list[ReviewedMatch]
    unmatched: list[tuple[str, str]]  # matching responses that fit no prompt, with their rationale
    gap: str

    @property
    def chosen_letters(self) -> list[str]:
        return [option.letter for option in self.options if option.chosen]

    @property
    def correct_letters(self) -> list[str]:
        return [option.letter for option in self.options if option.correct]


def item_review(question: Question, presentation: dict[str, Any], answer: dict[str, Any] | None) -> ItemReview:
    """The reviewed item: options with the letters they were shown under (never the authored order), steps in
    the right order with where the candidate put each, prompts in display order with the given and right match."""
    answer = answer or {}
    kind = question.type
    options, steps, matches, unmatched = [], [], [], []
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        by_id = {choice.pk: choice for choice in question.choices.all()}
        presentation = {**presentation, "pick": sum(choice.is_correct for choice in by_id.values())}
        picked = set(answer.get("choices") or [])
        shown = [cid for cid in presentation.get("choices", []) if cid in by_id]
        shown += [cid for cid in by_id if cid not in shown]  # options added after the attempt: never, but safe
        for number, cid in enumerate(shown, start=1):
            choice = by_id[cid]
            options.append(
                ReviewedOption(option_letter(number), choice.text, cid in picked, choice.is_correct, choice.rationale)
            )
    elif kind == QuestionType.ORDERING:
        given = answer.get("positions") or {}
        steps = [
            ReviewedStep(step.text, step.position, given.get(str(step.pk)), step.rationale)
            for step in question.steps.all()
        ]
    else:
        responses = match_responses(question)
        given = answer.get("matches") or {}
        pairs = {pair.pk: pair for pair in question.pairs.all()}
        order = [pid for pid in presentation.get("prompts", []) if pid in pairs]
        order += [pid for pid, pair in pairs.items() if pair.prompt and pid not in order]
        for pid in order:
            number = given.get(str(pid))
            chosen = responses[number - 1] if isinstance(number, int) and 1 <= number <= len(responses) else None
            matches.append(ReviewedMatch(pairs[pid].prompt, chosen, pairs[pid].response, pairs[pid].rationale))
        unmatched = [(pair.response, pair.rationale) for pair in pairs.values() if not pair.prompt]
    gap = answer_gap(kind, presentation, answer) if answer else ""
    return ItemReview(kind, options, steps, matches, unmatched, gap)
