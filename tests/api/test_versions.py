"""The API and exam versions: the versions offered, attempts per version, items per version."""

import pytest
from rest_framework.test import APIClient

from apps.exams.services import attempt_start_mock
from apps.questions.models import Question
from tests.api.test_api import item_payload


@pytest.fixture
def api():
    return APIClient()


def test_the_versions_offered_come_current_first_with_their_format_and_status(api, exam_c02, candidate):
    api.force_authenticate(candidate)

    versions = api.get("/api/v1/exams/").json()

    assert [(v["code"], v["status"], v["replaces"]) for v in versions] == [
        ("MLA-C02", "current", "MLA-C01"),
        ("MLA-C01", "retiring", None),
    ]
    assert versions[0]["item_types"] == ["single", "multiple"]
    assert versions[0]["beta"] == {"code": "ME1-C02", "questions": 85, "minutes": 170}
    assert versions[1]["beta"] is None
    assert versions[1]["languages"] == ["ja", "ko", "zh-Hans"]
    blueprint = api.get("/api/v1/exams/MLA-C02/").json()
    assert [d["weight"] for d in blueprint["domains"]] == [28, 24, 24, 24]
    assert blueprint["domains"][0]["tasks"][0]["continues"] == "1.1"
    assert sum(len(t["objectives"]) for d in blueprint["domains"] for t in d["tasks"]) == 107


def test_attempts_can_be_filtered_by_version_and_say_which_they_were_on(api, bank_c02, exam, candidate):
    c01 = attempt_start_mock(candidate=candidate, exam=exam, seed=1)
    api.force_authenticate(candidate)

    started = api.post("/api/v1/attempts/", {"mode": "mock", "exam": "MLA-C02"}, format="json")
    assert started.status_code == 201
    assert started.json()["exam"] == "MLA-C02"

    every = api.get("/api/v1/attempts/").json()["results"]
    only_c01 = api.get("/api/v1/attempts/?exam=MLA-C01").json()["results"]
    only_c02 = api.get("/api/v1/attempts/?exam=MLA-C02").json()["results"]
    assert {a["exam"] for a in every} == {"MLA-C01", "MLA-C02"}
    assert [a["id"] for a in only_c01] == [c01.pk]
    assert [a["id"] for a in only_c02] == [started.json()["id"]]

    unknown = api.get("/api/v1/attempts/?exam=MLA-C09")
    assert unknown.status_code == 400
    assert "exam" in unknown.json()["error"]["fields"]


def test_starting_without_a_version_uses_the_current_one_and_the_beta_form_is_a_mode(api, bank_c02, candidate):
    api.force_authenticate(candidate)

    mock = api.post("/api/v1/attempts/", {"mode": "mock"}, format="json").json()
    assert (mock["exam"], mock["item_count"]) == ("MLA-C02", 65)

    beta = api.post("/api/v1/attempts/", {"mode": "beta", "exam": "MLA-C01"}, format="json")
    assert beta.status_code == 409
    assert "MLA-C01 has no beta form" in beta.json()["error"]["message"]


def test_instructors_write_items_for_a_version_and_see_where_items_serve(api, bank_c02, exam, instructor):
    api.force_authenticate(instructor)

    created = api.post("/api/v1/questions/", item_payload(exam="MLA-C01"), format="json")
    assert created.status_code == 201
    assert created.json()["exam"] == "MLA-C01"
    ordering = item_payload(exam="MLA-C02", type="ordering", objectives=["1.1.5"], options=[])
    refused = api.post("/api/v1/questions/", ordering, format="json")
    assert refused.status_code == 400
    assert "MLA-C02 forms use only single answer and multiple response items." in str(refused.json())

    placed = Question.objects.filter(placements__exam=bank_c02).first()
    body = api.get(f"/api/v1/questions/{placed.pk}/").json()
    assert body["exam"] == "MLA-C01"
    assert [p["exam"] for p in body["placements"]] == ["MLA-C02"]
    served = api.get("/api/v1/questions/?exam=MLA-C02&type=ordering").json()
    assert served["count"] == 0
    assert (
        api.get("/api/v1/questions/?exam=MLA-C02").json()["count"]
        == Question.objects.filter(placements__exam=bank_c02).count()
    )
