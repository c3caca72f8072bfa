"""Exam versions in a real browser: a new candidate practises for MLA-C02, sees C01 retiring, switches, and
starts the beta form; on a desk and on a phone."""

import re

import pytest
from playwright.sync_api import expect

from apps.exams.models import Attempt
from apps.questions.placements import bank_carry_over
from tests.browser.conftest import axe_violations, horizontal_overflow, login
from tests.exams.factories import bank_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("tab", ["page", "phone"])
def test_a_new_candidate_chooses_the_version_and_starts_the_beta_form(request, tab, exam, exam_c02, candidate):
    bank_build(exam, per_task=12)  # the beta form's 70 scored items need 20 in domain 1
    bank_carry_over(target=exam_c02)
    page = request.getfixturevalue(tab)
    login(page, "cand", "pw-cand-123")

    page.get_by_role("navigation").get_by_role("link", name="Exams").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your exams: MLA-C02")
    expect(page.get_by_label(re.compile(r"^MLA-C02"))).to_be_checked()
    expect(page.get_by_label(re.compile(r"^MLA-C01"))).to_have_accessible_name(
        re.compile("Retiring · offered in Japanese, Korean and Simplified Chinese")
    )
    assert horizontal_overflow(page) == 0
    assert axe_violations(page) == []

    page.get_by_label(re.compile(r"^MLA-C01")).check()
    page.get_by_role("button", name="Practise for the chosen version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your exams: MLA-C01")
    expect(page.get_by_text("MLA-C01 is retiring.")).to_be_visible()
    expect(page.get_by_role("heading", name="Beta form")).to_have_count(0)

    page.get_by_label(re.compile(r"^MLA-C02")).check()
    page.get_by_role("button", name="Practise for the chosen version").click()
    page.get_by_role("link", name="Start the beta form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("MLA-C02 beta form: before you begin")
    expect(page.get_by_text("with no pass line")).to_be_visible()
    page.get_by_role("button", name="Begin the exam").click()

    expect(page.get_by_text("Question 1 of 85")).to_be_visible()
    attempt = Attempt.objects.get(candidate=candidate)
    assert (attempt.exam.code, attempt.mode, attempt.duration_seconds) == ("MLA-C02", "beta", 170 * 60)
    assert horizontal_overflow(page) == 0
