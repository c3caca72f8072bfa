"""``bank_lint --exam``: the bank in the database checked against one exam version's blueprint and targets."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.questions.lint import EXAM_TARGETS, LintTargets, bank_lint_exam, lint_targets
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import questions_of_exam
from apps.syllabus.models import Exam, Task
from tests.questions.factories import QuestionFactory

REQUIRED_KEYS = {
    "exam",
    "ok",
    "published",
    "pretest",
    "by_domain",
    "by_task",
    "types",
    "skills_total",
    "skills_uncovered",
    "skills_below_minimum",
    "errors",
}


def _lint_json(code: str) -> tuple[dict, bool]:
    """Run the command as a script would; returns its JSON and whether it exited non-zero."""
    out = StringIO()
    try:
        call_command("bank_lint", "--exam", code, "--json", stdout=out, stderr=StringIO())
    except CommandError:
        return json.loads(out.getvalue()), True
    return json.loads(out.getvalue()), False


@pytest.mark.django_db
def test_the_shipped_bank_lints_clean_for_c01_and_c02_and_carried_items_alone_fall_short_of_c02():
    # given the shipped syllabi and the C01 bank only
    call_command("load_syllabus", verbosity=0, stdout=StringIO())
    c01_files = sorted(str(path) for path in (Path(settings.BASE_DIR) / "fixtures" / "bank").glob("task-*.yaml"))
    call_command("load_bank", *c01_files, stdout=StringIO())

    # when C01 is linted, then it passes every check
    c01, failed = _lint_json("MLA-C01")
    assert (c01["ok"], failed, c01["errors"]) == (True, False, [])
    assert c01["exam"] == "MLA-C01"
    assert c01["published"] >= 400
    assert c01["pretest"] >= 45
    assert set(c01["types"]) == {"single", "multiple", "ordering", "matching"}
    assert c01["skills_uncovered"] == []

    # when the C01 bank alone is carried over to C02 and linted there
    call_command("carry_over", "--to", "MLA-C02", stdout=StringIO())
    carried, failed = _lint_json("MLA-C02")

    # then it falls short: skills new in C02 have no item, and only C02's item types count
    assert failed
    assert carried["ok"] is False
    assert carried["exam"] == "MLA-C02"
    assert set(carried["types"]) == {"single", "multiple"}
    assert carried["skills_total"] == 107
    assert "1.1.7" in carried["skills_uncovered"]
    assert set(carried["skills_uncovered"]) <= set(carried["skills_below_minimum"])
    assert "skill 1.1.7: no published item; needs 3." in carried["errors"]
    assert carried["published"] == sum(task["published"] for task in carried["by_task"].values())
    assert carried["published"] == sum(carried["types"].values())
    assert carried["published"] < c01["published"]  # ordering, matching and case-study items stay behind

    # when the items written for C02 are loaded too (the whole shipped bank), then C02 meets its targets
    call_command("load_bank", stdout=StringIO())
    c02, failed = _lint_json("MLA-C02")
    assert (c02["ok"], failed, c02["errors"]) == (True, False, [])
    assert c02["published"] >= 500
    assert c02["pretest"] >= 60
    assert (c02["skills_uncovered"], c02["skills_below_minimum"]) == ([], [])
    assert c02["types"]["multiple"] >= 0.25 * c02["published"]
    c01_again, _ = _lint_json("MLA-C01")
    assert c01_again["ok"] is True


def test_an_item_of_a_type_c02_does_not_use_is_reported_even_when_written_for_it(exam, bank_c02):
    # given an ordering item that slipped in as a C02 item (validation refuses to create one, so it is moved)
    item = QuestionFactory(exam=exam, task="2.1", type="ordering", stem="Put these steps in order, C02 style.")
    Question.objects.filter(pk=item.pk).update(task=Task.objects.get(domain__exam=bank_c02, code="2.1"))

    # when
    report = bank_lint_exam(exam=bank_c02)

    # then it is named, and it counts nowhere else
    assert f"item {item.ref} v1: MLA-C02 forms do not use ordering items." in report.errors
    assert set(report.types) == {"single", "multiple"}
    assert report.published == questions_of_exam(exam=bank_c02).filter(status=QuestionStatus.PUBLISHED).count()


def test_a_domain_far_from_its_weight_is_reported_with_its_number(bank_c02):
    # given every item carried into C02 domain 4 retired
    Question.objects.filter(placements__exam=bank_c02, placements__task__domain__number=4).update(
        status=QuestionStatus.RETIRED
    )

    # when
    report = bank_lint_exam(exam=bank_c02)

    # then
    assert "domain 4: 0.0% of published items; the blueprint says 24% (±2)." in report.errors
    assert "domain 4: 0 pretest items; needs 5." in report.errors
    assert [domain.published for domain in report.domains][3] == 0


def test_items_without_an_angoff_rating_or_a_reference_are_named(bank_c02):
    # given two carried-over items, one without an Angoff rating, one without references
    first, second = questions_of_exam(exam=bank_c02).filter(status=QuestionStatus.PUBLISHED).order_by("pk")[:2]
    Question.objects.filter(pk=first.pk).update(angoff=None)
    Question.objects.filter(pk=second.pk).update(references="  \n")

    # when
    errors = bank_lint_exam(exam=bank_c02).errors

    # then
    assert f"item {first.ref} v1: needs an Angoff rating." in errors
    assert f"item {second.ref} v1: needs at least one reference link." in errors
    assert sum("Angoff" in error or "reference link" in error for error in errors) == 2


def test_items_count_under_their_task_in_the_version_in_a_few_queries(bank_c02, django_assert_max_num_queries):
    # when
    with django_assert_max_num_queries(10):
        report = bank_lint_exam(exam=bank_c02)

    # then every published item the version can use counts once, under its task there
    usable = questions_of_exam(exam=bank_c02)
    assert report.published == usable.filter(status=QuestionStatus.PUBLISHED).count()
    assert report.pretest == usable.filter(status=QuestionStatus.PRETEST).count()
    assert sum(task.published for task in report.tasks) == report.published
    assert {task.code for task in report.tasks} == set(
        Task.objects.filter(domain__exam=bank_c02).values_list("code", flat=True)
    )
    # the small bank is far from C02's targets
    assert f"bank: {report.published} published items; needs at least 500." in report.errors


def test_the_json_report_has_every_key_and_the_command_fails_on_problems(bank_c02):
    # when
    data, failed = _lint_json("MLA-C02")

    # then
    assert failed
    assert set(data) >= REQUIRED_KEYS
    assert data["ok"] is False
    assert data["errors"]
    assert set(data["by_domain"]) == {"1", "2", "3", "4"}
    assert set(data["by_domain"]["1"]) >= {"published", "share", "weight"}
    assert data["by_domain"]["1"]["weight"] == 28
    assert set(data["by_task"]["1.1"]) == {"published", "pretest"}
    assert data["skills_total"] == 107
    assert data["min_per_skill"] == 3


def test_the_readable_report_shows_domains_tasks_and_errors(bank_c02):
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=r"bank_lint MLA-C02: \d+ problem"):
        call_command("bank_lint", "--exam", "MLA-C02", stdout=out, stderr=err)

    assert "domain task" in out.getvalue()
    assert "MLA-C02:" in out.getvalue()
    assert "needs at least 500" in err.getvalue()


def test_an_unknown_exam_code_is_named(exam):
    with pytest.raises(CommandError, match="MLA-C99"):
        call_command("bank_lint", "--exam", "MLA-C99")


def test_json_without_an_exam_is_refused():
    with pytest.raises(CommandError, match="--exam"):
        call_command("bank_lint", "--json")


def test_each_version_has_its_targets_and_an_unknown_one_gets_defaults_fitted_to_its_format():
    c02 = lint_targets(Exam(code="MLA-C02", item_types=["single", "multiple"], case_studies_per_form=0))
    assert c02 is EXAM_TARGETS["MLA-C02"]
    assert (c02.min_published, c02.min_pretest, c02.min_per_skill, c02.min_multiple) == (500, 60, 3, 0.25)
    assert lint_targets(Exam(code="MLA-C01")) == LintTargets()

    later = lint_targets(Exam(code="MLA-C03", item_types=["single", "multiple"], case_studies_per_form=0))
    assert (later.min_ordering, later.min_matching, later.min_case_studies) == (0.0, 0.0, 0)
    assert later.min_published == LintTargets().min_published
