"""Exam versions side by side: the MLA-C02 blueprint, its beta form, and the map from C01's objectives."""

from pathlib import Path

import pytest
from django.core.management import call_command

from apps.syllabus.models import Exam, ExamStatus, Objective, Task
from apps.syllabus.selectors import exam_default, exam_versions
from apps.syllabus.services import SyllabusFileError, syllabus_files_order, syllabus_load, syllabus_map_load
from tests.conftest import MAP_C01_C02, SYLLABUS, SYLLABUS_C02

REMOVED_IN_C02 = ["1.3.13", "2.2.10", "2.2.15", "3.1.14", "4.2.7", "4.2.11"]


def test_the_c02_fixture_holds_its_own_blueprint_and_format(exam_c02):
    exam = exam_c02
    assert (exam.code, exam.question_count, exam.scored_count, exam.unscored_count, exam.minutes) == (
        "MLA-C02",
        65,
        50,
        15,
        130,
    )
    assert (exam.scale_min, exam.scale_max, exam.passing_score) == (100, 1000, 720)
    assert exam.item_types == ["single", "multiple"]
    assert exam.case_studies_per_form == 0
    assert list(exam.domains.values_list("number", "weight")) == [(1, 28), (2, 24), (3, 24), (4, 24)]
    assert Task.objects.filter(domain__exam=exam).count() == 12
    assert Objective.objects.filter(task__domain__exam=exam).count() == 107
    assert exam.status == ExamStatus.CURRENT
    assert exam.is_current
    assert exam.replaces.code == "MLA-C01"
    assert exam.languages == ["en", "ja", "ko", "zh-Hans"]


def test_c02_has_a_beta_form_of_85_questions_in_170_minutes(exam_c02, exam):
    assert exam_c02.has_beta
    assert (exam_c02.beta_code, exam_c02.beta_question_count, exam_c02.beta_minutes) == ("ME1-C02", 85, 170)
    assert not exam.has_beta


def test_c01_is_retiring_and_says_where_it_is_still_offered(exam_c02, exam):
    exam.refresh_from_db()
    assert exam.status == ExamStatus.RETIRING
    assert exam.language_list == "Japanese, Korean and Simplified Chinese"
    assert "28 September 2026" in exam.status_note


def test_the_current_version_comes_first_and_is_the_default(exam_c02, exam):
    assert [version.code for version in exam_versions()] == ["MLA-C02", "MLA-C01"]
    assert exam_default() == exam_c02

    Exam.objects.filter(pk=exam.pk).update(status=ExamStatus.RETIRED)

    assert [version.code for version in exam_versions()] == ["MLA-C02"]


def test_every_task_of_c02_continues_the_c01_task_with_its_code(exam_c02):
    for task in Task.objects.filter(domain__exam=exam_c02).select_related("continues__domain__exam"):
        assert task.continues is not None, task.code
        assert (task.continues.domain.exam.code, task.continues.code) == ("MLA-C01", task.code)


def test_every_c01_objective_is_continued_by_a_c02_skill_or_marked_removed(exam_c02, exam):
    objectives = Objective.objects.filter(task__domain__exam=exam).select_related("successor__task__domain")
    removed = sorted((o.code for o in objectives if o.removed_in_id == exam_c02.pk), key=_key)
    assert removed == REMOVED_IN_C02
    for objective in objectives:
        if objective.code in REMOVED_IN_C02:
            assert objective.successor is None
        else:
            assert objective.successor.task.domain.exam == exam_c02, objective.code
    assert objectives.get(task__code="1.1", order=1).successor.code == "1.1.5"


def _key(code: str) -> list[int]:
    return [int(part) for part in code.split(".")]


def test_reloading_the_map_changes_nothing(exam_c02):
    before = list(Objective.objects.order_by("pk").values_list("pk", "successor_id", "removed_in_id"))

    result = syllabus_map_load(path=MAP_C01_C02)

    assert (result.continued, result.removed) == (186, 6)
    assert list(Objective.objects.order_by("pk").values_list("pk", "successor_id", "removed_in_id")) == before


def _map(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def _full_map_with(code: str, value: str) -> str:
    """The shipped map with one entry changed."""
    return "\n".join(
        f'  "{code}": {value}' if line.strip().startswith(f'"{code}":') else line
        for line in MAP_C01_C02.read_text(encoding="utf-8").splitlines()
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("from: MLA-C01\nto: MLA-C09\nobjectives: {}\n", "must both be loaded first"),
        ("to: MLA-C02\nobjectives: {}\n", "names `from:` and `to:`"),
        ("from: MLA-C01\nto: MLA-C02\nobjectives: [1, 2]\n", "`objectives:` must map each skill code"),
        ("from: MLA-C01\nto: MLA-C02\nobjectives:\n  '1.1.1': '1.1.5'\n", "these MLA-C01 skills are not mapped"),
        ("from: [MLA-C01\n", "not valid YAML"),
    ],
)
def test_a_bad_map_names_the_file_and_what_is_wrong(exam_c02, tmp_path, body, message):
    with pytest.raises(SyllabusFileError, match=r"map\.yaml") as raised:
        syllabus_map_load(path=_map(tmp_path, body))

    assert message in str(raised.value)


def test_a_map_naming_a_skill_c02_lacks_is_refused_and_writes_nothing(exam_c02, tmp_path):
    before = list(Objective.objects.order_by("pk").values_list("pk", "successor_id", "removed_in_id"))
    Objective.objects.update(successor=None, removed_in=None)
    cleared = list(Objective.objects.order_by("pk").values_list("pk", "successor_id", "removed_in_id"))

    with pytest.raises(SyllabusFileError, match=r"map\.yaml: objectives\.1\.1\.2: MLA-C02 has no skill '9\.9\.9'"):
        syllabus_map_load(path=_map(tmp_path, _full_map_with("1.1.2", '"9.9.9"')))

    assert list(Objective.objects.order_by("pk").values_list("pk", "successor_id", "removed_in_id")) == cleared
    assert before != cleared


def test_load_syllabus_loads_each_version_after_the_one_it_replaces_then_the_maps(db, tmp_path):
    ordered, maps = syllabus_files_order([MAP_C01_C02, SYLLABUS_C02, SYLLABUS])
    assert (ordered, maps) == ([SYLLABUS, SYLLABUS_C02], [MAP_C01_C02])

    call_command("load_syllabus", verbosity=0)

    assert sorted(Exam.objects.values_list("code", flat=True)) == ["MLA-C01", "MLA-C02"]
    assert Objective.objects.filter(task__domain__exam__code="MLA-C01", successor__isnull=False).count() == 186


def test_a_version_replacing_one_not_loaded_is_refused(db, tmp_path):
    path = tmp_path / "c02.yaml"
    path.write_text(SYLLABUS_C02.read_text(encoding="utf-8"), encoding="utf-8")

    with pytest.raises(SyllabusFileError, match=r"c02\.yaml: exam\.replaces names 'MLA-C01', which is not loaded"):
        syllabus_load(path=path)
    assert not Exam.objects.exists()
