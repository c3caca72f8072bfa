"""A lead starts a cohort in a real browser: the first steps, a roster (first with mistakes), the invite link
copied, then the first assignment, edited and deleted. Accessible (axe) and without sideways scrolling on a phone."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.cohorts.models import Assignment, CohortMember, Membership, Organisation, Role
from tests.browser.conftest import axe_violations, horizontal_overflow, login, page_defects

pytestmark = pytest.mark.browser

BAD_ROSTER = b"username,email\nasha.k,asha.k@example.com\nben o,ben@example.com\ncarla.m,not-an-email\n"
GOOD_ROSTER = (
    b"username,email,first_name,last_name\nasha.k,asha.k@example.com,Asha,Kumar\nben.o,ben@example.com,Ben,O\n"
)


@pytest.fixture
def lead_in_org(lead, exam):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return lead


def _roster(page, content: bytes) -> None:
    page.get_by_label("Roster file").set_input_files(
        files=[{"name": "team.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload roster").click()


def _due(days: int) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _accessible(page) -> None:
    assert axe_violations(page) == []
    assert page_defects(page) == []


def test_a_lead_starts_a_cohort_from_people_to_the_first_assignment(page, live_server, lead_in_org):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, "lead", "pw-lead-123")

    # A new cohort: the steps, not tables of zeros.
    page.goto("/cohorts/")
    page.get_by_label("New cohort name").fill("Spring bootcamp")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", name="Get Spring bootcamp started")).to_be_visible()
    expect(page.get_by_role("heading", name="Add people")).to_be_visible()
    expect(page.get_by_role("heading", name="Set the first assignment")).to_be_visible()
    expect(page.get_by_role("link", name="Download an example roster (CSV)")).to_be_visible()
    expect(page.get_by_role("heading", name="Latest scores")).to_have_count(0)
    _accessible(page)

    # The invite link, copied with its button.
    invite = page.get_by_label("Invite link").input_value()
    page.get_by_role("button", name="Copy invite link").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == invite
    assert "/cohorts/join/" in invite

    # A roster with mistakes: each named by its line, and nobody added.
    _roster(page, BAD_ROSTER)
    expect(page.get_by_text("Nothing was imported: the roster has 2 problem(s) to fix.")).to_be_visible()
    expect(page.get_by_text("team.csv: line 3: username 'ben o'")).to_be_visible()
    expect(page.get_by_text("team.csv: line 4: email 'not-an-email'")).to_be_visible()
    assert not CohortMember.objects.exists()
    _accessible(page)

    # The corrected roster: step 1 done, and the dashboard appears.
    _roster(page, GOOD_ROSTER)
    expect(page.get_by_text("Roster imported: 2 added (2 new accounts)")).to_be_visible()
    expect(page.get_by_text("Done: 2 in the cohort")).to_be_visible()
    expect(page.get_by_role("heading", name="Members (2)")).to_be_visible()

    # The first assignment.
    page.get_by_role("link", name="Assign work with the form below").click()
    page.get_by_label("Title").fill("Mock 1")
    page.get_by_label("Due (UTC)").fill(_due(3))
    page.get_by_role("button", name="Assign to the cohort").click()
    expect(page.get_by_text("Assigned.")).to_be_visible()
    expect(page.get_by_role("heading", name="Get Spring bootcamp started")).to_have_count(0)
    _accessible(page)

    # Edited.
    page.get_by_role("link", name="Edit Mock 1").click()
    expect(page.get_by_role("heading", name="Edit assignment: Mock 1")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Mock 1")
    _accessible(page)
    page.get_by_label("Title").fill("Baseline mock")
    new_due = _due(5)
    page.get_by_label("Due (UTC)").fill(new_due)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Baseline mock.")).to_be_visible()
    expect(page.get_by_role("cell", name="Baseline mock (Full mock exam)")).to_be_visible()
    assert timezone.localtime(Assignment.objects.get().due_at).strftime("%Y-%m-%dT%H:%M") == new_due

    # Deleted, after the confirmation page says what happens to attempts.
    page.get_by_role("link", name="Delete Baseline mock").click()
    expect(page.get_by_role("heading", name="Delete the assignment Baseline mock?")).to_be_visible()
    expect(page.get_by_text("No one has started it yet.")).to_be_visible()
    _accessible(page)
    page.get_by_role("button", name="Delete the assignment").click()
    expect(page.get_by_text("Deleted Baseline mock.")).to_be_visible()
    expect(page.get_by_role("cell", name="Nothing assigned yet.")).to_be_visible()
    assert not Assignment.objects.exists()


def test_the_steps_edit_and_delete_pages_fit_a_phone(phone, lead_in_org, exam):
    login(phone, "lead", "pw-lead-123")
    phone.goto("/cohorts/")
    phone.get_by_label("New cohort name").fill("Phone cohort")
    phone.get_by_role("button", name="Create cohort").click()
    expect(phone.get_by_role("heading", name="Get Phone cohort started")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    _accessible(phone)

    phone.get_by_label("Title").fill("Mock 1")
    phone.get_by_label("Due (UTC)").fill(_due(3))
    phone.get_by_role("button", name="Assign to the cohort").click()
    expect(phone.get_by_text("Assigned.")).to_be_visible()
    phone.get_by_role("link", name="Edit Mock 1").click()
    expect(phone.get_by_role("heading", name="Edit assignment: Mock 1")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    phone.get_by_role("link", name="Back to Phone cohort").click()
    phone.get_by_role("link", name="Delete Mock 1").click()
    expect(phone.get_by_role("heading", name="Delete the assignment Mock 1?")).to_be_visible()
    assert horizontal_overflow(phone) == 0

    phone.goto("/cohorts/")
    expect(phone.get_by_role("button", name="Email me a weekly digest of Phone cohort")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    _accessible(phone)
