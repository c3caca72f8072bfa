"""What counts as a complete answer, what an incomplete one lacks, and how a finished item is shown next to its key."""

import random

import pytest

from apps.exams.presentation import answer_gap, answer_is_complete, item_review, presentation_build
from apps.questions.selectors import questions_with_parts
from tests.questions.factories import QuestionFactory


def build(exam, kind: str, seed: int = 0):
    question = QuestionFactory(exam=exam, type=kind, task="1.1")
    question = questions_with_parts().get(pk=question.pk)
    return question, presentation_build(question, random.Random(seed))


@pytest.mark.django_db
def test_choice_items_are_complete_with_exactly_the_number_asked_for(exam):
    _, shown_single = build(exam, "single")
    _, shown = build(exam, "multiple")
    ids = shown["choices"]
    assert shown["pick"] == 2  # "(Choose two.)"

    assert answer_is_complete("single", shown_single, {"choices": [shown_single["choices"][0]]})
    assert not answer_is_complete("multiple", shown, {"choices": ids[:1]})
    assert answer_is_complete("multiple", shown, {"choices": ids[:2]})
    assert not answer_is_complete("multiple", shown, {"choices": ids[:4]})
    assert not answer_is_complete("multiple", shown, None)
    assert answer_gap("multiple", shown, {"choices": ids[:1]}) == "choose two options; one is chosen."
    assert answer_gap("multiple", shown, {"choices": ids[:4]}) == "choose two options; four are chosen."
    assert answer_gap("multiple", shown, {"choices": ids[:2]}) == ""


@pytest.mark.django_db
def test_an_order_is_complete_only_with_each_step_in_its_own_position(exam):
    _, shown = build(exam, "ordering")
    steps = [str(step) for step in shown["steps"]]

    full = {"positions": {step: n for n, step in enumerate(steps, start=1)}}
    repeated = {"positions": dict.fromkeys(steps, 1)}
    partial = {"positions": {steps[0]: 1, steps[1]: 2}}

    assert answer_is_complete("ordering", shown, full)
    assert not answer_is_complete("ordering", shown, repeated)
    assert not answer_is_complete("ordering", shown, partial)
    assert answer_gap("ordering", shown, repeated) == "position 1 is given to 4 steps."
    assert answer_gap("ordering", shown, partial) == "2 of 4 steps have no position."


@pytest.mark.django_db
def test_a_matching_is_complete_only_with_every_item_matched(exam):
    _, shown = build(exam, "matching")
    prompts = [str(prompt) for prompt in shown["prompts"]]

    assert answer_is_complete("matching", shown, {"matches": dict.fromkeys(prompts, 1)})  # one response, twice
    assert not answer_is_complete("matching", shown, {"matches": {prompts[0]: 1}})
    assert answer_gap("matching", shown, {"matches": {prompts[0]: 1}}) == "1 of 3 items are matched."


@pytest.mark.django_db
def test_a_reviewed_item_keeps_the_letters_the_candidate_saw(exam):
    question, shown = build(exam, "single", seed=3)
    by_id = {choice.pk: choice for choice in question.choices.all()}
    second_shown = shown["choices"][1]

    review = item_review(question, shown, {"choices": [second_shown]})

    assert [option.text for option in review.options] == [by_id[cid].text for cid in shown["choices"]]
    assert review.chosen_letters == ["B"]
    key = next(cid for cid in shown["choices"] if by_id[cid].is_correct)
    assert review.correct_letters == ["ABCD"[shown["choices"].index(key)]]
    assert review.options[1].rationale == by_id[second_shown].rationale
