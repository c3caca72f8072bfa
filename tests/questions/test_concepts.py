"""Concept tags: items that test the same thing never meet on one mock form."""

import random
from collections import Counter

import pytest

from apps.exams.assembly import form_assemble
from apps.questions.interchange.importing import bank_load
from apps.questions.models import Question
from apps.questions.rules import validate_question
from tests.exams.factories import bank_build
from tests.questions.factories import single_draft
from tests.questions.test_bank_load import document, item


def test_a_concept_is_a_lower_case_slug():
    assert validate_question(single_draft(concept="model-card")) == []
    errors = [str(error) for error in validate_question(single_draft(concept="Model Card"))]
    assert errors == ["concept: 'Model Card' must be lower-case letters, digits and hyphens, up to 60."]


def test_tagging_a_loaded_item_retags_its_family_in_place_without_a_new_version(exam):
    bank_load(text=document(item("a-1")), filename="t.yaml", exam=exam)
    tagged = document(item("a-1").replace("    type: single", "    concept: s3-storage-cost\n    type: single"))

    result = bank_load(text=tagged, filename="t.yaml", exam=exam)

    question = Question.objects.get()
    assert (result.updated, result.new_versions, question.version) == (1, 0, 1)
    assert question.concept == "s3-storage-cost"
    assert bank_load(text=tagged, filename="t.yaml", exam=exam).unchanged == 1


def test_a_mock_holds_at_most_one_item_of_a_concept(bank, candidate):
    # given: in every task, two published items test one concept
    for task_id in set(Question.objects.filter(task__domain__exam=bank).values_list("task_id", flat=True)):
        pks = Question.objects.filter(task_id=task_id, status="published", case_study=None).order_by("pk")[:2]
        Question.objects.filter(pk__in=[q.pk for q in pks]).update(concept=f"concept-{task_id}")

    for seed in range(5):
        form = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))

        concepts = Counter(p.question.concept for p in form if p.question.concept)
        assert concepts
        assert max(concepts.values()) == 1, concepts


def test_a_small_bank_still_fills_the_form_when_concepts_would_leave_it_short(exam, candidate):
    bank_build(exam, per_task=6)
    Question.objects.filter(status="published", case_study=None).update(concept="everything")

    form = form_assemble(exam=exam, candidate=candidate, rng=random.Random(1))

    assert sum(p.scored for p in form) == 50


@pytest.mark.parametrize("fmt_suffix", ["json"])
def test_native_export_carries_the_concept(exam, fmt_suffix):
    from apps.questions.interchange.exporting import questions_export

    bank_load(
        text=document(item("a-1").replace("    type: single", "    concept: s3-storage-cost\n    type: single")),
        filename="t.yaml",
        exam=exam,
    )

    exported = questions_export(queryset=Question.objects.all(), fmt="native").data.decode()

    assert '"concept": "s3-storage-cost"' in exported
