"""End to end, as a candidate: take a mock, answer every type, flag, review, reload, submit, see results."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.exams.models import Attempt, AttemptItem, AttemptState
from tests.browser.conftest import axe_violations, login
from tests.exams.factories import bank_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bank(exam):
    bank_build(exam)
    return exam


def remaining_seconds(page) -> int:
    text = page.locator("#timer").inner_text()
    parts = [int(p) for p in text.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def go_to(page, attempt, position):
    page.goto(f"/exams/a/{attempt.pk}/q/{position}/")
    expect(page.get_by_role("heading", name=f"Question {position} of")).to_be_visible()


def test_full_mock_in_a_real_browser(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    page.goto("/exams/")
    page.get_by_role("button", name="Start or resume a full mock").click()
    expect(page.get_by_role("heading", name="Question 1 of 65")).to_be_visible()
    attempt = Attempt.objects.get(candidate=candidate)
    assert axe_violations(page) == []

    # answer one item of each type, each saved at once
    positions = {}
    for kind in ("single", "multiple", "ordering", "matching"):
        positions[kind] = attempt.items.filter(question__type=kind).order_by("position").first().position
    go_to(page, attempt, positions["single"])
    page.get_by_role("radio").nth(1).check()
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    page.get_by_role("button", name=re.compile(r"^Strike out")).first.click()
    expect(page.locator(".option.struck")).to_have_count(1)

    go_to(page, attempt, positions["multiple"])
    page.get_by_role("checkbox").nth(0).check()
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    page.keyboard.press("2")  # keyboard shortcut picks option B
    expect(page.locator("#save-status")).to_contain_text("Saved at")

    go_to(page, attempt, positions["ordering"])
    selects = page.locator("select")
    for index in range(selects.count()):
        selects.nth(index).focus()
        selects.nth(index).select_option(str(index + 1))  # keyboard-operable native selects
    expect(page.locator("#save-status")).to_contain_text("Saved at")

    go_to(page, attempt, positions["matching"])
    page.locator("select").first.select_option(index=1)
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    page.get_by_role("button", name="Flag for review").click()
    expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()

    answered = dict(AttemptItem.objects.filter(attempt=attempt, answer__isnull=False).values_list("position", "answer"))
    assert set(answered) == set(positions.values())
    assert len(answered[positions["multiple"]]["choices"]) == 2

    # review screen with filters
    page.get_by_role("button", name="Review all questions").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    page.get_by_role("link", name="Flagged", exact=True).click()
    expect(page.get_by_role("link", name=re.compile(r"^Go to question"))).to_have_count(1)
    assert axe_violations(page) == []
    page.get_by_role("link", name=re.compile(r"^Go to question")).click()
    expect(page.get_by_role("heading", name=f"Question {positions['matching']} of 65")).to_be_visible()

    # close the tab, come back: same answers and the same remaining time (±2 s)
    before = remaining_seconds(page)
    page.reload()
    after = remaining_seconds(page)
    assert abs(before - after) <= 2
    expect(page.locator("select").first).not_to_have_value("")

    # submit with a confirmation that counts what is left
    page.get_by_role("button", name="Finish and submit").click()
    expect(page.locator("#submit-summary")).to_contain_text("61 unanswered questions and 1 flagged")
    page.get_by_role("button", name="Yes, submit now").click()
    expect(page.locator("#scaled-score")).to_be_visible()
    assert axe_violations(page) == []
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED


def test_a_new_tab_resumes_with_the_same_time(page, browser, live_server, bank, candidate):
    login(page, "cand", "pw-cand-123")
    page.goto("/exams/")
    page.get_by_role("button", name="Start or resume a full mock").click()
    first = remaining_seconds(page)

    other = browser.new_context(base_url=live_server.url).new_page()  # another device: a fresh session
    login(other, "cand", "pw-cand-123")
    other.goto("/exams/")
    other.get_by_role("link", name="Resume").click()
    assert abs(remaining_seconds(other) - first) <= 2
    other.context.close()


def test_time_running_out_submits_the_saved_answers(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    page.goto("/exams/")
    page.get_by_role("button", name="Start or resume a full mock").click()
    attempt = Attempt.objects.get(candidate=candidate)
    single = attempt.items.filter(question__type="single").order_by("position").first()
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=8))

    go_to(page, attempt, single.position)
    page.get_by_role("radio").first.check()
    expect(page.locator("#save-status")).to_contain_text("Saved at")

    expect(page.locator("#scaled-score")).to_be_visible(timeout=30_000)
    attempt.refresh_from_db()
    assert attempt.submitted_by == "deadline"
    assert attempt.items.get(pk=single.pk).answer is not None
    expect(page.get_by_text("time ran out")).to_be_visible()


def test_the_exam_works_without_javascript(browser, live_server, bank, candidate):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    login(page, "cand", "pw-cand-123")
    page.goto("/exams/")
    page.get_by_role("button", name="Start or resume a full mock").click()
    attempt = Attempt.objects.get(candidate=candidate)
    single = attempt.items.filter(question__type="single").order_by("position").first()
    go_to(page, attempt, single.position)

    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name=f"Question {single.position + 1} of 65")).to_be_visible()
    assert attempt.items.get(pk=single.pk).answer is not None
    context.close()


@pytest.mark.celery
def test_results_appear_within_seconds_with_a_real_worker(page, bank, candidate, celery_worker_process):
    login(page, "cand", "pw-cand-123")
    page.goto("/exams/")
    page.get_by_role("button", name="Start or resume a full mock").click()
    page.get_by_role("button", name="Finish and submit").click()
    page.get_by_role("button", name="Yes, submit now").click()

    expect(page.locator("#scaled-score")).to_be_visible(timeout=20_000)
    assert Attempt.objects.get(candidate=candidate).state == AttemptState.SCORED
