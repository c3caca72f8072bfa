"""The results page as a candidate reads it: its filters, the answers it states, and each item's review, which
loads when its details open (or inline with ?open=N, without JavaScript)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.exams.models import AttemptItem
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.models import QuestionReport
from tests.scoring.factories import scored_mock

HX = {"HX-Request": "true"}


@pytest.fixture
def scored(bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return scored_mock(exam=bank, candidate=candidate, ability=0.5, seed=4)


def results_url(attempt) -> str:
    return reverse("scoring:results", args=[attempt.pk])


def item_url(attempt, position: int) -> str:
    return reverse("scoring:item-review", args=[attempt.pk, position])


def article(body: str, position: int) -> str:
    start = body.index(f'id="reviewed-{position}"')
    return body[start : body.index("</article>", start)]


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
    assert partial.count("Question 1: unanswered") == 1
    assert "<html" not in partial


def test_the_list_names_each_item_and_leaves_its_review_folded(client, candidate, scored):
    client.force_login(candidate)
    items = list(scored.items.select_related("task", "question").order_by("position"))

    body = client.get(results_url(scored)).content.decode()

    # then: every item has its heading, its task and a folded review with a name of its own
    for item in items:
        outcome = "right" if item.is_correct else "wrong" if item.answer else "unanswered"
        block = article(body, item.position)
        assert f'id="reviewed-{item.position}">Question {item.position}: {outcome}' in block
        assert f"Task {item.task.code}: {item.task.title}" in block
        assert f"<summary>Show question {item.position}'s review</summary>" in block
        assert f'hx-get="{item_url(scored, item.position)}"' in block
        assert 'hx-trigger="toggle once from:closest details"' in block
        assert f'href="?show=all&amp;open={item.position}#reviewed-{item.position}"' in block
    assert body.count('<details class="item-review">') == len(items)  # none open
    # and no stem, key or rationale is on the page until an item is opened
    assert not any(item.question.stem in body for item in items)
    assert "Correct answer" not in body
    assert "Report a problem with this question" not in body
    # the rest of the page is all there
    for text in ("on the 100–1000 scale", "By domain", "By task", "Review every question"):
        assert text in body


def test_an_opened_item_loads_its_stem_key_explanation_and_report_form(client, candidate, scored):
    client.force_login(candidate)
    item = AttemptItem.objects.select_related("question").get(attempt=scored, position=3)

    response = client.get(item_url(scored, 3), headers=HX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert "<html" not in body
    assert body.strip().startswith('<div class="item-detail" id="detail-3">')
    assert item.question.stem in body
    assert item.question.explanation in body
    assert "Correct answer" in body or "correct order" in body or "Correct match" in body
    assert "Report a problem with this question" in body
    assert f'hx-post="{reverse("scoring:report", args=[scored.pk, 3])}"' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_a_case_study_item_loads_with_its_scenario(client, candidate, scored):
    client.force_login(candidate)
    item = scored.items.filter(question__case_study__isnull=False).order_by("position").first()

    body = client.get(item_url(scored, item.position), headers=HX).content.decode()

    assert "Case study: A retailer" in body
    assert "A retailer streams clicks." in body


def test_without_javascript_open_shows_that_item_inline(client, candidate, scored):
    client.force_login(candidate)
    item = AttemptItem.objects.select_related("question").get(attempt=scored, position=7)

    body = client.get(results_url(scored), {"show": "all", "open": "7"}).content.decode()

    block = article(body, 7)
    assert '<details class="item-review" open>' in block
    assert item.question.stem in block
    assert item.question.explanation in block
    assert "Report a problem with this question" in block
    assert "hx-get" not in block  # nothing left to load
    assert body.count('<details class="item-review" open>') == 1  # only that one
    assert body.count("Report a problem with this question") == 1


def test_a_plain_request_for_an_item_goes_to_the_results_with_it_open(client, candidate, scored):
    client.force_login(candidate)

    response = client.get(item_url(scored, 4), {"show": "flagged"})

    assert response.status_code == 302
    assert response["Location"] == f"{results_url(scored)}?show=flagged&open=4#reviewed-4"
    assert client.get(item_url(scored, 4), {"show": "<script>"})["Location"].endswith("?show=all&open=4#reviewed-4")


@pytest.mark.parametrize("value", ["", "0", "66", "abc", "99999999999999999999", "³", "-1"])
def test_an_open_parameter_outside_the_list_opens_nothing(client, candidate, scored, value):
    client.force_login(candidate)

    response = client.get(results_url(scored), {"open": value})

    assert response.status_code == 200
    assert '<details class="item-review" open>' not in response.content.decode()


def test_open_names_an_item_of_the_list_shown(client, candidate, scored):
    right = scored.items.filter(is_correct=True).order_by("position").first()
    client.force_login(candidate)

    body = client.get(results_url(scored), {"show": "wrong", "open": right.position}).content.decode()

    assert f'id="reviewed-{right.position}"' not in body  # not in "Wrong or unanswered"
    assert '<details class="item-review" open>' not in body


def test_only_the_owner_sees_an_items_review_and_only_once_the_attempt_is_over(client, candidate, scored, bank):
    other = get_user_model().objects.create_user("other")
    in_progress = attempt_start_mock(candidate=candidate, exam=bank, seed=9)

    # anonymous: to the login page
    assert client.get(item_url(scored, 1), headers=HX).status_code == 302
    # another candidate: not found, with or without htmx, and ?open shows them nothing either
    client.force_login(other)
    assert client.get(item_url(scored, 1), headers=HX).status_code == 404
    assert client.get(item_url(scored, 1)).status_code == 404
    assert client.get(results_url(scored), {"open": 1}).status_code == 404
    # the owner, before submitting: no key is sent
    client.force_login(candidate)
    for headers in (HX, {}):
        response = client.get(item_url(in_progress, 1), headers=headers)
        assert response.status_code == 404
        assert "Correct answer" not in response.content.decode()
    in_progress_page = client.get(results_url(in_progress), {"open": 1})
    assert in_progress_page.status_code == 302  # back to the exam, as before
    # a position the attempt does not have, and one no URL matches
    assert client.get(item_url(scored, 66), headers=HX).status_code == 404
    assert client.get(item_url(scored, 0), headers=HX).status_code == 404
    assert client.get(f"{results_url(scored)}q/999999/", headers=HX).status_code == 404
    # only GET
    assert client.post(item_url(scored, 1), headers=HX).status_code == 405


def test_the_item_review_shows_the_candidates_open_report(client, candidate, scored):
    client.force_login(candidate)
    client.post(reverse("scoring:report", args=[scored.pk, 2]), {"reason": "typo"}, headers=HX)

    reported = client.get(item_url(scored, 2), headers=HX).content.decode()
    other = client.get(item_url(scored, 3), headers=HX).content.decode()

    assert "You reported this question (a typo" in reported
    assert "Report a problem with this question" not in reported
    assert "You reported this question" not in other
    assert QuestionReport.objects.count() == 1


def test_the_results_page_and_an_item_review_take_a_bounded_number_of_queries(
    client, candidate, scored, django_assert_max_num_queries
):
    client.force_login(candidate)
    for url, data in ((results_url(scored), {}), (results_url(scored), {"open": 5}), (item_url(scored, 5), {})):
        client.get(url, data, headers=HX)  # warm the caches (the delivered versions, the session)

    # the list reads the items in one query, whatever their number (7 today: user, attempt twice, result, items,
    # the exam); opening one adds its item and its report; an item alone is user, attempt, item, report
    with django_assert_max_num_queries(8):
        client.get(results_url(scored))
    with django_assert_max_num_queries(10):
        client.get(results_url(scored), {"open": 5})
    with django_assert_max_num_queries(5):
        client.get(item_url(scored, 5), headers=HX)
