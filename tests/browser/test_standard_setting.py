"""A modified-Angoff panel in the admin, in a real browser: raters fill their sheets by label on a desktop and on
a phone, and the facilitator opens round 2 and adopts the cut."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.core.roles import INSTRUCTORS, roles_ensure
from apps.scoring.models import RecordedCut, StudyRating, StudyState
from apps.scoring.standards import study_create, study_questions, study_ratings_save
from tests.browser.conftest import axe_violations, horizontal_overflow, login, page_defects

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LABEL = "Item {n}: probability that a minimally competent candidate answers correctly"


def rater(username: str):
    user = get_user_model().objects.create_user(username, password=f"pw-{username}-123", is_staff=True)
    user.groups.add(roles_ensure()[INSTRUCTORS])
    return user


def login_as(tab, username: str) -> None:
    tab.context.clear_cookies()  # a fresh session: the tab may hold another panellist's
    login(tab, username, f"pw-{username}-123")


def shot(tab, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"standard-{name}.png"), full_page=False)


def fill_sheet(tab, study, count: int, value_of) -> None:
    tab.goto(f"/admin/scoring/standardsettingstudy/{study.pk}/sheet/")
    expect(tab.get_by_label(LABEL.format(n=1))).to_be_visible()
    for n in range(1, count + 1):
        tab.get_by_label(LABEL.format(n=n)).fill(value_of(n))
    tab.get_by_role("button", name="Save my ratings").click()


def test_raters_fill_sheets_and_the_facilitator_adopts(page, phone, bank):
    # given: a study and three raters
    facilitator = get_user_model().objects.create_superuser("facil", password="pw-facil-123")
    rater("ana")
    ben, cho = rater("ben"), rater("cho")
    study = study_create(exam=bank, name="C01 spring panel", created_by=facilitator, rng=random.Random(3))
    questions = study_questions(study=study)
    count = len(questions)

    # ana, on a desktop: a bad value is named and nothing saved; then the whole sheet
    login_as(page, "ana")
    page.goto(f"/admin/scoring/standardsettingstudy/{study.pk}/sheet/")
    assert horizontal_overflow(page) == 0
    shot(page, "sheet-desktop")
    page.get_by_label(LABEL.format(n=1)).fill("0.6")
    page.get_by_label(LABEL.format(n=2)).fill("1.4")
    page.get_by_role("button", name="Save my ratings").click()
    expect(page.get_by_role("alert")).to_contain_text("Item 2: enter a probability from 0.05 to 0.95.")
    shot(page, "sheet-error-desktop")
    assert not StudyRating.objects.exists()
    fill_sheet(page, study, count, lambda n: "0.6" if n % 2 else "0.7")
    expect(page.get_by_text(f"Saved: {count} of {count} items rated in round 1.")).to_be_visible()
    assert page_defects(page) == []
    assert axe_violations(page, exclude=(".breadcrumbs",)) == []

    # ben, on a phone: a part-filled sheet first, then the rest
    login_as(phone, "ben")
    fill_sheet(phone, study, 10, lambda n: "0.55")
    expect(
        phone.get_by_text(f"Saved: 10 of {count} items rated in round 1. {count - 10} still to rate")
    ).to_be_visible()
    assert horizontal_overflow(phone) == 0
    shot(phone, "sheet-phone")
    for n in range(11, count + 1):
        phone.get_by_label(LABEL.format(n=n)).fill("0.65")
    phone.get_by_role("button", name="Save my ratings").click()
    expect(phone.get_by_text("Your sheet is complete.")).to_be_visible()
    assert StudyRating.objects.filter(rater=ben, round=1).count() == count

    study_ratings_save(study=study, rater=cho, round_=1, values={q.pk: 0.75 for q in questions})

    # the facilitator opens round 2 after reading the summary and confirming
    login_as(page, "facil")
    page.goto(f"/admin/scoring/standardsettingstudy/{study.pk}/summary/")
    expect(page.locator("#impact-summary")).to_contain_text("From the mean round-1 ratings")
    expect(page.get_by_text("provisional seed").first).to_be_visible()
    assert horizontal_overflow(page) == 0
    shot(page, "summary-desktop")
    page.get_by_role("button", name="Open round 2…").click()
    expect(page.get_by_text("Round 1 closes")).to_be_visible()
    page.get_by_role("button", name="Yes, open round 2").click()
    expect(page.get_by_text("Round 2 of C01 spring panel is open")).to_be_visible()

    # ana revises item 1 in round 2, on a phone, seeing the panel's round-1 spread
    login_as(phone, "ana")
    phone.goto(f"/admin/scoring/standardsettingstudy/{study.pk}/sheet/")
    expect(phone.get_by_text("min 0.55, mean 0.63, max 0.75 (3 raters)").first).to_be_visible()
    assert horizontal_overflow(phone) == 0
    shot(phone, "sheet-round2-phone")
    phone.get_by_label(LABEL.format(n=1)).fill("0.5")
    phone.get_by_role("button", name="Save my ratings").click()
    expect(phone.get_by_text(f"Saved: {count} of {count} items rated in round 2.")).to_be_visible()

    # the facilitator adopts, on a phone this time
    login_as(phone, "facil")
    phone.goto(f"/admin/scoring/standardsettingstudy/{study.pk}/summary/")
    assert horizontal_overflow(phone) == 0
    shot(phone, "summary-phone")
    phone.get_by_role("button", name="Adopt the cut…").click()
    expect(phone.get_by_text("The cut computed from the final ratings becomes")).to_be_visible()
    phone.get_by_role("button", name="Yes, adopt the panel's cut").click()
    expect(phone.get_by_text("Adopted: MLA-C01's cut is now")).to_be_visible()
    expect(phone.locator("#cut-facts")).to_contain_text("3")
    assert horizontal_overflow(phone) == 0
    shot(phone, "cut-phone")

    cut = RecordedCut.objects.get()
    assert cut.raters == 3
    study.refresh_from_db()
    assert study.state == StudyState.ADOPTED
    page.goto("/admin/scoring/standardsettingstudy/")
    expect(page.get_by_text("set by the panel")).to_be_visible()
    shot(page, "list-desktop")
    phone.goto("/admin/scoring/standardsettingstudy/")
    expect(phone.get_by_role("heading", name="Current cut of each exam version")).to_be_visible()
    assert horizontal_overflow(phone) == 0
    shot(phone, "list-phone")
    page.goto(f"/admin/scoring/standardsettingstudy/{study.pk}/cut/")
    assert horizontal_overflow(page) == 0
    shot(page, "cut-desktop")
