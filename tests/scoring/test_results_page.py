"""The results page as a candidate reads it: its filters, and the answers it states."""

import re

from django.urls import reverse

from apps.exams.services import attempt_start_mock, attempt_submit


def test_the_results_filter_marks_the_one_that_is_on(client, bank, candidate, django_capture_on_commit_callbacks):
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=2)
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=attempt)
    client.force_login(candidate)
    url = reverse("scoring:results", args=[attempt.pk])

    partial = client.get(url, {"show": "wrong"}, headers={"HX-Request": "true"}).content.decode()
    page = client.get(url, {"show": "wrong"}).content.decode()

    for body in (partial, page):
        assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)</a>', body) == ["Wrong or unanswered"]
    assert partial.count('class="reviewed wrong"') == 65  # nothing answered: every item is listed as wrong
    assert "<html" not in partial
