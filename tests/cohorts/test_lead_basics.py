"""A lead's first steps: landing on their cohorts after login, and assignment due dates that cannot be past."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from apps.cohorts.models import Assignment, Membership, Organisation, Role
from apps.cohorts.services import CohortError, assignment_create, cohort_create


@pytest.fixture
def cohort(lead, exam):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


def _login(client, username, password, **extra):
    return client.post(reverse("login") + extra.get("query", ""), {"username": username, "password": password})


def test_a_lead_lands_on_their_cohorts_after_login(client, cohort):
    response = _login(client, "lead", "pw-lead-123")

    assert response.status_code == 302
    assert response.url == reverse("cohorts:home")


def test_a_candidate_lands_on_the_home_page_and_next_still_wins(client, cohort, candidate):
    assert _login(client, "cand", "pw-cand-123").url == reverse("home")
    client.logout()

    response = _login(client, "lead", "pw-lead-123", query="?next=/progress/")

    assert response.url == "/progress/"


def test_an_assignment_due_in_the_past_is_refused(client, cohort, lead):
    client.force_login(lead)
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("cohorts:assign", args=[cohort.pk]), {"title": "Late", "kind": "mock", "due_at": past}
    )

    assert response.status_code == 302
    assert not Assignment.objects.exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The due date has passed: choose a date and time from now on."
    ]
    with pytest.raises(CohortError, match="has passed"):
        assignment_create(cohort=cohort, by=lead, kind="mock", title="Late", due_at=timezone.now())


def test_the_due_date_uses_the_browsers_date_and_time_picker(client, cohort, lead):
    client.force_login(lead)
    due = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)

    page = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
    client.post(
        reverse("cohorts:assign", args=[cohort.pk]),
        {"title": "Mock 1", "kind": "mock", "due_at": due.strftime("%Y-%m-%dT%H:%M")},
    )

    assert 'type="datetime-local"' in page
    assert ' min="' in page
    assert Assignment.objects.get().due_at == due
