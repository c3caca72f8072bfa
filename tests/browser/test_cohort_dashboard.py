"""A team lead's cohort dashboard in a real browser: the filter form narrows every widget and the CSV it links to,
members sort and search in the URL, a member's page opens; no accessibility violations and no sideways scrolling
on a phone."""

import csv
import io
from pathlib import Path

import pytest

from apps.cohorts.models import Membership, Organisation, Role
from apps.cohorts.services import cohort_create
from tests.browser.conftest import PHONE, axe_violations, horizontal_overflow, login
from tests.cohorts.factories import NEXT_MONDAY, member_add, two_weeks_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cohort(exam, lead):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    cohort = cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)
    two_weeks_seed(cohort=cohort, exam=exam)
    member_add(
        cohort,
        "ada",
        first_name="Ada",
        latest_scaled=760,
        best_scaled=790,
        attempts=4,
        last_active=None,
        tasks={"1.1": [7, 9], "2.1": [2, 6]},
    )
    return cohort


def members_column(page) -> list[str]:
    return page.locator("#members-table tbody th[scope=row] a").all_inner_texts()


def test_a_lead_filters_sorts_searches_and_opens_a_member(page, cohort):
    login(page, "lead", "pw-lead-123")
    page.goto(f"/cohorts/{cohort.pk}/")
    assert axe_violations(page) == []
    assert sorted(members_column(page)) == ["ada", "early", "late"]

    # the filter: the second week only; the URL says so, and so does every CSV link
    page.get_by_label("From", exact=True).fill(NEXT_MONDAY.isoformat())
    page.get_by_role("button", name="Apply filter").click()
    page.wait_for_url(f"**since={NEXT_MONDAY.isoformat()}**")
    page.get_by_text("Every figure, chart and CSV below follows this filter").wait_for()
    assert members_column(page) == ["late"]
    assert page.get_by_role("heading", name="Weakest objectives").is_visible()
    assert "2.1.1" in page.locator("#objectives-heading + div").inner_text()
    assert "1.1.1" not in page.locator("#objectives-heading + div").inner_text()
    members_csv = page.get_by_role("heading", name="Members (1)").get_by_role("link", name="CSV")
    assert f"since={NEXT_MONDAY.isoformat()}" in members_csv.get_attribute("href")
    with page.expect_download() as download:
        members_csv.click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [row[0] for row in rows[1:]] == ["late"]
    with page.expect_download() as download:
        page.get_by_role("heading", name="Most-missed items").get_by_role("link", name="CSV").click()
    items = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [row[2] for row in items[1:]] == ["Which metric suits an imbalanced classifier?"]

    # the shared URL opens the same view
    page.goto(page.url)
    assert members_column(page) == ["late"]

    # sort and search, both in the URL
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(f"**/cohorts/{cohort.pk}/")
    page.get_by_role("link", name="Latest", exact=True).click()
    page.wait_for_url("**sort=-latest**")
    assert members_column(page) == ["late", "ada", "early"]
    assert page.get_by_role("columnheader", name="Latest").get_attribute("aria-sort") == "descending"
    page.get_by_label("Search members").fill("Ada")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=Ada**")
    assert members_column(page) == ["ada"]
    assert "sort=-latest" in page.url

    # a member's page
    page.get_by_role("link", name="ada").click()
    page.get_by_role("heading", name="ada Ada", level=1).wait_for()
    assert page.get_by_role("heading", name="Domains and tasks").is_visible()
    assert "78%" in page.locator("#profile-caption").locator("..").inner_text()  # 7 of 9 on task 1.1
    assert axe_violations(page) == []
    member_url = page.url

    # on a phone, neither page scrolls sideways
    page.set_viewport_size(PHONE)
    page.goto(member_url)
    assert horizontal_overflow(page) == 0
    assert axe_violations(page) == []
    page.goto(f"/cohorts/{cohort.pk}/?since={NEXT_MONDAY.isoformat()}")
    assert horizontal_overflow(page) == 0
    assert axe_violations(page) == []
    chart = page.get_by_role("img", name="Members by latest mock score")
    box = chart.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
