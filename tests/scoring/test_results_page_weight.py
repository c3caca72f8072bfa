"""The results page of a full mock from the shipped bank stays small: each item's review loads when it is opened
(a size, not a timing). Inline, the 65 reviews made the page about 340 KB."""

import re

from django.core.management import call_command
from django.urls import reverse

from tests.scoring.factories import scored_mock

BUDGET = 150 * 1024


def test_a_full_mock_results_page_is_under_150_kb(client, exam, candidate, django_capture_on_commit_callbacks):
    call_command("load_bank")
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=exam, candidate=candidate, ability=0.6, seed=7)
    client.force_login(candidate)

    html = client.get(reverse("scoring:results", args=[attempt.pk])).content

    assert attempt.items.count() == 65
    assert re.findall(rb'<h3 id="reviewed-(\d+)"', html) == [str(n).encode() for n in range(1, 66)]
    assert len(html) <= BUDGET, len(html)
    # and opening one item with ?open=N (no JavaScript) keeps the page well inside the budget
    opened = client.get(reverse("scoring:results", args=[attempt.pk]), {"open": 1}).content
    assert len(html) < len(opened) <= BUDGET, len(opened)
