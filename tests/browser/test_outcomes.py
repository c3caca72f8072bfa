"""Real exam results in a real browser: a candidate reports one on the progress page, on a desktop and on a
phone; an instructor opens the calibration page, whose reliability diagram and table are both there."""

import datetime
import math
import os
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from apps.exams.models import Attempt
from apps.scoring.models import ExamOutcome
from tests.browser.conftest import axe_violations, horizontal_overflow, login, page_defects
from tests.scoring.factories import scored_mock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1280, 800), (390, 844)]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "")) if os.environ.get("SCREENSHOT_DIR") else None


def _shot(target, tmp_path, name: str) -> None:
    """A screenshot of a page (all of it) or of one element, kept in $SCREENSHOT_DIR when that is set."""
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    options = {"full_page": True} if hasattr(target, "goto") else {}
    target.screenshot(path=folder / f"{name}.png", **options)


def test_a_candidate_reports_a_real_result_on_desktop_and_phone(page, bank, candidate, tmp_path):
    # given: a scored mock a month ago
    attempt = scored_mock(exam=bank, candidate=candidate, ability=0.7, seed=3)
    Attempt.objects.filter(pk=attempt.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=30))
    scored = attempt.items.filter(scored=True).count()
    login(page, "cand", "pw-cand-123")

    for days_ago, (width, height) in zip((10, 3), VIEWPORTS, strict=True):
        sat_on = timezone.localdate() - datetime.timedelta(days=days_ago)
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/progress/")
        section = page.get_by_role("region", name="Report your real exam result")
        expect(section).to_be_visible()

        # when: a first try with a passing score marked as a fail
        section.get_by_label("Exam version").select_option("MLA-C01")
        section.get_by_label("Date you sat the exam").fill(sat_on.isoformat())
        section.get_by_label("Fail").check()
        section.get_by_label("Scaled score (optional)").fill("781")
        section.get_by_role("button", name="Report the result").click()

        # then: refused, with the field's message, and the entries kept
        expect(page.get_by_text("A score of 781 reaches the pass mark of 720, so it is a pass")).to_be_visible()
        assert page.get_by_label("Scaled score (optional)").input_value() == "781"
        _shot(page.get_by_role("region", name="Report your real exam result"), tmp_path, f"outcome-refused-{width}")

        # when: corrected
        section = page.get_by_role("region", name="Report your real exam result")
        section.get_by_label("Pass", exact=True).check()
        section.get_by_role("button", name="Report the result").click()

        # then: listed with the prediction we had before that day
        expect(page.get_by_text(f"Your MLA-C01 result of {sat_on.isoformat()} is saved.")).to_be_visible()
        outcome = ExamOutcome.objects.get(sat_on=sat_on)
        percent = round(100 * outcome.predicted_pass_probability)
        item = page.locator(f"#outcome-{outcome.pk}")
        expect(item).to_contain_text(f"We gave you {percent}% based on {scored} scored items.")
        expect(item.get_by_role("link", name="Edit")).to_be_visible()
        expect(item.get_by_role("button", name="Delete")).to_be_visible()
        assert horizontal_overflow(page) == 0
        assert axe_violations(page) == []
        assert page_defects(page) == []
        _shot(page.get_by_role("region", name="Report your real exam result"), tmp_path, f"outcome-saved-{width}")

    # and the phone edits the first report through its page
    first = ExamOutcome.objects.order_by("sat_on").first()
    page.locator(f"#outcome-{first.pk}").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit your real exam result")).to_be_visible()
    assert page.get_by_label("Scaled score (optional)").input_value() == "781"
    assert horizontal_overflow(page) == 0
    assert axe_violations(page) == []
    _shot(page, tmp_path, "outcome-edit-390")
    page.get_by_label("Scaled score (optional)").fill("902")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator(f"#outcome-{first.pk}")).to_contain_text("passed with 902")
    assert ExamOutcome.objects.count() == 2


def test_an_instructor_reads_the_calibration_page(page, exam, instructor, tmp_path):
    # given: 120 reports with a prediction
    rng = np.random.default_rng(8)
    theta = rng.normal(0.3, 1.0, 120)
    passed = rng.random(120) < 1 / (1 + np.exp(-2 * (theta - 0.3)))
    user_model = get_user_model()
    people = user_model.objects.bulk_create([user_model(username=f"c{i}") for i in range(120)])
    ExamOutcome.objects.bulk_create(
        [
            ExamOutcome(
                candidate=person,
                exam=exam,
                sat_on=datetime.date(2026, 10, 1),
                passed=bool(y),
                predicted_theta=float(t),
                predicted_theta_se=0.4,
                predicted_pass_probability=0.5 * (1 + math.erf(t - 0.3)),
                predicted_responses=50,
                predicted_cut_theta=0.3,
            )
            for person, t, y in zip(people, theta, passed, strict=True)
        ]
    )
    login(page, "inst", "pw-inst-123")

    for width, height in VIEWPORTS:
        # when
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/admin/scoring/examoutcome/calibration/?exam={exam.code}")

        # then
        chart = page.get_by_role("img", name="MLA-C01: predicted chance of passing against the share who passed")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        assert box["height"] >= 250
        assert chart.locator(".chart-point").count() >= 5
        table = page.get_by_role("table", name="Reports per bin of predicted chance")
        expect(table).to_be_visible()
        assert table.get_by_role("row").count() == 11  # the header and ten bins
        expect(page.locator("#cut-estimate")).to_contain_text("From 120 outcomes")
        assert axe_violations(page, exclude=(".breadcrumbs",)) == []
        _shot(page, tmp_path, f"calibration-{width}")
