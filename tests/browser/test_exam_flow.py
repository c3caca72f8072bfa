"""End to end, as a candidate: a full mock through all 65 questions, the clock, time running out, no JavaScript.

Controls are found only by role, label and text, as a person finds them. The database is read to know what the
candidate was shown and to check what was stored, never to drive the page.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.exams.models import Attempt, AttemptItem, AttemptState
from tests.browser.conftest import (
    assert_countdown_follows_server,
    axe_violations,
    login,
    mock_begin,
    page_defects,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def question_heading(page, position: int, total: int = 65):
    return page.get_by_role("heading", name=f"Question {position} of {total}", exact=True)


def saved(page) -> None:
    expect(page.get_by_role("status").filter(has_text="Saved at")).to_be_visible()


def answer_shown_item(page, kind: str, *, complete: bool = True) -> str | None:
    """Answer the question on screen as a candidate would; returns the text of the option picked first."""
    if kind == "single":
        label = page.get_by_role("radio").first.evaluate("radio => radio.labels[0].innerText")
        page.get_by_role("radio").first.check()
        saved(page)
        return label
    if kind == "multiple":
        boxes = page.get_by_role("checkbox")
        label = boxes.first.evaluate("box => box.labels[0].innerText")
        boxes.nth(0).check()
        saved(page)
        if complete:
            boxes.nth(1).check()
            saved(page)
        return label
    selects = page.get_by_role("combobox")
    for index in range(selects.count()):
        if kind == "ordering":
            position = 1 if not complete else index + 1  # incomplete: every step in position 1
            selects.nth(index).select_option(label=f"Position {position}")
        else:
            selects.nth(index).select_option(index=1)
        saved(page)
    return None


def test_a_full_mock_through_all_65_questions(page, bank, candidate):
    # given: a candidate who begins a full mock from its instructions
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)
    kinds = dict(attempt.items.values_list("position", "question__type"))
    first = {kind: min(p for p, k in kinds.items() if k == kind) for kind in ("single", "multiple", "ordering")}
    assert axe_violations(page) == []
    assert page_defects(page) == []

    # when: they answer every question, each type its own way, moving on with Next, the N key and the grid
    picked: dict[int, str | None] = {}
    for position in range(1, 66):
        expect(question_heading(page, position)).to_be_visible()
        kind = kinds[position]
        incomplete = position in (first["multiple"], first["ordering"])
        picked[position] = answer_shown_item(page, kind, complete=not incomplete)
        if incomplete:
            expect(page.get_by_text("Incomplete:", exact=False).first).to_be_visible()
        if position == first["single"]:
            page.get_by_role("button", name="Strike out option D").click()
            expect(page.get_by_role("button", name="Restore option D")).to_be_focused()
        if position in (5, 10):
            page.get_by_role("button", name="Flag for review").click()
            expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()
        if position == 65:
            break
        if position == 20:
            page.get_by_role("button", name=f"Question {position + 1}, unanswered").click()
        elif position % 2:
            page.keyboard.press("n")
        else:
            page.get_by_role("button", name="Next", exact=True).click()
    stored = AttemptItem.objects.filter(attempt=attempt)
    assert stored.filter(answer__isnull=True).count() == 0
    assert stored.filter(complete=False).count() == 2

    # then: the review screen counts them, and its filters show what they say
    page.get_by_role("button", name="Review all questions").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.get_by_text("63 answered, 2 incomplete, 0 unanswered, 2 flagged, of 65")).to_be_visible()
    for name, count in (("Flagged", 2), ("Incomplete", 2), ("Unanswered", 0), ("All", 65)):
        page.get_by_role("navigation", name="Show").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("link", name=re.compile(r"^Go to question"))).to_have_count(count)
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
    assert axe_violations(page) == []
    assert page_defects(page) == []

    # and the grid beside it jumps to a question
    page.get_by_role("link", name=f"Question {first['multiple']}, incomplete").click()
    expect(question_heading(page, first["multiple"])).to_be_visible()

    # when: they submit after a confirmation that counts what is left
    page.get_by_role("button", name="Finish and submit").click()
    expect(page.locator("#submit-summary")).to_contain_text("0 unanswered questions, 2 incomplete and 2 flagged")
    page.get_by_role("button", name="Yes, submit now").click()

    # then: the results show every chosen answer as text, under the letter it had on screen, once its review opens
    expect(page.locator("#scaled-score")).to_be_visible()
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED
    for position, label in picked.items():
        article = page.get_by_role("article", name=re.compile(rf"^Question {position}:"))
        article.get_by_text(f"Show question {position}'s review", exact=True).click()
        if kinds[position] in ("single", "multiple"):
            letter, text = label.split(".", 1)
            expect(article.get_by_text(re.compile(rf"Your answer: {letter}\b"))).to_be_visible()
            chosen = article.locator("li").filter(has=page.get_by_text("Your answer", exact=True))
            expect(chosen.first).to_contain_text(f"{letter}. {text.strip()}")
        else:
            expect(article.get_by_role("table")).to_be_visible()
    assert axe_violations(page) == []
    assert page_defects(page) == []


def test_moving_between_questions_swaps_the_question_not_the_page(page, bank, candidate):
    # given: a candidate on question 1 who has typed a note, and the time the page was loaded
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)
    page.get_by_text("Scratch pad").click()
    page.get_by_label(re.compile("^Notes for this attempt")).fill("check 2")
    expect(page.get_by_text("Notes saved.")).to_be_visible()
    loaded = page.evaluate("performance.timeOrigin")

    # when: Next, then the grid, then the P key
    page.get_by_role("button", name="Next", exact=True).click()
    expect(question_heading(page, 2)).to_be_focused()  # where a screen reader goes, as on a page load
    page.get_by_role("button", name="Question 7, unanswered").click()
    expect(question_heading(page, 7)).to_be_focused()
    page.keyboard.press("p")
    expect(question_heading(page, 6)).to_be_focused()

    # then: the same page all along, with its title, address, header and grid following the question
    assert page.evaluate("performance.timeOrigin") == loaded
    expect(page).to_have_title("Question 6 of 65 · Full mock exam")
    expect(page).to_have_url(re.compile(rf"/exams/a/{attempt.pk}/q/6/$"))
    expect(page.locator("#bar-counter")).to_have_text("6/65")
    current = page.get_by_role("navigation", name="Question navigation")
    expect(current.get_by_role("button", name="Previous")).to_be_enabled()
    expect(page.locator(".navigator-grid [aria-current]")).to_have_count(1)
    expect(page.get_by_role("button", name="Question 6, unanswered")).to_have_attribute("aria-current", "step")
    expect(page.get_by_label(re.compile("^Notes for this attempt"))).to_have_value("check 2")
    attempt.refresh_from_db()
    assert attempt.last_position == 6

    # and the browser's Back button goes to the question before, loaded afresh
    page.go_back()
    expect(question_heading(page, 7)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/exams/a/{attempt.pk}/q/7/$"))
    assert page.evaluate("performance.timeOrigin") != loaded
    assert axe_violations(page) == []
    assert page_defects(page) == []


def test_a_new_tab_resumes_with_the_servers_time(page, browser, live_server, bank, candidate):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)

    other = browser.new_context(base_url=live_server.url).new_page()  # another device: a fresh session
    login(other, "cand", "pw-cand-123")
    other.goto("/exams/")
    other.get_by_role("link", name="Resume your full mock").click()

    # both countdowns follow the server's deadline, however long the pages took to load
    for tab in (page, other):
        assert_countdown_follows_server(tab, attempt)
    other.context.close()


def test_the_countdown_follows_the_servers_deadline_through_saves(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)
    single = attempt.items.filter(question__type="single").order_by("position").first()
    page.goto(f"/exams/a/{attempt.pk}/q/{single.position}/")

    # a candidate thinks for a while and changes their mind several times; every change is saved
    for round_ in range(4):
        page.wait_for_timeout(2_000)
        page.get_by_role("radio").nth(round_ % 4).check()
        saved(page)
        assert_countdown_follows_server(page, attempt)

    # the server moves the deadline (extra time granted): the next save brings the countdown to it
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.deadline - timedelta(minutes=10))
    page.get_by_role("radio").first.check()
    saved(page)
    page.wait_for_timeout(1_100)
    assert_countdown_follows_server(page, attempt)


def test_time_running_out_submits_the_saved_answers(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)
    single = attempt.items.filter(question__type="single").order_by("position").first()
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=8))

    page.goto(f"/exams/a/{attempt.pk}/q/{single.position}/")
    page.get_by_role("radio").first.check()
    saved(page)
    expect(page.get_by_role("alert")).to_contain_text("Less than 5 minutes left")

    expect(page.locator("#scaled-score")).to_be_visible(timeout=30_000)
    attempt.refresh_from_db()
    assert attempt.submitted_by == "deadline"
    assert attempt.items.get(pk=single.pk).answer is not None
    expect(page.get_by_text("time ran out")).to_be_visible()


def test_the_exam_works_without_javascript(browser, live_server, bank, candidate):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)
    single = attempt.items.filter(question__type="single").order_by("position").first()
    page.goto(f"/exams/a/{attempt.pk}/q/{single.position}/")

    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(question_heading(page, single.position + 1)).to_be_visible()
    assert attempt.items.get(pk=single.pk).answer is not None

    # the grid works as buttons of the answer form: the answer is saved, then the page moves
    page.get_by_role("button", name="Question 1, ", exact=False).click()
    expect(question_heading(page, 1)).to_be_visible()
    context.close()


@pytest.mark.celery
def test_results_appear_within_seconds_with_a_real_worker(page, bank, candidate, celery_worker_process):
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    page.get_by_role("button", name="Finish and submit").click()
    page.get_by_role("button", name="Yes, submit now").click()

    expect(page.locator("#scaled-score")).to_be_visible(timeout=20_000)
    assert Attempt.objects.get(candidate=candidate).state == AttemptState.SCORED
