"""A new cohort's dashboard: the first steps instead of empty tables, and roster errors named by line."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.cohorts.models import CohortMember, Membership, Organisation, Role
from apps.cohorts.services import assignment_create, cohort_create


@pytest.fixture
def cohort(lead, exam):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


def _dashboard(client, cohort) -> str:
    return client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()


def test_a_new_cohort_shows_the_first_steps_instead_of_empty_tables(client, cohort, lead):
    client.force_login(lead)

    page = _dashboard(client, cohort)

    assert "Get Spring bootcamp started" in page
    assert "Download an example roster (CSV)" in page
    assert cohort.join_code in page
    assert str(cohort.invite_token) in page
    assert "Copy invite link" in page
    assert "js/copy" in page
    assert "Members (0)" not in page
    assert "Latest scores" not in page
    assert page.count('name="title"') == 1  # the assign form once, in the steps


def test_once_people_are_in_the_dashboard_shows_and_the_steps_follow_to_the_end(client, cohort, lead):
    client.force_login(lead)
    CohortMember.objects.create(cohort=cohort, user=get_user_model().objects.create_user("m1"), via="lead")

    half = _dashboard(client, cohort)
    assignment_create(cohort=cohort, by=lead, kind="mock", title="Mock 1", due_at=timezone.now() + timedelta(days=3))
    full = _dashboard(client, cohort)

    assert "Done: 1 in the cohort" in half
    assert "Assign work with the form below" in half
    assert "Members (1)" in half
    assert half.count('name="title"') == 1  # the dashboard's own assign form, not a second one
    assert "Get Spring bootcamp started" not in full
    assert "Members (1)" in full


def test_an_assignment_set_before_anyone_joined_can_be_edited_from_the_steps(client, cohort, lead):
    client.force_login(lead)
    assignment = assignment_create(
        cohort=cohort, by=lead, kind="mock", title="Mock 1", due_at=timezone.now() + timedelta(days=3)
    )

    page = _dashboard(client, cohort)

    assert "Get Spring bootcamp started" in page
    assert reverse("cohorts:assignment-edit", args=[assignment.pk]) in page
    assert "Members (0)" not in page


def test_roster_errors_are_listed_one_per_line_number(client, cohort, lead):
    client.force_login(lead)
    text = (
        "username,email\nok.one,ok@example.com\nbad name,x@example.com\nok.two,not-an-email\nok.one,dup@example.com\n"
    )

    response = client.post(
        reverse("cohorts:roster", args=[cohort.pk]),
        {"roster": SimpleUploadedFile("team.csv", text.encode(), content_type="text/csv")},
    )

    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown[0] == "Nothing was imported: the roster has 3 problem(s) to fix."
    assert [m.split(":")[1].strip() for m in shown[1:]] == ["line 3", "line 4", "line 5"]
    assert not CohortMember.objects.filter(cohort=cohort).exists()
