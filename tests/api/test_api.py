"""The REST API: same rules as the HTML side, one error format, token auth, no keys before submission."""

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.exams.models import Attempt
from apps.exams.services import attempt_start_practice, attempt_submit
from apps.questions.models import Question
from apps.syllabus.models import Task
from tests.exams.factories import bank_build
from tests.questions.factories import QuestionFactory


@pytest.fixture
def api():
    return APIClient()


def item_payload(**overrides):
    payload = {
        "ref": "api-1",
        "type": "multiple",
        "task": "1.1",
        "objectives": ["1.1.1"],
        "stem": "Which two formats are columnar? (Choose two.)",
        "explanation": "Parquet and ORC store columns together. Rule: columnar for analytics.",
        "references": ["https://docs.aws.amazon.com/athena/latest/ug/columnar-storage.html"],
        "difficulty": "easy",
        "angoff": 0.8,
        "options": [
            {"text": "Apache Parquet", "correct": True, "rationale": "Columnar."},
            {"text": "Apache ORC", "correct": True, "rationale": "Columnar."},
            {"text": "CSV", "rationale": "Row text."},
            {"text": "JSON Lines", "rationale": "Row text."},
            {"text": "Apache Avro", "rationale": "Row-based binary."},
        ],
    }
    payload.update(overrides)
    return payload


def test_token_auth_and_the_syllabus(api, exam, candidate):
    token = Token.objects.create(user=candidate)
    assert api.get("/api/v1/exams/").status_code == 403
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    body = api.get(f"/api/v1/exams/{exam.code}/").json()

    assert body["passing_score"] == 720
    assert body["case_studies_per_form"] == 1
    assert len(body["domains"]) == 4
    assert sum(len(t["objectives"]) for d in body["domains"] for t in d["tasks"]) == 192


