"""End to end, as a candidate drilling: practice with feedback after each question, review-missed sets, the
spaced-repetition queue, pausing and timer warnings. Controls are found by role, label and text only."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.exams.models import Attempt, AttemptMode
from apps.scoring.models import ReviewCard
from tests.browser.conftest import (
    assert_countdown_follows_server,
    axe_violations,
    login,
    page_defects,
    server_remaining,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def question_heading(page, position: int, total: int):
    return page.get_by_role("heading", name=f"Question {position} of {total}", exact=True)


def answer_and_check(page) -> None:
    """Pick the first option (or a full order or set of matches) and check it."""
    if page.get_by_role("radio").count():
        page.get_by_role("radio").first.check()
    elif page.get_by_role("checkbox").count():
        page.get_by_role("checkbox").nth(0).check()
        page.get_by_role("checkbox").nth(1).check()
    else:
        selects = page.get_by_role("combobox")
        for index in range(selects.count()):
            selects.nth(index).select_option(index=index + 1)
    page.get_by_role("button", name="Check answer").click()
    expect(page.get_by_role("heading", name=re.compile(r"^(Correct|Not quite)$"))).to_be_visible()


def practice_build(page, *, task: str, count: int, feedback: str, timed: bool = False) -> None:
    page.goto("/exams/")
    page.get_by_role("link", name="Build a practice set").click()
    for code in task.split(","):
        page.get_by_label(re.compile(rf"^{re.escape(code)} ")).check()
    page.get_by_label("Number of questions").fill(str(count))
    page.get_by_label(re.compile("^Timed")).set_checked(timed)
    page.get_by_label(feedback).check()
    page.get_by_role("button", name="Start practice").click()


def test_practice_with_feedback_after_each_question_moves_on_every_way(page, bank, candidate):
    # given: a practice set of six with answers after each question
    login(page, "cand", "pw-cand-123")
    practice_build(page, task="1.1", count=6, feedback="After each item")
    attempt = Attempt.objects.get(candidate=candidate, mode=AttemptMode.PRACTICE)

    # when / then: after each check, every way forward works: the Next button, the N key, the review screen
    # and the question grid
    for position in range(1, 7):
        expect(question_heading(page, position, 6)).to_be_visible()
        answer_and_check(page)
        expect(page.get_by_text("You already checked this answer")).to_have_count(0)
        if position == 1:
            assert axe_violations(page) == []
            assert page_defects(page) == []
            # the answer next to the key: a stated choice, or a table of the order or the matches
            stated = page.get_by_text(re.compile(r"^Your answer: [A-F]")).or_(page.get_by_role("table"))
            expect(stated.first).to_be_visible()
        if position == 6:
            break
        if position == 2:
            page.keyboard.press("n")
        elif position == 3:
            page.get_by_role("button", name="Review all questions").click()
            page.get_by_role("link", name=f"Go to question {position + 1}").click()
        elif position == 4:
            page.get_by_role("button", name=f"Question {position + 1}, unanswered").click()
        else:
            page.get_by_role("button", name="Next", exact=True).click()
    assert attempt.items.filter(revealed_at__isnull=False).count() == 6

    # and going back to a checked question shows its feedback, locked
    page.get_by_role("button", name="Previous").click()
    expect(question_heading(page, 5, 6)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^(Correct|Not quite)$"))).to_be_visible()
    expect(page.get_by_role("button", name="Check answer")).to_have_count(0)

    page.get_by_role("button", name="Finish and submit").click()
    page.get_by_role("button", name="Yes, submit now").click()
    expect(page.get_by_role("heading", name="Review every question")).to_be_visible()


def test_a_review_missed_set_and_the_spaced_repetition_queue(page, bank, candidate):
    # given: a practice set answered wrongly on purpose (nothing chosen), then submitted
    login(page, "cand", "pw-cand-123")
    practice_build(page, task="2.1", count=5, feedback="At the end")
    page.get_by_role("button", name="Finish and submit").click()
    page.get_by_role("button", name="Yes, submit now").click()
    expect(page.get_by_role("heading", name="Review every question")).to_be_visible()
    missed = Attempt.objects.get(candidate=candidate, mode=AttemptMode.PRACTICE)
    assert missed.items.filter(is_correct=False).count() == 5

    # when: they review what they missed
    page.goto("/exams/")
    page.get_by_role("button", name="Review missed questions").click()
    review = Attempt.objects.get(candidate=candidate, mode=AttemptMode.REVIEW)

    # then: the set holds those items, with feedback after each, and can be walked through
    total = review.item_count
    assert total == 5
    for position in range(1, total + 1):
        expect(question_heading(page, position, total)).to_be_visible()
        answer_and_check(page)
        if position < total:
            page.get_by_role("button", name="Next", exact=True).click()
    page.get_by_role("button", name="Finish and submit").click()
    page.get_by_role("button", name="Yes, submit now").click()
    expect(page.get_by_role("heading", name="Review every question")).to_be_visible()

    # when: cards come due, the progress page starts the spaced-repetition set
    ReviewCard.objects.filter(candidate=candidate).update(due=timezone.now() - timedelta(days=1))
    page.goto("/progress/")
    page.get_by_role("button", name="Review them now").click()
    due = Attempt.objects.filter(candidate=candidate, mode=AttemptMode.REVIEW).order_by("-started_at").first()
    assert due.pk != review.pk
    for position in range(1, due.item_count + 1):
        expect(question_heading(page, position, due.item_count)).to_be_visible()
        answer_and_check(page)
        if position < due.item_count:
            page.keyboard.press("n")


def test_pause_and_resume_a_timed_practice_set(page, bank, candidate):
    login(page, "cand", "pw-cand-123")
    practice_build(page, task="3.1", count=5, feedback="At the end", timed=True)
    attempt = Attempt.objects.get(candidate=candidate, mode=AttemptMode.PRACTICE)
    before, started = server_remaining(attempt), time.monotonic()

    page.get_by_role("link", name=re.compile("^Exit")).click()
    page.get_by_role("button", name="Pause the clock and leave").click()
    expect(page.get_by_role("heading", name="This practice set is paused")).to_be_visible()
    page.wait_for_timeout(3_000)  # the clock is stopped meanwhile
    page.get_by_role("button", name="Resume").click()

    expect(question_heading(page, 1, 5)).to_be_visible()
    # had the clock run on, the time left would have dropped by all the time elapsed; the 3 s paused were not lost
    after, elapsed = server_remaining(attempt), time.monotonic() - started
    assert before - elapsed + 2.5 <= after <= before
    assert_countdown_follows_server(page, attempt)


def test_a_20_minute_set_has_no_30_minute_warning_and_warns_at_5(page, bank, candidate):
    # given: a timed set of 10 questions: 20 minutes
    login(page, "cand", "pw-cand-123")
    practice_build(page, task="4.1,4.2", count=10, feedback="At the end", timed=True)
    attempt = Attempt.objects.get(candidate=candidate, mode=AttemptMode.PRACTICE)
    assert attempt.duration_seconds == 20 * 60

    # then: no warning while 20 minutes are left
    page.wait_for_timeout(2_000)
    expect(page.get_by_role("alert")).to_have_count(0)

    # when: only 5 minutes are left
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(minutes=4, seconds=50))
    page.reload()
    expect(page.get_by_role("alert")).to_have_text(re.compile("^Less than 5 minutes left"))
    # and once seen, the warning does not come back on every page
    page.get_by_role("button", name="Next", exact=True).click()
    expect(question_heading(page, 2, 10)).to_be_visible()
    page.wait_for_timeout(1_500)
    expect(page.get_by_role("alert")).to_have_count(0)
