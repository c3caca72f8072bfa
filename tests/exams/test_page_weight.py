"""The exam page, with its JS and CSS, must stay under 60 KB gzipped (a size, not a timing)."""

import gzip
import re

from django.contrib.staticfiles import finders
from django.urls import reverse

from apps.exams.services import attempt_start_mock

BUDGET = 60 * 1024


def test_exam_page_transfers_under_60_kb_gzipped(client, bank, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank)
    client.force_login(candidate)
    html = client.get(reverse("exams:question", args=[attempt.pk, 1])).content

    assets = re.findall(rb'(?:src|href)="/static/([^"]+\.(?:js|css))"', html)
    sizes = {"html": len(gzip.compress(html))}
    for asset in assets:
        path = finders.find(asset.decode())
        assert path, asset
        with open(path, "rb") as handle:
            sizes[asset.decode()] = len(gzip.compress(handle.read()))

    assert {"vendor/htmx/htmx.min.js", "js/exam.js", "css/site.css"} <= set(sizes)
    assert sum(sizes.values()) <= BUDGET, sizes
