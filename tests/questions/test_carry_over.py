"""Carrying the C01 bank over to MLA-C02: which items go, under which task and skills, and which stay behind."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.questions.models import Placement, Question
from apps.questions.placements import CarryOverError, bank_carry_over, skill_coverage
from apps.questions.selectors import questions_of_exam
from apps.questions.services import (
    question_create,
    question_new_version,
    question_set_status,
    question_to_draft,
    question_update,
)
from tests.exams.factories import bank_build
from tests.questions.factories import QuestionFactory, single_draft


@pytest.fixture
def c01_bank(exam, exam_c02):
    bank_build(exam, per_task=6)  # per task: single, multiple, single, ordering, single, matching; a case study
    return exam


def test_single_and_multiple_items_go_over_the_rest_stay_behind_with_a_reason(c01_bank, exam_c02):
    # given: 72 published + 24 pretest + 3 case items; 12 ordering and 12 matching among the published
    # when
    report = bank_carry_over(target=exam_c02)

    # then
    assert report.placed == 72 - 24 + 24  # single/multiple published, all pretest (single)
    assert {reason: len(items) for reason, items in report.left.items()} == {
        "MLA-C02 forms do not use ordering items": 12,
        "MLA-C02 forms do not use matching items": 12,
        "MLA-C02 forms carry no case studies": 3,
    }
    placed = Question.objects.filter(placements__exam=exam_c02)
    assert set(placed.values_list("type", flat=True)) == {"single", "multiple"}
    assert not placed.filter(case_study__isnull=False).exists()


def test_an_item_goes_under_the_task_and_skill_that_continue_its_own(c01_bank, exam_c02):
    item = QuestionFactory(exam=c01_bank, task="2.2", type="single", stem="Which option trains on Spot capacity?")
    moved = QuestionFactory(exam=c01_bank, task="1.2", type="single", stem="Which step imputes missing values?")

    bank_carry_over(target=exam_c02, questions=Question.objects.filter(pk__in=[item.pk, moved.pk]))

    placement = Placement.objects.get(question=item, exam=exam_c02)
    assert (placement.task.code, placement.task.domain.exam) == ("2.2", exam_c02)
    assert [skill.code for skill in placement.objectives.all()] == ["2.2.7"]  # C01 2.2.1 continues as C02 2.2.7
    # C01 1.2.1 (cleaning) continues as C02 1.3.7: the skill moved task, and the item goes with it
    assert Placement.objects.get(question=moved).task.code == "1.3"


def test_an_item_whose_skills_were_all_removed_stays_behind(exam, exam_c02):
    # optimising models for edge devices (C01 3.1.14) was removed in C02
    question = question_create(draft=single_draft(task="3.1", objectives=["3.1.14"]), exam=exam, ref="edge-1")

    report = bank_carry_over(target=exam_c02)

    assert report.left == {"every skill it was written for was removed in MLA-C02": [question.ref]}
    assert not Placement.objects.exists()


def test_carrying_over_twice_changes_nothing_and_a_dry_run_writes_nothing(c01_bank, exam_c02):
    dry = bank_carry_over(target=exam_c02, dry_run=True)
    assert dry.placed == 72
    assert not Placement.objects.exists()

    first = bank_carry_over(target=exam_c02)
    rows = list(Placement.objects.order_by("pk").values_list("pk", "question_id", "task_id"))
    second = bank_carry_over(target=exam_c02)

    assert (first.placed, second.placed, second.updated, second.unchanged) == (72, 0, 0, 72)
    assert list(Placement.objects.order_by("pk").values_list("pk", "question_id", "task_id")) == rows


def test_a_new_version_of_a_carried_over_item_stays_carried_over(c01_bank, exam_c02):
    bank_carry_over(target=exam_c02)
    item = Question.objects.filter(placements__exam=exam_c02, status="published").first()

    new = question_new_version(question=item)
    question_set_status(question=new, status="in_review")
    question_set_status(question=new, status="published")

    assert Placement.objects.get(question=new, exam=exam_c02).task == Placement.objects.get(question=item).task
    served = questions_of_exam(exam=exam_c02).filter(family=item.family, status="published")
    assert list(served.values_list("pk", flat=True)) == [new.pk]


def test_an_edit_that_takes_an_item_out_of_c02_withdraws_its_placement(exam, exam_c02):
    item = QuestionFactory(exam=exam, task="4.2", type="single", status="draft", stem="Which metric shows idle GPUs?")
    bank_carry_over(target=exam_c02)
    assert Placement.objects.filter(question=item).exists()

    draft = question_to_draft(item)
    draft.objectives = ["4.2.7"]  # removed in C02
    question_update(question=item, draft=draft, exam=exam)

    assert not Placement.objects.filter(question=item).exists()


def test_coverage_per_skill_counts_items_placed_and_names_the_gaps(c01_bank, exam_c02):
    report = bank_carry_over(target=exam_c02)

    coverage = {skill.code: skill.published for skill in report.coverage}
    assert len(coverage) == 107
    assert coverage["1.1.5"] == 4  # task 1.1's single and multiple items were written for C01 1.1.1
    assert coverage["1.1.7"] == 0  # vector stores: added in C02, no C01 item can cover it
    assert {skill.code for skill in report.gaps} == {code for code, n in coverage.items() if n == 0}
    assert skill_coverage(exam=exam_c02) == report.coverage


def test_a_version_that_replaces_nothing_cannot_be_carried_over_to(exam):
    with pytest.raises(CarryOverError, match="MLA-C01 replaces no earlier version"):
        bank_carry_over(target=exam)


def test_the_command_reports_what_moved_what_stayed_and_the_gaps(c01_bank, exam_c02):
    out = StringIO()
    call_command("carry_over", "--to", "MLA-C02", "--gaps", stdout=out)

    text = out.getvalue()
    assert "MLA-C01 → MLA-C02: 72 items were placed, 0 updated, 0 unchanged." in text
    assert "12 stay behind: MLA-C02 forms do not use ordering items." in text
    assert "1.1.7  " in text  # a gap, listed with its statement

    out = StringIO()
    call_command("carry_over", "--to", "MLA-C02", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["placed"], report["unchanged"], report["skills_total"]) == (0, 72, 107)
    assert report["left"]["MLA-C02 forms carry no case studies"] == 3
    assert report["coverage"]["1.1.7"] == 0


def test_the_command_names_a_version_that_is_not_loaded(db):
    with pytest.raises(CommandError, match="Exam version MLA-C09 is not loaded"):
        call_command("carry_over", "--to", "MLA-C09")


def test_a_multiple_response_item_keeps_its_type_in_c02(exam, exam_c02):
    item = Question.objects.get(
        pk=QuestionFactory(exam=exam, task="2.1", type="multiple", stem="Which two suit tabular data? (Choose two.)").pk
    )
    bank_carry_over(target=exam_c02)

    assert questions_of_exam(exam=exam_c02).get(pk=item.pk).type == "multiple"
