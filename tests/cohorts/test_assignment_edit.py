"""A cohort's leads edit and delete its assignments; nobody else can, and started attempts survive a delete."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from apps.cohorts.models import Assignment, AssignmentAttempt, CohortMember, Membership, Organisation, Role
from apps.cohorts.services import CohortError, assignment_create, assignment_delete, assignment_update, cohort_create
from apps.exams.models import Attempt
from apps.syllabus.models import Task


@pytest.fixture
def cohort(lead, exam):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


@pytest.fixture
def assignment(cohort, lead):
    due = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    return assignment_create(cohort=cohort, by=lead, kind="mock", title="Mock 1", due_at=due)


def _minute(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _started(assignment, username: str) -> Attempt:
    user = get_user_model().objects.create_user(username)
    CohortMember.objects.create(cohort=assignment.cohort, user=user, via="lead")
    attempt = Attempt.objects.create(
        candidate=user, exam=assignment.cohort.exam, mode="mock", item_count=65, started_at=timezone.now()
    )
    AssignmentAttempt.objects.create(assignment=assignment, attempt=attempt, user=user)
    return attempt


def test_a_lead_edits_title_kind_due_date_size_and_tasks(client, lead, assignment, exam):
    # given
    client.force_login(lead)
    tasks = list(Task.objects.filter(domain__exam=exam).order_by("code")[:2])
    due = (timezone.now() + timedelta(days=10)).replace(second=0, microsecond=0)

    # when
    form_page = client.get(reverse("cohorts:assignment-edit", args=[assignment.pk])).content.decode()
    response = client.post(
        reverse("cohorts:assignment-edit", args=[assignment.pk]),
        {"title": "Drill 1", "kind": "practice", "due_at": _minute(due), "size": "15", "tasks": [t.pk for t in tasks]},
    )

    # then
    assert 'value="Mock 1"' in form_page
    assert f'value="{_minute(assignment.due_at)}"' in form_page
    assert 'type="datetime-local"' in form_page
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.title, assignment.kind, assignment.due_at, assignment.size) == ("Drill 1", "practice", due, 15)
    assert set(assignment.tasks.all()) == set(tasks)


def test_a_new_past_due_date_is_refused_but_keeping_a_passed_one_is_fine(lead, assignment):
    passed = timezone.now() - timedelta(days=1)
    Assignment.objects.filter(pk=assignment.pk).update(due_at=passed)
    assignment.refresh_from_db()

    with pytest.raises(CohortError, match="has passed"):
        assignment_update(
            assignment=assignment, by=lead, kind="mock", title="Mock 1", due_at=passed - timedelta(hours=1)
        )
    # The form sends the date back to the minute: that is still "unchanged".
    kept = assignment_update(
        assignment=assignment, by=lead, kind="mock", title="Mock 1 (late)", due_at=passed.replace(second=0)
    )

    assert kept.due_at == passed
    assert kept.title == "Mock 1 (late)"


def test_the_edit_page_shows_a_refused_change_and_keeps_what_was_typed(client, lead, assignment):
    client.force_login(lead)
    _started(assignment, "m1")

    response = client.post(
        reverse("cohorts:assignment-edit", args=[assignment.pk]),
        {"title": "Now practice", "kind": "practice", "due_at": _minute(assignment.due_at), "size": "10"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "its kind cannot change" in page
    assert 'value="Now practice"' in page
    assignment.refresh_from_db()
    assert assignment.kind == "mock"


def test_a_malformed_due_date_is_named_on_the_edit_page(client, lead, assignment):
    client.force_login(lead)

    response = client.post(
        reverse("cohorts:assignment-edit", args=[assignment.pk]),
        {"title": "Mock 1", "kind": "mock", "due_at": "next tuesday"},
    )

    assert response.status_code == 200
    assert "Due (UTC): Enter a valid date/time." in response.content.decode()


def test_deleting_keeps_the_attempts_already_started(client, lead, assignment):
    # given
    client.force_login(lead)
    attempt = _started(assignment, "m1")

    # when
    confirm = client.get(reverse("cohorts:assignment-delete", args=[assignment.pk])).content.decode()
    response = client.post(reverse("cohorts:assignment-delete", args=[assignment.pk]))

    # then
    assert "1 member already started it" in confirm
    assert "Their attempts are kept" in confirm
    assert not Assignment.objects.filter(pk=assignment.pk).exists()
    assert Attempt.objects.filter(pk=attempt.pk).exists()
    assert not AssignmentAttempt.objects.exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Deleted Mock 1. The 1 attempt(s) already started are kept in those members' history."
    ]


def test_another_cohorts_assignment_is_not_found(client, assignment, exam):
    other_lead = get_user_model().objects.create_user("other-lead")
    organisation = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(organisation=organisation, user=other_lead, role=Role.LEAD)
    cohort_create(organisation=organisation, exam=exam, name="Theirs", by=other_lead)
    client.force_login(other_lead)

    edit = client.post(reverse("cohorts:assignment-edit", args=[assignment.pk]), {"title": "Mine now"})
    delete = client.post(reverse("cohorts:assignment-delete", args=[assignment.pk]))

    assert (edit.status_code, delete.status_code) == (404, 404)
    assert Assignment.objects.get(pk=assignment.pk).title == "Mock 1"
    with pytest.raises(CohortError):
        assignment_delete(assignment=assignment, by=other_lead)


def test_the_dashboard_links_each_assignment_to_its_edit_and_delete_pages(client, lead, assignment):
    client.force_login(lead)
    _started(assignment, "m1")

    page = client.get(reverse("cohorts:dashboard", args=[assignment.cohort.pk])).content.decode()

    assert reverse("cohorts:assignment-edit", args=[assignment.pk]) in page
    assert reverse("cohorts:assignment-delete", args=[assignment.pk]) in page
