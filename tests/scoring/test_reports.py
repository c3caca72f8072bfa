"""Candidates report broken items from their results; instructors see them on the item and close them."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from apps.exams.models import AttemptItem
from apps.exams.services import attempt_start_mock
from apps.questions.models import QuestionReport
from tests.scoring.factories import scored_mock

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def scored(bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return scored_mock(exam=bank, candidate=candidate, ability=0.5, seed=4)


def report_url(attempt, position: int) -> str:
    return reverse("scoring:report", args=[attempt.pk, position])


def test_a_candidate_reports_an_item_from_the_results(client, candidate, scored):
    client.force_login(candidate)
    item = AttemptItem.objects.get(attempt=scored, position=3)

    # when: they report question 3 (htmx swaps the block)
    response = client.post(report_url(scored, 3), {"reason": "key", "comment": "B is right, see the docs"}, **HX)

    # then: thanks in place of the form, and a report on the exact version they saw
    assert response.status_code == 200
    assert "Thank you. You reported this question (the marked answer is wrong)" in response.text
    report = QuestionReport.objects.get()
    assert (report.question_id, report.reporter, report.reason) == (item.question_id, candidate, "key")
    assert report.comment == "B is right, see the docs"
    # and each item's review remembers it, next to that item only
    reviews = [
        client.get(reverse("scoring:item-review", args=[scored.pk, position]), **HX).text
        for position in range(1, scored.items.count() + 1)
    ]
    assert [position for position, text in enumerate(reviews, 1) if "You reported this question" in text] == [3]
    assert sum("Report a problem with this question" in text for text in reviews) == scored.items.count() - 1


def test_reporting_again_updates_the_open_report(client, candidate, scored):
    client.force_login(candidate)
    client.post(report_url(scored, 3), {"reason": "key"}, **HX)

    client.post(report_url(scored, 3), {"reason": "typo", "comment": "option C is cut off"}, **HX)

    report = QuestionReport.objects.get()
    assert (report.reason, report.comment) == ("typo", "option C is cut off")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose what is wrong."),
        ({"reason": "nonsense"}, "Choose what is wrong."),
        ({"reason": "other", "comment": "   "}, "Say what is wrong, so that an instructor can fix it."),
        ({"reason": "key", "comment": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_a_bad_report_is_explained_and_nothing_is_filed(client, candidate, scored, data, message):
    client.force_login(candidate)

    response = client.post(report_url(scored, 3), data, **HX)

    assert response.status_code == 400  # htmx swaps it in: the form again, open, with the message
    assert message in response.text
    assert "<details open>" in response.text
    assert not QuestionReport.objects.exists()


def test_without_javascript_the_report_returns_to_the_item(client, candidate, scored):
    client.force_login(candidate)

    response = client.post(report_url(scored, 5), {"reason": "outdated"})
    page = client.get(response["Location"])

    # then: back on the results with question 5's review open, the thanks above and the report under it
    assert response["Location"] == reverse("scoring:results", args=[scored.pk]) + "?open=5#reviewed-5"
    assert "question 5 is reported" in page.text
    item = page.text[page.text.index('id="reviewed-5"') :]
    item = item[: item.index("</article>")]
    assert '<details class="item-review" open>' in item
    assert "You reported this question (it is out of date" in item


def test_only_the_owner_reports_and_only_after_the_attempt(client, candidate, scored, bank):
    other = get_user_model().objects.create_user("other")
    in_progress = attempt_start_mock(candidate=candidate, exam=bank, seed=9)

    client.force_login(other)
    assert client.post(report_url(scored, 1), {"reason": "key"}).status_code == 404
    client.force_login(candidate)
    assert client.post(report_url(in_progress, 1), {"reason": "key"}).status_code == 404  # the key is not shown yet
    assert client.post(report_url(scored, 999), {"reason": "key"}).status_code == 404
    assert client.get(report_url(scored, 1)).status_code == 405
    assert not QuestionReport.objects.exists()


def test_instructors_see_open_reports_and_close_them(candidate, scored, instructor_client, instructor):
    client = Client()  # the candidate's browser; instructor_client is the instructor's
    client.force_login(candidate)
    client.post(report_url(scored, 2), {"reason": "ambiguous", "comment": "A and C both work"}, **HX)
    report = QuestionReport.objects.get()

    # the question list counts it and filters to reported items
    listing = instructor_client.get(reverse("admin:questions_question_changelist") + "?reported=open")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [report.question]
    assert (
        "A and C both work"
        in instructor_client.get(reverse("admin:questions_question_change", args=[report.question_id])).text
    )

    # closing it as fixed records who and when
    instructor_client.post(
        reverse("admin:questions_questionreport_changelist"),
        {"action": "close_fixed", "_selected_action": [report.pk], "confirm": "yes", "note": "Stem reworded in v2."},
    )
    report.refresh_from_db()
    assert report.status == "resolved"
    assert report.closed_by == instructor
    assert report.closed_at is not None

    # and the candidate may report the item again, as a new report
    client.post(report_url(scored, 2), {"reason": "key"}, **HX)
    assert QuestionReport.objects.filter(question=report.question).count() == 2


def test_reports_cost_the_results_no_extra_query(client, candidate, scored, django_assert_max_num_queries):
    client.force_login(candidate)
    results = reverse("scoring:results", args=[scored.pk])
    review = reverse("scoring:item-review", args=[scored.pk, 2])

    def load_all() -> None:
        client.get(results)
        client.get(results, {"open": 2})
        client.get(review, **HX)

    load_all()  # warm the caches
    with django_assert_max_num_queries(30) as counted:
        load_all()
    before = len(counted)
    for position in (1, 2, 3):
        client.post(report_url(scored, position), {"reason": "typo"}, **HX)

    with django_assert_max_num_queries(before):
        load_all()
