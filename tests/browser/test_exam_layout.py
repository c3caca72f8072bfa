"""The exam's tools and layout in a real browser: the sticky header, the question grid by keyboard, the exit
warning, the text size, the scratch pad, and phone-width pages with no sideways scrolling."""

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import Preference
from apps.exams.models import Attempt
from tests.browser.conftest import (
    axe_violations,
    horizontal_overflow,
    login,
    mock_begin,
    page_defects,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def first_of(attempt, kind: str) -> int:
    return attempt.items.filter(question__type=kind).order_by("position").first().position


@pytest.mark.parametrize("tab", ["page", "phone"])
def test_the_timer_and_moves_stay_in_view_and_nothing_scrolls_sideways(request, tab, bank, candidate):
    page = request.getfixturevalue(tab)
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)

    for kind in ("matching", "ordering", "single", "multiple"):
        page.goto(f"/exams/a/{attempt.pk}/q/{first_of(attempt, kind)}/")
        page.keyboard.press("End")  # the bottom of a long question
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(200)
        for control in (
            page.get_by_role("timer"),
            page.get_by_role("button", name="Previous"),
            page.get_by_role("button", name="Next", exact=True),
            page.get_by_role("button", name="Review all questions"),
        ):
            assert in_view(page, control), f"{kind}: a control of the exam header scrolled away"
        assert horizontal_overflow(page) == 0, f"the {kind} item is wider than the screen"
    # the strike-out control of a single-answer item fits too, struck or not
    page.get_by_role("button", name="Strike out option A").click()
    expect(page.get_by_role("button", name="Restore option A")).to_be_visible()
    assert horizontal_overflow(page) == 0
    assert axe_violations(page) == []
    assert page_defects(page) == []

    page.get_by_role("button", name="Review all questions").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    assert horizontal_overflow(page) == 0
    assert in_view(page, page.get_by_role("timer"))


def test_the_question_grid_works_by_keyboard(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)

    page.get_by_role("button", name="Question 1, unanswered").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("button", name="Question 2, unanswered")).to_be_focused()
    page.keyboard.press("ArrowDown")  # the next row of the grid
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    number = int(re.search(r"Question (\d+)", focused).group(1))
    assert number > 3
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Question {number} of 65", exact=True)).to_be_visible()


def test_exit_warns_that_the_clock_keeps_running(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    expect(page.get_by_role("link", name="Progress")).to_have_count(0)  # the site menu is not on exam screens

    page.get_by_role("link", name="Exit the full mock exam").click()

    expect(page.get_by_role("heading", name="Leave the full mock exam?")).to_be_visible()
    expect(page.get_by_text("The clock keeps running while you are away.")).to_be_visible()
    expect(page.get_by_role("timer")).to_be_visible()
    page.get_by_role("link", name="Return to question 1").click()
    expect(page.get_by_role("heading", name="Question 1 of 65", exact=True)).to_be_visible()


def test_text_size_and_scratch_pad(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    stem = page.locator(".stem").first
    before = stem.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")

    # the text grows at once, and stays so on the next question
    page.get_by_role("button", name="Larger").click()
    expect(page.get_by_role("button", name="Larger")).to_have_attribute("aria-pressed", "true")
    assert stem.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") > before * 1.2
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Question 2 of 65", exact=True)).to_be_visible()
    assert page.locator(".stem").first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") > before * 1.2
    assert Preference.objects.get(user=candidate).text_size == "larger"

    # notes are saved as they are typed, kept on every question, and gone after submitting
    page.get_by_text("Scratch pad").click()
    page.get_by_label(re.compile("^Notes for this attempt")).fill("Q2: not B. Check Clarify vs Model Monitor.")
    expect(page.get_by_text("Notes saved.")).to_be_visible()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Question 3 of 65", exact=True)).to_be_visible()
    expect(page.get_by_label(re.compile("^Notes for this attempt"))).to_have_value(
        "Q2: not B. Check Clarify vs Model Monitor."
    )
    page.get_by_role("button", name="Review all questions").click()
    page.get_by_role("link", name="Finish and submit").first.click()
    expect(page.get_by_text("your scratch pad is erased")).to_be_visible()
    page.get_by_role("button", name="Yes, submit now").click()
    expect(page.get_by_role("heading", name="Review every question")).to_be_visible()
    expect(page.get_by_text("Check Clarify vs Model Monitor")).to_have_count(0)
    assert Attempt.objects.get(candidate=candidate).scratchpad == ""
