"""The admin with two exam versions: coverage per version, carrying items over, mapping, authoring and import."""

import json

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.questions.models import Placement, Question
from apps.questions.placements import bank_carry_over
from apps.syllabus.models import Objective, Task
from tests.exams.factories import bank_build
from tests.questions.factories import QuestionFactory
from tests.questions.test_admin import ADD_URL, base_fields, management

CHANGELIST = reverse("admin:questions_question_changelist")


def test_coverage_is_per_version_and_counts_carried_items_under_their_c02_tasks(bank_c02, instructor_client):
    c02 = instructor_client.get(reverse("admin:questions_question_coverage"))
    c01 = instructor_client.get(reverse("admin:questions_question_coverage"), {"exam": "MLA-C01"})

    assert c02.context["coverage"].exam.code == "MLA-C02"
    assert c01.context["coverage"].exam.code == "MLA-C01"
    assert [d.weight for d in c02.context["coverage"].domains] == [28, 24, 24, 24]
    assert (
        c02.context["coverage"].published
        == Question.objects.filter(placements__exam=bank_c02, status="published").count()
    )
    assert [kind for kind, _ in c02.context["coverage"].types] == ["single", "multiple"]
    assert c02.context["coverage"].objectives == 107
    assert "Counts include items carried over from MLA-C01" in c02.content.decode()
    assert '<a href="?exam=MLA-C01">MLA-C01</a>' in c02.content.decode()


def test_the_carry_over_action_places_the_selected_items_and_says_what_stays_behind(exam, exam_c02, instructor_client):
    single = QuestionFactory(exam=exam, task="2.3", type="single")
    ordering = QuestionFactory(exam=exam, task="2.3", type="ordering")

    response = instructor_client.post(
        CHANGELIST, {"action": "carry_over", ACTION_CHECKBOX_NAME: [single.pk, ordering.pk]}, follow=True
    )

    body = response.content.decode()
    assert Placement.objects.get(exam=exam_c02).question_id == single.pk
    assert "MLA-C02: 1 placed, 0 updated, 0 already there." in body
    assert f"1 stay behind (MLA-C02 forms do not use ordering items): {ordering.ref}." in body


def test_mapping_drafts_offers_the_tasks_of_every_version(exam, exam_c02, instructor_client):
    draft = QuestionFactory(exam=exam, task="1.1", status="draft")
    c02_task = Task.objects.get(domain__exam=exam_c02, code="3.2")

    page = instructor_client.post(CHANGELIST, {"action": "map_task", ACTION_CHECKBOX_NAME: [draft.pk]})
    assert '<optgroup label="MLA-C02 (current)">' in page.content.decode()

    instructor_client.post(
        CHANGELIST, {"action": "map_task", ACTION_CHECKBOX_NAME: [draft.pk], "task": str(c02_task.pk)}, follow=True
    )
    assert Question.objects.get(pk=draft.pk).task == c02_task


def test_an_ordering_item_cannot_be_written_for_c02(exam_c02, instructor_client):
    fields = base_fields(exam_c02, "Put these steps of a SageMaker AI pipeline in their order of execution.")
    fields["objectives"] = [str(Objective.objects.get(task__domain__exam=exam_c02, task__code="1.1", order=4).pk)]
    data = {**fields, **management("choices", 0), **management("pairs", 0), **management("steps", 0)}

    response = instructor_client.post(f"{ADD_URL}?type=ordering", {**data, "type": "ordering"})

    assert response.status_code == 200
    assert "MLA-C02 forms use only single answer and multiple response items" in response.content.decode()
    assert not Question.objects.exists()


def test_an_import_goes_to_the_version_chosen(exam, exam_c02, instructor_client):
    item = {
        "ref": "imp-1",
        "type": "single",
        "task": "1.1",
        "objectives": ["1.1.7"],
        "stem": "Which store keeps embeddings for a retrieval-augmented application with the least operations?",
        "explanation": "A managed vector store. Rule: managed first.",
        "references": ["https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base.html"],
        "difficulty": "medium",
        "angoff": 0.6,
        "options": [
            {"text": "Amazon OpenSearch Serverless vector collection", "correct": True, "rationale": "Managed."},
            {"text": "Amazon S3 Glacier", "correct": False, "rationale": "Archive."},
            {"text": "Amazon EBS", "correct": False, "rationale": "Block storage."},
            {"text": "AWS Backup", "correct": False, "rationale": "Backups."},
        ],
    }
    upload = SimpleUploadedFile("items.json", json.dumps({"items": [item]}).encode(), "application/json")

    response = instructor_client.post(
        reverse("admin:questions_question_import"),
        {"file": upload, "format": "auto", "status": "draft", "exam": "MLA-C02", "task": ""},
        follow=True,
    )
    instructor_client.post(response.redirect_chain[-1][0])

    question = Question.objects.get(ref="imp-1")
    assert question.task.domain.exam == exam_c02
    assert [o.code for o in question.objectives.all()] == ["1.1.7"]


def test_an_export_can_be_limited_to_what_a_version_uses(exam, exam_c02, instructor_client):
    bank_build(exam, per_task=2, pretest_per_task=0, case_study=False)
    bank_carry_over(target=exam_c02)
    carried = set(Question.objects.filter(placements__exam=exam_c02).values_list("ref", flat=True))

    response = instructor_client.get(
        reverse("admin:questions_question_export"), {"format": "native", "exam": "MLA-C02", "download": "1"}
    )

    exported = json.loads(response.content)["items"]
    assert {item["ref"] for item in exported} == carried
    assert {item["type"] for item in exported} == {"single", "multiple"}
    assert Question.objects.count() == 24  # ordering and matching items stay out of the C02 export
