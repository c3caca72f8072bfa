"""The results' review in a real browser: each item's review loads when its details open, and a report is sent
from inside it, on a desktop and on a phone; without JavaScript, a link opens the same review in the page.

Controls are found by role, label and text. The database is read to know what the candidate was shown and to
check what was stored, never to drive the page.
"""

import re

import pytest
from playwright.sync_api import expect

from apps.exams.models import AttemptItem
from apps.questions.models import QuestionReport
from tests.browser.conftest import axe_violations, horizontal_overflow, login, page_defects
from tests.scoring.factories import scored_mock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scored(bank, candidate):
    return scored_mock(exam=bank, candidate=candidate, ability=0.5, seed=4)


def reviewed(page, position: int):
    return page.get_by_role("article", name=re.compile(rf"^Question {position}:"))


@pytest.mark.parametrize("tab", ["page", "phone"])
def test_an_items_review_loads_when_opened_and_takes_a_report(request, tab, scored):
    page = request.getfixturevalue(tab)
    item = AttemptItem.objects.select_related("question").get(attempt=scored, position=3)
    login(page, "cand", "pw-cand-123")
    page.goto(f"/results/{scored.pk}/")
    article = reviewed(page, 3)
    expect(article.get_by_role("heading", name=re.compile(r"^Question 3: (right|wrong|unanswered)"))).to_be_visible()
    expect(article.get_by_text(item.question.stem, exact=True)).to_have_count(0)  # not sent until opened
    assert axe_violations(page) == []
    assert horizontal_overflow(page) == 0

    # when: the candidate opens question 3's review
    article.get_by_text("Show question 3's review", exact=True).click()

    # then: its stem, key and explanation load into it
    expect(article.get_by_text(item.question.stem, exact=True)).to_be_visible()
    expect(article.get_by_text(item.question.explanation, exact=True)).to_be_visible()
    if item.question.type in ("single", "multiple"):
        expect(article.get_by_text(re.compile(r"Your answer: .* Correct answer: "))).to_be_visible()
    else:
        expect(article.get_by_role("table")).to_be_visible()
    assert axe_violations(page) == []
    assert page_defects(page) == []
    assert horizontal_overflow(page) == 0

    # when: they report a problem from inside it
    article.get_by_text("Report a problem with this question", exact=True).click()
    article.get_by_role("radio", name="A typo, or text that does not display properly").check()
    article.get_by_label("Details (which option, what changed, a link)").fill("Option C is cut off")
    article.get_by_role("button", name="Send the report").click()

    # then: thanks in place of the form, a report on the exact version they saw, and the page still whole
    expect(article.get_by_role("status")).to_contain_text("Thank you. You reported this question")
    report = QuestionReport.objects.get()
    assert (report.question_id, report.reason, report.comment) == (item.question_id, "typo", "Option C is cut off")
    expect(page.get_by_role("heading", name="Review every question")).to_be_visible()
    assert axe_violations(page) == []
    assert horizontal_overflow(page) == 0


def test_a_review_loads_after_the_list_is_filtered(page, scored):
    wrong = scored.items.filter(is_correct=False).select_related("question").order_by("position").last()
    login(page, "cand", "pw-cand-123")
    page.goto(f"/results/{scored.pk}/")

    page.get_by_role("navigation", name="Show").get_by_role("link", name="Wrong or unanswered").click()
    expect(page).to_have_url(re.compile(r"\?show=wrong$"))
    article = reviewed(page, wrong.position)
    article.get_by_text(f"Show question {wrong.position}'s review", exact=True).click()

    expect(article.get_by_text(wrong.question.stem, exact=True)).to_be_visible()
    # closing and opening again keeps what was loaded, without a second request
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/q/" in r.url else None)
    summary = article.get_by_text(f"Show question {wrong.position}'s review", exact=True)
    summary.click()
    summary.click()
    expect(article.get_by_text(wrong.question.stem, exact=True)).to_be_visible()
    assert requests == []


def test_without_javascript_a_link_opens_the_review_and_the_report_returns_to_it(browser, live_server, scored):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    item = AttemptItem.objects.select_related("question").get(attempt=scored, position=5)
    login(page, "cand", "pw-cand-123")
    page.goto(f"/results/{scored.pk}/")

    # when: the candidate opens question 5's details and follows the link inside
    article = reviewed(page, 5)
    article.get_by_text("Show question 5's review", exact=True).click()
    article.get_by_role("link", name="Load question 5's review").click()

    # then: the page comes back with question 5's review open in place
    expect(page).to_have_url(re.compile(rf"/results/{scored.pk}/\?show=all&open=5#reviewed-5$"))
    article = reviewed(page, 5)
    expect(article.get_by_text(item.question.stem, exact=True)).to_be_visible()
    expect(article.get_by_text(item.question.explanation, exact=True)).to_be_visible()

    # and a report sent from it comes back to it
    article.get_by_text("Report a problem with this question", exact=True).click()
    article.get_by_role("radio", name="The marked answer is wrong").check()
    article.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("Thank you: question 5 is reported")).to_be_visible()
    expect(reviewed(page, 5).get_by_text("You reported this question (the marked answer is wrong)")).to_be_visible()
    assert QuestionReport.objects.get().question_id == item.question_id
    context.close()
