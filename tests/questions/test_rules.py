"""One test per authoring rule: each broken item is refused with a message on the right field."""

import pytest

from apps.questions.rules import ChoiceDraft, PairDraft, StepDraft, choose_count, validate_question
from tests.questions.factories import matching_draft, multiple_draft, ordering_draft, single_draft


def fields(draft) -> dict[str, str]:
    return {error.field: error.message for error in validate_question(draft)}


@pytest.mark.parametrize("make", [single_draft, multiple_draft, ordering_draft, matching_draft])
def test_well_formed_items_of_every_type_pass(make):
    assert validate_question(make()) == []


def test_unknown_type():
    assert "type" in fields(single_draft(type="essay"))


def test_stem_is_required():
    assert fields(single_draft(stem="  "))["stem"] == "is required."


def test_explanation_is_required():
    assert "explanation" in fields(single_draft(explanation=""))


def test_difficulty_must_be_known():
    assert "difficulty" in fields(single_draft(difficulty="extreme"))


@pytest.mark.parametrize("angoff", [0, 1, 1.5, -0.1])
def test_angoff_is_a_probability(angoff):
    assert "angoff" in fields(single_draft(angoff=angoff))


def test_objectives_must_belong_to_the_task():
    assert "objectives" in fields(single_draft(objectives=["2.1.1"]))


def test_an_objective_is_required():
    assert "objectives" in fields(single_draft(objectives=[]))


def test_references_must_be_http_links():
    assert "references[1]" in fields(single_draft(references=["javascript:alert(1)"]))


def test_single_answer_needs_exactly_one_key():
    draft = single_draft()
    draft.choices[1].correct = True
    assert "exactly one correct option" in fields(draft)["options"]


def test_single_answer_needs_three_to_six_options():
    draft = single_draft()
    draft.choices = draft.choices[:2]
    assert "needs 3 to 6 options" in fields(draft)["options"]


def test_single_answer_must_not_say_choose_two():
    assert "single-answer" in fields(single_draft(stem="Pick the best. (Choose two.)"))["stem"]


def test_multiple_response_with_one_key_is_refused():
    draft = multiple_draft()
    draft.choices[1].correct = False
    assert "at least two correct" in fields(draft)["options"]


def test_multiple_response_stem_must_match_key_count():
    draft = multiple_draft()
    draft.choices[2].correct = True
    assert fields(draft)["stem"] == 'says "Choose two" but 3 options are marked correct.'


def test_multiple_response_stem_must_say_how_many():
    assert "must say how many" in fields(multiple_draft(stem="Which formats are columnar?"))["stem"]


def test_multiple_response_needs_five_options():
    draft = multiple_draft()
    draft.choices = draft.choices[:4]
    assert "needs 5 to 8 options" in fields(draft)["options"]


def test_multiple_response_cannot_mark_every_option_correct():
    draft = multiple_draft(stem="Which? (Choose five.)")
    for choice in draft.choices:
        choice.correct = True
    assert "every option is marked correct" in fields(draft)["options"]


def test_every_option_needs_a_rationale():
    draft = single_draft()
    draft.choices[2].rationale = ""
    assert "options[3].rationale" in fields(draft)


def test_options_must_differ():
    draft = single_draft()
    draft.choices[3].text = "amazon  S3"
    assert "repeats option 1" in fields(draft)["options[4].text"]


@pytest.mark.parametrize("text", ["All of the above", "None of the above."])
def test_all_or_none_of_the_above_is_banned(text):
    draft = single_draft()
    draft.choices[3].text = text
    assert "not allowed" in fields(draft)["options[4].text"]


def test_ordering_needs_three_to_five_steps():
    draft = ordering_draft()
    draft.steps = draft.steps[:2]
    assert "needs 3 to 5 steps" in fields(draft)["steps"]
    draft.steps = [StepDraft(f"Step {n}", "why") for n in range(6)]
    assert "needs 3 to 5 steps" in fields(draft)["steps"]


def test_ordering_steps_need_rationales():
    draft = ordering_draft()
    draft.steps[0].rationale = ""
    assert "steps[1].rationale" in fields(draft)


def test_matching_needs_three_to_seven_prompts():
    draft = matching_draft()
    draft.pairs = draft.pairs[:2]
    assert "needs 3 to 7 prompts" in fields(draft)["pairs"]


def test_matching_allows_a_response_used_twice():
    draft = matching_draft()
    draft.pairs.append(PairDraft("Large payload, no rush", "Asynchronous inference", "Async again."))
    assert validate_question(draft) == []


def test_matching_unused_response_must_not_also_be_an_answer():
    draft = matching_draft()
    draft.pairs.append(PairDraft(None, "Batch transform", "Duplicate."))
    assert "also the answer" in fields(draft)["pairs"]


def test_parts_of_another_type_are_refused():
    draft = single_draft(steps=[StepDraft("x", "y")])
    assert "single item has no steps" in fields(draft)["steps"]


def test_choose_count_reads_words_and_digits():
    assert choose_count("Which ones? (Choose two.)") == 2
    assert choose_count("Which ones? (Choose 3)") == 3
    assert choose_count("Which one?") is None


def test_choice_text_length_limit():
    draft = single_draft()
    draft.choices[0] = ChoiceDraft("x" * 1001, "why", True)
    assert "options[1].text" in fields(draft)


def test_plain_message_names_the_part_in_words_without_internal_paths():
    from apps.questions.rules import RuleError, plain_message

    def plain(field: str, message: str, kind: str = "multiple") -> str:
        return plain_message(RuleError(field, message), item_type=kind)

    assert plain("options[2].rationale", "Option 2 needs a rationale.") == "Option B needs a rationale."
    assert plain("options[3].text", "repeats option 1 ('S3').") == "Option C repeats option A ('S3')."
    assert plain("steps[2].text", "is longer than 1000 characters.") == "Step 2 is longer than 1000 characters."
    assert plain("steps", "needs 3 to 5 steps, has 1.", "ordering") == "An ordering item needs 3 to 5 steps, has 1."
    assert plain("stem", 'says "Choose two" but 3 options are marked correct.') == (
        'The stem says "Choose two" but 3 options are marked correct.'
    )
    assert plain("status", "cannot move ux-multi-1 v1 from draft to retired.") == (
        "Cannot move ux-multi-1 v1 from draft to retired."
    )
