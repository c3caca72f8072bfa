"""What a migrated bank keeps of its source: question names, the category tree, tags; and the remembered
category → task map that places whole categories at once."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.questions.interchange import moodlexml
from apps.questions.interchange.exporting import question_items, questions_export, questions_for_export
from apps.questions.interchange.importing import questions_import
from apps.questions.models import CategoryTask, Question
from apps.syllabus.models import Task

SAMPLE = Path(__file__).parent / "samples" / "moodlexml" / "category_tree.xml"

pytestmark = pytest.mark.django_db


def test_moodle_names_category_paths_and_tags_are_kept():
    result = moodlexml.parse(SAMPLE.read_bytes(), name="tree.xml")

    assert result.errors == []
    drafts = [item.draft for item in result.items]
    assert [d.name for d in drafts] == [
        "Imbalanced labels: which metric",
        "Missing values in a numeric column",
        "Spiky traffic endpoint",
    ]
    assert [d.category for d in drafts] == [
        "Machine learning/Data preparation",
        "Machine learning/Data preparation",
        "Machine learning/Deployment",
    ]
    assert drafts[0].tags == ["metrics", "Week 3"]
    assert drafts[2].tags == ["deployment"]
    assert not any("tag" in str(warning) for warning in result.warnings)


def test_a_category_map_places_whole_categories_and_is_remembered_for_the_next_import(exam, tmp_path):
    # given a map for one of the two categories
    csv_file = tmp_path / "map.csv"
    csv_file.write_text("category,task\nMachine learning/Data preparation,1.2\n")
    out = StringIO()

    # when the bank is imported with it
    call_command("import_questions", str(SAMPLE), "--categories", str(csv_file), stdout=out)

    # then that category's questions have the task, the other waits for one, and the map is remembered
    placed = Question.objects.filter(category="Machine learning/Data preparation")
    assert {q.task.code for q in placed} == {"1.2"}
    assert Question.objects.get(name="Spiky traffic endpoint").task is None
    assert CategoryTask.objects.get(exam=exam, category="Machine learning/Data preparation").task.code == "1.2"
    assert "Remembered 1 category" in out.getvalue()

    # and a later import of the same category needs no map
    Question.objects.all().delete()
    report = questions_import(data=SAMPLE.read_bytes(), filename="again.xml", exam=exam)
    assert report.errors == []
    assert {q.task.code for q in Question.objects.filter(category="Machine learning/Data preparation")} == {"1.2"}


def test_a_bad_category_map_names_the_file_and_line_and_imports_nothing(exam, tmp_path):
    csv_file = tmp_path / "map.csv"
    csv_file.write_text("Machine learning/Data preparation,1.2\nMachine learning/Deployment,9.9\nonly one column\n")

    with pytest.raises(CommandError) as caught:
        call_command("import_questions", str(SAMPLE), "--categories", str(csv_file), stdout=StringIO())

    message = str(caught.value)
    assert "map.csv: line 2: '9.9' is not a task of" in message
    assert "map.csv: line 3: expected two columns" in message
    assert Question.objects.count() == 0
    assert CategoryTask.objects.count() == 0


def test_mapping_a_category_in_the_admin_places_its_waiting_drafts(exam, admin_client):
    questions_import(data=SAMPLE.read_bytes(), filename="tree.xml", exam=exam)
    task = Task.objects.get(domain__exam=exam, code="3.1")

    response = admin_client.post(
        reverse("admin:questions_categorytask_add"),
        {"exam": exam.pk, "category": "Machine learning/Deployment", "task": task.pk},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 waiting draft(s) of category" in response.content.decode()
    assert Question.objects.get(name="Spiky traffic endpoint").task == task


def test_a_task_of_another_exam_version_is_refused_next_to_the_field(exam, exam_c02, admin_client):
    other = Task.objects.filter(domain__exam=exam_c02).first()

    response = admin_client.post(
        reverse("admin:questions_categorytask_add"),
        {"exam": exam.pk, "category": "Anything", "task": other.pk},
    )

    assert response.status_code == 200
    assert f"belongs to {other.domain.exam.code}, not {exam.code}" in response.content.decode()
    assert CategoryTask.objects.count() == 0


def test_exports_write_the_names_categories_and_tags_back(exam):
    questions_import(data=SAMPLE.read_bytes(), filename="tree.xml", exam=exam, task="1.2")
    items, cases = question_items(questions_for_export(exam=exam))

    exported = questions_export(queryset=questions_for_export(exam=exam), fmt="moodlexml").data.decode()
    again = moodlexml.parse(exported.encode(), name="export.xml")

    assert "<text>Imbalanced labels: which metric</text>" in exported
    assert "<text>$course$/top/Machine learning/Deployment</text>" in exported
    assert "<text>Week 3</text>" in exported
    by_name = {item.draft.name: item.draft for item in again.items}
    assert by_name["Spiky traffic endpoint"].category == "Machine learning/Deployment"
    assert by_name["Imbalanced labels: which metric"].tags == ["metrics", "Week 3"]
    assert len(items) == 3
    assert cases == []


def test_the_question_list_filters_on_the_source_category_and_searches_names(exam, admin_client):
    questions_import(data=SAMPLE.read_bytes(), filename="tree.xml", exam=exam)
    changelist = reverse("admin:questions_question_changelist")

    by_category = admin_client.get(changelist, {"category": "Machine learning/Deployment"}).content.decode()
    by_name = admin_client.get(changelist, {"q": "Missing values in a numeric"}).content.decode()

    assert "source category" in by_category
    assert "Traffic arrives in short bursts" in by_category
    assert "1% positive labels" not in by_category
    assert "5% missing values" in by_name
    assert "short bursts" not in by_name


def test_the_item_page_shows_where_an_imported_item_came_from(exam, admin_client):
    questions_import(data=SAMPLE.read_bytes(), filename="tree.xml", exam=exam)
    question = Question.objects.get(name="Imbalanced labels: which metric")

    page = admin_client.get(reverse("admin:questions_question_change", args=[question.pk])).content.decode()

    assert "Imbalanced labels: which metric" in page
    assert "Machine learning/Data preparation" in page
    assert "metrics, Week 3" in page
