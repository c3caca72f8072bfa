from pathlib import Path

import pytest

from apps.syllabus.models import Domain, Exam, Objective, Task
from apps.syllabus.services import SyllabusFileError, syllabus_load
from tests.conftest import SYLLABUS


def test_the_mla_c01_fixture_loads_the_whole_blueprint(db):
    # when
    result = syllabus_load(path=SYLLABUS)

    # then
    exam = result.exam
    assert (exam.code, exam.minutes, exam.question_count, exam.scored_count, exam.unscored_count) == (
        "MLA-C01",
        130,
        65,
        50,
        15,
    )
    assert (exam.scale_min, exam.scale_max, exam.passing_score) == (100, 1000, 720)
    assert exam.case_studies_per_form == 1
    assert list(exam.domains.values_list("number", "weight")) == [(1, 28), (2, 26), (3, 22), (4, 24)]
    assert Task.objects.filter(domain__exam=exam).count() == 12
    assert Objective.objects.filter(task__domain__exam=exam).count() == 192
    for task in Task.objects.filter(domain__exam=exam):
        assert task.objectives.count() == 16, task.code


def test_official_titles_are_kept(exam):
    assert exam.domains.get(number=3).title == "Deployment and Orchestration of ML Workflows"
    assert Task.objects.get(domain__exam=exam, code="2.2").title == "Train and refine models"


def test_objective_codes_follow_the_syllabus_order(exam):
    objective = Objective.objects.select_related("task").get(task__code="1.1", order=1)
    assert objective.code == "1.1.1"
    assert "Parquet" in objective.statement


def test_reloading_changes_nothing_and_keeps_ids(exam):
    before = dict(Objective.objects.values_list("id", "statement"))

    syllabus_load(path=SYLLABUS)

    assert dict(Objective.objects.values_list("id", "statement")) == before
    assert Exam.objects.count() == 1


def test_a_second_exam_needs_only_a_fixture(db, tmp_path: Path):
    # given
    path = tmp_path / "other.yaml"
    path.write_text(
        """
exam: {code: TEST-01, title: Another exam, minutes: 60, questions: 30, scored: 25, unscored: 5,
       scale_min: 100, scale_max: 1000, passing_score: 700}
domains:
  - number: 1
    title: Only domain
    weight: 100
    tasks:
      - {code: "1.1", title: Only task, objectives: [Do one thing., Do another thing.]}
"""
    )
    syllabus_load(path=SYLLABUS)

    # when
    result = syllabus_load(path=path)

    # then
    assert Exam.objects.count() == 2
    assert result.exam.passing_score == 700
    assert result.exam.case_studies_per_form == 1  # the default when the file does not say
    assert Domain.objects.filter(exam=result.exam).count() == 1
    assert Objective.objects.filter(task__domain__exam=result.exam).count() == 2


def test_a_broken_syllabus_file_is_refused_and_names_the_file(db, tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("exam: {code: X-1}\ndomains: [{number: 1}]\n")

    with pytest.raises(SyllabusFileError, match=r"broken\.yaml"):
        syllabus_load(path=path)

    assert Exam.objects.count() == 0


SECOND_EXAM = """
exam: {code: TEST-02, title: Another exam, minutes: 60, questions: 30, scored: 25, unscored: 5,
       scale_min: 100, scale_max: 1000, passing_score: 700, case_studies_per_form: %s}
domains:
  - {number: 1, title: Only domain, weight: 100, tasks: [{code: "1.1", title: Only task, objectives: [Do it.]}]}
"""


def test_an_exam_without_case_studies_says_so_in_its_file(db, tmp_path: Path):
    path = tmp_path / "c02.yaml"
    path.write_text(SECOND_EXAM % "0")

    result = syllabus_load(path=path)

    assert result.exam.case_studies_per_form == 0


@pytest.mark.parametrize("value", ["-1", "two", "1.5", "true", "100000"])
def test_a_bad_case_study_count_is_refused_by_name(db, tmp_path: Path, value: str):
    path = tmp_path / "bad.yaml"
    path.write_text(SECOND_EXAM % value)

    with pytest.raises(SyllabusFileError, match=r"bad\.yaml: exam\.case_studies_per_form must be a whole number"):
        syllabus_load(path=path)

    assert Exam.objects.count() == 0
