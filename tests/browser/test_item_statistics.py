"""An instructor reads an item's statistics in the admin, on a desktop and on a phone, in a real browser."""

import pytest
from playwright.sync_api import expect

from apps.scoring.analysis import item_statistics_compute
from apps.scoring.models import ItemStatistic
from tests.browser.conftest import axe_violations, horizontal_overflow, login
from tests.scoring.factories import bank_simulate

pytestmark = pytest.mark.browser


def test_item_statistics_read_with_counts_on_desktop_and_phone(page, phone, exam, instructor, tmp_path):
    # given: 120 candidates' first mocks, with a miskeyed item among them
    miskeyed, _ = bank_simulate(exam=exam, candidates=120)
    item_statistics_compute(exam=exam)
    stats = ItemStatistic.objects.get(question_id=miskeyed)
    instructor.set_password("pw-inst-123")
    instructor.save()

    for tab, name in ((page, "desktop"), (phone, "phone")):
        login(tab, "inst", "pw-inst-123")

        # the list: facility with its count, filtered to flagged items
        tab.goto("/admin/questions/question/?flag=any")
        expect(tab.get_by_role("link", name="Possible miskey (negative discrimination)")).to_be_visible()
        expect(tab.get_by_text(f"{stats.facility:.2f} ({stats.correct} of {stats.responses})")).to_be_visible()
        tab.screenshot(path=tmp_path / f"list-{name}.png", full_page=True)

        # the item: which attempts count, every figure out of them, each flag with its evidence
        tab.goto(f"/admin/questions/question/{miskeyed}/change/")
        section = tab.locator("#item-statistics")
        expect(section.get_by_role("heading", name="Item statistics (first attempts)")).to_be_visible()
        expect(section.get_by_text(f"{stats.responses} first attempts.", exact=False).first).to_be_visible()
        expect(section.get_by_role("rowheader", name="Facility (share right)")).to_be_visible()
        expect(section.get_by_text("Possible miskey: the discrimination index is negative")).to_be_visible()
        options = section.get_by_role("table", name="Options: who chose what (out of the same first attempts)")
        expect(options).to_be_visible()
        section.screenshot(path=tmp_path / f"item-{name}.png")
        assert horizontal_overflow(tab) == 0, name
        assert axe_violations(tab, exclude=(".breadcrumbs",)) == []
