"""The import pages as an instructor reads them: options and keys before confirming, links to the items after."""

import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.questions.models import Question, QuestionImport
from tests.questions.factories import QuestionFactory

AIKEN = (Path(__file__).parent / "samples" / "aiken" / "questions.txt").read_bytes()


def upload(client, data: bytes = AIKEN, name: str = "questions.txt") -> QuestionImport:
    client.post(
        reverse("admin:questions_question_import"),
        {"file": SimpleUploadedFile(name, data), "format": "auto", "status": "draft", "exam": "MLA-C01", "task": "1.1"},
    )
    return QuestionImport.objects.latest("created_at")


def test_preview_shows_each_items_options_with_the_keys_marked(exam, instructor_client):
    # when
    job = upload(instructor_client)
    body = instructor_client.get(reverse("admin:questions_question_import_detail", args=[job.pk])).content.decode()

    # then
    assert "Stem and options (keys marked)" in body
    assert "<li><strong>Key:</strong> Amazon SageMaker Ground Truth</li>" in body
    assert "<li>Amazon Rekognition Custom Labels</li>" in body
    assert "<li><strong>Key:</strong> SageMaker Feature Store</li>" in body
    assert not Question.objects.exists()  # nothing written before the confirmation


def test_after_import_rows_link_to_the_items_and_the_drafts_link_lists_this_import_only(exam, instructor_client):
    # given: a draft that was in the bank before, and an import
    QuestionFactory(exam=exam, type="single", status="draft", task="1.1", stem="An older draft?")
    job = upload(instructor_client)
    detail = reverse("admin:questions_question_import_detail", args=[job.pk])

    # when
    instructor_client.post(detail)
    body = instructor_client.get(detail).content.decode()

    # then: each row links to the item it wrote
    imported = Question.objects.exclude(stem="An older draft?")
    assert imported.count() == 3  # the three questions of the Aiken file
    for question in imported:
        assert reverse("admin:questions_question_change", args=[question.pk]) in body
    # and "See the drafts" lists these three, not the older draft
    drafts = re.search(r'<a href="([^"]+)">See the drafts</a> of this import', body).group(1)
    listed = instructor_client.get(drafts.replace("&amp;", "&")).context["cl"]
    assert sorted(q.pk for q in listed.result_list) == sorted(q.pk for q in imported)


def test_the_import_filter_shows_nothing_of_another_instructors_import(exam, instructor_client, django_user_model):
    other = django_user_model.objects.create_user("other", is_staff=True)
    question = QuestionFactory(exam=exam, type="single", status="draft", task="1.1")
    job = QuestionImport.objects.create(
        uploaded_by=other,
        exam=exam,
        filename="theirs.json",
        state="done",
        report={"items": [{"question_id": question.pk}]},
    )
    changelist = reverse("admin:questions_question_changelist")

    for value in (str(job.pk), "not-a-uuid"):
        response = instructor_client.get(changelist, {"import": value})

        assert response.status_code == 200
        assert response.context["cl"].result_count == 0


def test_preview_shows_a_matching_items_pairs_and_its_unused_response(exam, instructor_client):
    matching = (Path(__file__).parent / "samples" / "gift" / "matching.gift").read_bytes()

    job = upload(instructor_client, matching, "matching.gift")
    body = instructor_client.get(reverse("admin:questions_question_import_detail", args=[job.pk])).content.decode()

    assert "<li>Vanishing gradients during training → SageMaker Debugger</li>" in body
    assert "<li>(unused) SageMaker Neo</li>" in body
