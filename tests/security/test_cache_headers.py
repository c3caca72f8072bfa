"""Pages for a signed-in user, the API and CSV exports are never kept by a shared cache or the back button:
results carry answer keys, dashboards other people's scores."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from apps.cohorts.models import Membership, Organisation, Role
from apps.cohorts.services import cohort_create, cohort_join
from apps.exams.services import attempt_start_mock

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def _assert_private_no_store(response, what: str) -> None:
    directives = _directives(response)
    assert {"private", "no-store"} <= directives, (what, response.get("Cache-Control"))
    assert "public" not in directives, what


def test_a_results_page_with_its_answer_keys_is_not_stored(client, bank, candidate, django_capture_on_commit_callbacks):
    from tests.scoring.factories import scored_mock

    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.6, seed=2)
    client.force_login(candidate)

    response = client.get(reverse("scoring:results", args=[attempt.pk]))

    assert "Question 1:" in response.content.decode()  # the scored page, with the items and their keys
    _assert_private_no_store(response, "results")
    _assert_private_no_store(client.get(reverse("scoring:results", args=[attempt.pk]), {"show": "wrong"}), "filter")
    review = client.get(reverse("scoring:item-review", args=[attempt.pk, 1]), headers={"HX-Request": "true"})
    assert '<div class="key">' in review.content.decode()  # the item with its key
    _assert_private_no_store(review, "one item's review")


def test_exam_pages_are_not_stored(client, bank, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=2)
    client.force_login(candidate)

    for name, args in (("exams:question", [attempt.pk, 1]), ("exams:review", [attempt.pk]), ("exams:home", [])):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        _assert_private_no_store(response, name)


def test_every_api_response_is_not_stored(client, bank, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=2)
    token = Token.objects.create(user=candidate).key

    # token authentication, where the middleware sees no signed-in user: the API is covered as a whole
    by_token = client.get(reverse("api-attempt-item", args=[attempt.pk, 1]), HTTP_AUTHORIZATION=f"Token {token}")
    assert by_token.status_code == 200
    _assert_private_no_store(by_token, "token")
    # an error, and an anonymous request
    _assert_private_no_store(client.get(reverse("api-attempt", args=[attempt.pk])), "anonymous")
    client.force_login(candidate)
    _assert_private_no_store(client.get(reverse("api-attempts")), "session")
    _assert_private_no_store(client.get("/api/v1/no-such-thing/"), "not found")


@pytest.fixture
def cohort(lead, exam, candidate):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    cohort = cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)
    cohort_join(user=candidate, code=cohort.join_code)
    return cohort


def test_cohort_csv_exports_and_dashboard_are_not_stored(client, lead, cohort):
    client.force_login(lead)

    export = client.get(reverse("cohorts:export", args=[cohort.pk, "members"]))
    assert export["Content-Type"] == "text/csv"
    assert "cand" in export.content.decode()
    _assert_private_no_store(export, "export")
    _assert_private_no_store(client.get(reverse("cohorts:dashboard", args=[cohort.pk])), "dashboard")


def test_the_admin_is_not_stored(instructor_client):
    for url in (reverse("admin:index"), reverse("admin:questions_question_changelist"), reverse("admin:jsi18n")):
        response = instructor_client.get(url)
        assert response.status_code == 200, url
        _assert_private_no_store(response, url)


def test_anonymous_pages_keep_their_caching(client, exam):
    home = client.get(reverse("home"))

    assert home.status_code == 200
    assert "no-store" not in _directives(home)
    assert "private" not in _directives(home)
    # the login page is Django's own, never cached (never_cache) as before
    assert "no-store" in _directives(client.get(reverse("login")))
