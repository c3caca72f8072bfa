"""The progress page's score chart in a real browser, on a desktop and on a phone: tall enough to read, no
horizontal scrolling, no accessibility violations, and nothing the Content-Security-Policy blocks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.exams.models import Attempt
from tests.browser.conftest import axe_violations, login
from tests.scoring.factories import scored_mock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1280, 800), (390, 844)]


@pytest.mark.parametrize("abilities", [[0.6], [0.35, 0.5, 0.7, 0.55, 0.9]], ids=["one-result", "several-results"])
def test_the_score_chart_reads_well_on_desktop_and_phone(page, bank, candidate, abilities, tmp_path):
    # given mocks a week apart, the oldest first
    for seed, ability in enumerate(abilities, start=1):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=ability, seed=seed)
        started = timezone.now() - timedelta(weeks=len(abilities) - seed)
        Attempt.objects.filter(pk=attempt.pk).update(started_at=started)
    login(page, "cand", "pw-cand-123")

    for width, height in VIEWPORTS:
        # when
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/progress/")
        chart = page.get_by_role("img", name="Scaled scores of your mock exams")

        # then
        box = chart.bounding_box()
        assert box is not None
        assert box["height"] >= 150
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        _, _, view_width, view_height = (float(n) for n in chart.get_attribute("viewBox").split())
        assert box["height"] / box["width"] == pytest.approx(view_height / view_width, rel=0.01)  # not stretched
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert chart.locator(".chart-point").count() == len(abilities)
        assert axe_violations(page) == []
        page.locator("figure.chart").screenshot(path=tmp_path / f"chart-{len(abilities)}-{width}.png")
        page.locator("section[aria-labelledby=history-heading]").screenshot(
            path=tmp_path / f"section-{len(abilities)}-{width}.png"
        )