def test_errors_share_one_format(api, exam, instructor):
    api.force_authenticate(instructor)

    response = api.post("/api/v1/questions/", item_payload(stem="Which two? (Choose three.)"), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["stem"] == ['says "Choose three" but 2 options are marked correct.']
    assert Question.objects.count() == 0
    missing = api.get("/api/v1/questions/999999/").json()
    assert missing["error"]["code"] == "not_found"


def test_instructors_create_and_edit_with_versions(api, exam, instructor, candidate):
    api.force_authenticate(candidate)
    assert api.post("/api/v1/questions/", item_payload(), format="json").status_code == 403
    api.force_authenticate(instructor)

    created = api.post("/api/v1/questions/", item_payload(), format="json").json()
    published = api.post(f"/api/v1/questions/{created['id']}/status/", {"status": "published"}, format="json")
    edited = api.put(
        f"/api/v1/questions/{created['id']}/",
        item_payload(stem="Which two are columnar formats? (Choose two.)"),
        format="json",
    )

    assert published.json()["status"] == "published"
    assert edited.status_code == 201
    assert edited.json()["version"] == 2
    assert edited.json()["id"] != created["id"]
    assert Question.objects.get(pk=created["id"]).stem == item_payload()["stem"]


def test_attempt_api_never_shows_keys_before_submission(api, exam, candidate, django_capture_on_commit_callbacks):
    for n in range(4):
        QuestionFactory(exam=exam, task="1.1", stem=f"Question {n}?")
    api.force_authenticate(candidate)

    attempt = api.post("/api/v1/attempts/", {"mode": "practice", "tasks": ["1.1"], "count": 3}, format="json").json()
    item = api.get(f"/api/v1/attempts/{attempt['id']}/items/1/")
    early = api.get(f"/api/v1/attempts/{attempt['id']}/result/")

    text = json.dumps(item.json())
    assert "correct" not in text
    assert "rationale" not in text
    assert "explanation" not in text
    assert early.status_code == 409
    assert item.json()["state"] == "unanswered"
    saved = api.post(f"/api/v1/attempts/{attempt['id']}/items/1/answer/", {"choices": [1]}, format="json")
    assert saved.json()["applied"] is True
    assert (saved.json()["state"], saved.json()["gap"]) == ("answered", "")
    assert api.get(f"/api/v1/attempts/{attempt['id']}/items/1/").json()["state"] == "answered"
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/attempts/{attempt['id']}/submit/")
    result = api.get(f"/api/v1/attempts/{attempt['id']}/result/").json()
    assert "key" in result["items"][0]
    assert result["disclaimer"].startswith("This platform's estimate")
    closed = api.post(f"/api/v1/attempts/{attempt['id']}/items/1/answer/", {"choices": [2]}, format="json")
    assert closed.status_code == 409
    assert "submitted" in closed.json()["error"]["fields"]["attempt"][0]


def families(attempt_id: int) -> set:
    return set(Attempt.objects.get(pk=attempt_id).items.values_list("question__family", flat=True))


def test_practice_sets_never_share_items_with_the_running_mock(api, bank, candidate):
    api.force_authenticate(candidate)
    mock = api.post("/api/v1/attempts/", {"mode": "mock"}, format="json").json()
    practice = {"mode": "practice", "tasks": ["1.1", "1.2"], "count": 12, "feedback": "immediate", "timed": False}

    started = api.post("/api/v1/attempts/", practice, format="json")

    assert started.status_code == 201
    assert started.json()["item_count"] > 0
    assert not families(started.json()["id"]) & families(mock["id"])

    api.post(f"/api/v1/attempts/{started.json()['id']}/submit/")
    Question.objects.filter(task__code__in=["1.1", "1.2"]).exclude(family__in=families(mock["id"])).update(
        status="retired"
    )
    refused = api.post("/api/v1/attempts/", practice, format="json")

    assert refused.status_code == 409
    message = (
        "The chosen tasks have no items left to practise: the remaining items of these tasks are in your "
        "unfinished mock exam; finish it first."
    )
    assert refused.json()["error"] == {"code": "conflict", "message": message, "fields": {"mode": [message]}}


def test_a_mock_is_refused_while_an_unfinished_practice_set_holds_its_items(api, exam, candidate):
    bank_build(exam, per_task=6)
    practice = attempt_start_practice(
        candidate=candidate,
        exam=exam,
        task_ids=[Task.objects.get(code="1.1").pk],
        count=6,
        timed=False,
        feedback="immediate",
    )
    api.force_authenticate(candidate)

    refused = api.post("/api/v1/attempts/", {"mode": "mock"}, format="json")

    assert refused.status_code == 409
    assert refused.json()["error"]["message"].endswith(
        "6 more are in your unfinished practice set, which would show their keys. Finish or submit that set "
        "first, then start the mock."
    )
    attempt_submit(attempt=practice)
    started = api.post("/api/v1/attempts/", {"mode": "mock"}, format="json")
    assert started.status_code == 201
    assert started.json()["item_count"] == 65


def test_other_candidates_attempts_are_not_found(api, exam, candidate, django_user_model):
    for n in range(3):
        QuestionFactory(exam=exam, task="1.1", stem=f"Question {n}?")
    api.force_authenticate(candidate)
    attempt_id = api.post(
        "/api/v1/attempts/", {"mode": "practice", "tasks": ["1.1"], "count": 2}, format="json"
    ).json()["id"]
    api.force_authenticate(django_user_model.objects.create_user("intruder"))

    assert api.get(f"/api/v1/attempts/{attempt_id}/").status_code == 404
    assert (
        api.post(f"/api/v1/attempts/{attempt_id}/items/1/answer/", {"choices": [1]}, format="json").status_code == 404
    )
    assert api.post(f"/api/v1/attempts/{attempt_id}/submit/").status_code == 404
    assert Attempt.objects.get(pk=attempt_id).state == "in_progress"


def test_openapi_schema_and_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/attempts/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower()
