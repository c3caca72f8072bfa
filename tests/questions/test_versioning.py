import pytest

from apps.questions.models import Choice, ImmutableQuestionError, Question, QuestionStatus
from apps.questions.services import (
    QuestionInvalidError,
    question_new_version,
    question_set_status,
    question_to_draft,
    question_update,
)
from tests.questions.factories import QuestionFactory, single_draft


def test_publishing_freezes_the_version(exam):
    question = QuestionFactory(exam=exam, status="published")
    question = Question.objects.get(pk=question.pk)

    question.stem = "Changed behind the services' back"
    with pytest.raises(ImmutableQuestionError):
        question.save()
    with pytest.raises(ImmutableQuestionError):
        Choice.objects.filter(question=question).first().delete()
    with pytest.raises(QuestionInvalidError, match="create a new version"):
        question_update(question=question, draft=single_draft(stem="New stem"), exam=exam)


def test_editing_a_published_item_leaves_the_previous_version_and_its_id_unchanged(exam):
    # given
    published = QuestionFactory(exam=exam, status="published")
    before = question_to_draft(published)

    # when
    draft = question_new_version(question=published)
    question_update(question=draft, draft=single_draft(stem="A sharper stem for version two?"), exam=exam)
    question_set_status(question=draft, status=QuestionStatus.PUBLISHED)

    # then
    old = Question.objects.get(pk=published.pk)
    new = Question.objects.get(pk=draft.pk)
    assert old.pk != new.pk
    assert (old.family, old.version, new.version) == (new.family, 1, 2)
    assert question_to_draft(old).stem == before.stem
    assert [c.text for c in question_to_draft(old).choices] == [c.text for c in before.choices]
    assert old.status == QuestionStatus.RETIRED
    assert new.status == QuestionStatus.PUBLISHED
    assert new.stem == "A sharper stem for version two?"


def test_a_family_has_at_most_one_open_draft(exam):
    published = QuestionFactory(exam=exam, status="published")

    first = question_new_version(question=published)
    second = question_new_version(question=published)

    assert first.pk == second.pk
    assert Question.objects.filter(family=published.family).count() == 2


def test_new_version_copies_every_part(exam):
    for kind in ("single", "multiple", "ordering", "matching"):
        published = QuestionFactory(exam=exam, type=kind, status="published")
        copy = question_new_version(question=published)
        original, copied = question_to_draft(published), question_to_draft(copy)
        copied.status = original.status
        assert copied == original, kind


def test_publishing_checks_the_rules_again(exam):
    question = QuestionFactory(exam=exam, status="draft")
    Question.objects.filter(pk=question.pk).update(references="")

    with pytest.raises(QuestionInvalidError, match="documentation link"):
        question_set_status(question=question, status=QuestionStatus.PUBLISHED)
    assert Question.objects.get(pk=question.pk).status == QuestionStatus.DRAFT


def test_illegal_status_moves_are_refused(exam):
    question = QuestionFactory(exam=exam, status="published")
    with pytest.raises(QuestionInvalidError, match="cannot move"):
        question_set_status(question=question, status=QuestionStatus.DRAFT)


def test_pretest_items_can_be_promoted(exam):
    question = QuestionFactory(exam=exam, status="pretest")
    promoted = question_set_status(question=question, status=QuestionStatus.PUBLISHED)
    assert promoted.status == QuestionStatus.PUBLISHED
    assert promoted.version == 1
