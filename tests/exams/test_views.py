"""Delivery over HTTP, as a browser (with or without JavaScript) uses it."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.exams.services import attempt_start_practice, attempt_submit
from apps.syllabus.models import Task


def question_url(attempt, position):
    return reverse("exams:question", args=[attempt.pk, position])


def test_question_page_shows_position_timer_and_controls(candidate_client, mock):
    body = candidate_client.get(question_url(mock, 1)).content.decode()
    text = re.sub(r"<[^>]+>", "", body)

    assert "Question 1 of 65" in body
    assert 'role="timer"' in body
    assert "2:10:00" in body or "2:09:5" in body
    for label in (
        "Previous",
        "Next",
        "Flag for review",
        "Review all questions",
        "Finish and submit",
        "Keyboard shortcuts",
        "Scratch pad",
        "Text size",
        "All questions",
    ):
        assert label in text
    assert "Pacing:" in body


def test_page_source_never_contains_keys_rationales_or_explanations(candidate_client, mock):
    for item in mock.items.select_related("question").order_by("position"):
        body = candidate_client.get(question_url(mock, item.position)).content.decode()
        question = item.question
        assert question.explanation not in body
        for choice in question.choices.all():
            assert choice.rationale not in body
            assert f'value="{choice.pk}"' not in body
        for step in question.steps.all():
            assert step.rationale not in body
        for pair in question.pairs.all():
            assert pair.rationale not in body
        assert "is_correct" not in body
        assert "correct" not in re.sub(r"<[^>]+>", "", body).lower().replace("incorrect", "")


def test_question_page_uses_a_constant_number_of_queries(candidate_client, mock, django_assert_max_num_queries):
    # The user, and one statement that remembers the position and reads the attempt, its exam version, the item and
    # every item's state.
    for position in (1, 65):
        candidate_client.get(question_url(mock, position))  # the question versions are cached from now on
    with django_assert_max_num_queries(2):
        candidate_client.get(question_url(mock, 1))
    with django_assert_max_num_queries(2):
        candidate_client.get(question_url(mock, 65))


def test_the_question_screen_reads_what_the_orm_reads(mock, candidate):
    # given: answers of every kind of state, a flag and a struck-out option
    from apps.exams.selectors import attempt_progress, attempt_question_screen

    items = list(mock.items.order_by("position"))
    AttemptItem.objects.filter(pk=items[0].pk).update(answer={"choices": [1]}, complete=True, flagged=True)
    AttemptItem.objects.filter(pk=items[1].pk).update(answer={"choices": []}, complete=False, eliminated=[3])
    AttemptItem.objects.filter(pk=items[2].pk).update(answer={}, complete=False)
    attempt = Attempt.objects.select_related("exam").get(pk=mock.pk)

    for item in items[:3]:
        # when
        screen = attempt_question_screen(candidate=candidate, attempt_id=mock.pk, position=item.position)

        # then: the same values, converted as the ORM converts them
        expected = AttemptItem.objects.get(pk=item.pk)
        for field in AttemptItem._meta.concrete_fields:
            assert getattr(screen.item, field.attname) == getattr(expected, field.attname), field.name
        assert screen.item.question.pk == expected.question_id
        for field in Attempt._meta.concrete_fields:
            if field.name != "selection":
                assert getattr(screen.attempt, field.attname) == getattr(attempt, field.attname), field.name
        assert screen.attempt.deadline.tzinfo is not None
        assert screen.attempt.exam == attempt.exam
        assert screen.attempt.exam.code == attempt.exam.code
        assert screen.progress == attempt_progress(attempt=attempt)
    assert [cell.state for cell in screen.progress.cells[:3]] == ["answered", "incomplete", "unanswered"]
    assert screen.attempt.selection == attempt.selection  # left out of the query, loaded when asked for


def test_the_question_screen_is_the_candidates_own(mock, candidate):
    from django.http import Http404

    from apps.exams.selectors import attempt_question_screen

    someone = get_user_model().objects.create_user("someone-else", password="pw-else-123")
    with pytest.raises(Http404):
        attempt_question_screen(candidate=someone, attempt_id=mock.pk, position=1)
    assert attempt_question_screen(candidate=candidate, attempt_id=mock.pk, position=66).item is None


def test_autosave_answers_with_a_status_fragment(candidate_client, mock):
    item = mock.items.filter(question__type="single").first()

    response = candidate_client.post(
        reverse("exams:answer", args=[mock.pk, item.position]),
        {"choice": "2", "go": "autosave", "seq": "3"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Saved at" in response.content.decode()
    item.refresh_from_db()
    assert item.answer == {"choices": [item.presentation["choices"][1]]}


def test_without_javascript_next_saves_and_moves_on(candidate_client, mock):
    item = mock.items.filter(question__type="single").first()

    response = candidate_client.post(
        reverse("exams:answer", args=[mock.pk, item.position]), {"choice": "1", "go": "next"}
    )

    assert response.url == question_url(mock, item.position + 1)
    item.refresh_from_db()
    assert item.answer is not None


# What htmx sends when the answer form posts Next and follows the redirect: its own headers, on the GET too.
def panel_headers(came_from: str) -> dict:
    return {"HX-Request": "true", "HX-Target": "exam-panel", "HX-Current-URL": f"http://testserver{came_from}"}


def test_htmx_navigation_gets_the_panel_and_what_belongs_to_the_question(candidate_client, mock):
    # given: the candidate on question 3
    candidate_client.get(question_url(mock, 3))

    # when: htmx follows Next's redirect to question 4
    response = candidate_client.get(question_url(mock, 4), headers=panel_headers(question_url(mock, 3)))

    # then: the question's panel, not the page (no header, no grid of 65 questions, no scripts)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "<script" not in body
    assert 'id="navigator-heading"' not in body
    for part in ('id="exam-panel"', "Question 4 of 65", 'id="answer-form"'):
        assert part in body
    # and out of band: the title, the header's counter and buttons, and the two grid cells that changed
    assert "<title>Question 4 of 65 · Full mock exam</title>" in body
    assert re.search(r'<span id="bar-counter"[^>]*hx-swap-oob="true"[^>]*>4/65</span>', body)
    assert re.search(r'<nav id="question-nav"[^>]*hx-swap-oob="true"', body)
    cells = re.findall(r'<li id="nav-(\d+)"[^>]*hx-swap-oob="true">(.*?)</li>', body)
    assert [number for number, _ in cells] == ["3", "4"]
    assert 'aria-current="step"' not in cells[0][1]
    assert 'aria-current="step"' in cells[1][1]
    # and the address to show, the clock, and that caches keep the two answers apart
    assert response["HX-Push-Url"] == question_url(mock, 4)
    assert 0 < int(response["X-Exam-Remaining-Ms"]) <= 130 * 60 * 1000
    assert {"HX-Request", "HX-Target"} <= {h.strip() for h in response["Vary"].split(",")}
    mock.refresh_from_db()
    assert mock.last_position == 4


def test_htmx_save_on_the_same_question_pushes_no_address(candidate_client, mock):
    response = candidate_client.get(question_url(mock, 1), headers=panel_headers(question_url(mock, 1)))

    assert 'id="exam-panel"' in response.content.decode()
    assert "HX-Push-Url" not in response


def test_the_whole_page_for_a_load_and_for_going_back_in_history(candidate_client, mock):
    restore = {**panel_headers(question_url(mock, 1)), "HX-History-Restore-Request": "true"}
    for headers in ({}, {"HX-Request": "true"}, restore):
        body = candidate_client.get(question_url(mock, 2), headers=headers).content.decode()
        assert body.lstrip().startswith("<!doctype html>"), headers
        assert 'id="navigator-heading"' in body, headers


def test_htmx_navigation_uses_no_more_queries_than_the_page(candidate_client, mock, django_assert_max_num_queries):
    candidate_client.get(question_url(mock, 1))
    candidate_client.get(question_url(mock, 2))
    with django_assert_max_num_queries(2):
        candidate_client.get(question_url(mock, 2), headers=panel_headers(question_url(mock, 1)))


def test_htmx_review_and_finish_load_their_whole_page(candidate_client, mock):
    for go, name in (("review", "exams:review"), ("submit", "exams:submit")):
        response = candidate_client.post(
            reverse("exams:answer", args=[mock.pk, 1]), {"go": go}, headers=panel_headers(question_url(mock, 1))
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse(name, args=[mock.pk])
    response = candidate_client.post(
        reverse("exams:answer", args=[mock.pk, 1]), {"go": "next"}, headers=panel_headers(question_url(mock, 1))
    )
    assert response.status_code == 302
    assert response.url == question_url(mock, 2)  # htmx follows it for the panel


def test_htmx_navigation_of_a_paused_or_finished_attempt_loads_the_whole_page(candidate_client, bank, candidate):
    from apps.exams.services import attempt_pause

    tasks = list(Task.objects.filter(code="1.1").values_list("pk", flat=True))
    practice = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=3, timed=True, feedback="end"
    )
    attempt_pause(attempt=practice)
    headers = panel_headers(question_url(practice, 1))

    response = candidate_client.get(question_url(practice, 2), headers=headers)
    assert response["HX-Redirect"] == question_url(practice, 2)  # which then says the set is paused

    Attempt.objects.filter(pk=practice.pk).update(paused_at=None)
    attempt_submit(attempt=Attempt.objects.get(pk=practice.pk))
    response = candidate_client.get(question_url(practice, 2), headers=headers)
    assert response["HX-Redirect"] == reverse("scoring:results", args=[practice.pk])


def test_flag_and_review_filters(candidate_client, mock):
    candidate_client.post(reverse("exams:flag", args=[mock.pk, 4]), {"flagged": "1"})
    review = reverse("exams:review", args=[mock.pk])

    flagged = candidate_client.get(review, {"show": "flagged"}).content.decode()
    partial = candidate_client.get(review, {"show": "unanswered"}, headers={"HX-Request": "true"}).content.decode()

    assert "Go to question 4" in flagged
    assert "Go to question 5" not in flagged
    assert partial.count("Go to question") == 65
    assert "<html" not in partial


def test_submit_confirmation_states_unanswered_and_flagged(candidate_client, mock):
    candidate_client.post(reverse("exams:flag", args=[mock.pk, 2]), {"flagged": "1"})

    body = candidate_client.get(reverse("exams:submit", args=[mock.pk])).content.decode()

    summary = "<strong>65</strong> unanswered questions, <strong>0</strong> incomplete and <strong>1</strong> flagged"
    assert summary in body


def test_submitting_shows_the_results(candidate_client, mock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = candidate_client.post(reverse("exams:submit", args=[mock.pk]))
    results = candidate_client.get(response.url).content.decode()

    assert "on the 100–1000 scale" in results
    assert "not AWS's score" in results
    assert "Review every question" in results


def test_other_candidates_get_404_everywhere(client, mock):
    intruder = get_user_model().objects.create_user("intruder", password="pw-x-12345")
    client.force_login(intruder)
    urls = [
        ("get", reverse("exams:open", args=[mock.pk])),
        ("get", question_url(mock, 1)),
        ("post", reverse("exams:answer", args=[mock.pk, 1])),
        ("post", reverse("exams:flag", args=[mock.pk, 1])),
        ("post", reverse("exams:strike", args=[mock.pk, 1, 1])),
        ("get", reverse("exams:review", args=[mock.pk])),
        ("get", reverse("exams:submit", args=[mock.pk])),
        ("post", reverse("exams:submit", args=[mock.pk])),
        ("post", reverse("exams:pause", args=[mock.pk])),
        ("get", reverse("scoring:results", args=[mock.pk])),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, url
    assert Attempt.objects.get(pk=mock.pk).state == AttemptState.IN_PROGRESS


def test_anonymous_users_are_sent_to_login(client, mock):
    response = client.get(question_url(mock, 1))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_after_the_deadline_a_save_is_refused_with_the_reason(candidate_client, mock):
    Attempt.objects.filter(pk=mock.pk).update(deadline=mock.deadline.replace(year=2000))

    response = candidate_client.post(
        reverse("exams:answer", args=[mock.pk, 1]), {"choice": "1", "go": "autosave"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 409
    assert "Time is up" in response.content.decode()


def test_strike_out_persists(candidate_client, mock):
    item = mock.items.filter(question__type="single").first()

    candidate_client.post(reverse("exams:strike", args=[mock.pk, item.position, 2]), {"struck": "1"})

    item.refresh_from_db()
    assert item.eliminated == [item.presentation["choices"][1]]
    body = candidate_client.get(question_url(mock, item.position)).content.decode()
    assert 'class="option struck" id="option-2"' in body


def test_practice_with_immediate_feedback_reveals_only_after_checking(candidate_client, bank, candidate):
    tasks = list(Task.objects.filter(code="1.1").values_list("pk", flat=True))
    attempt = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=3, timed=False, feedback="immediate"
    )
    item = attempt.items.select_related("question").get(position=1)
    before = candidate_client.get(question_url(attempt, 1)).content.decode()
    assert item.question.explanation not in before

    candidate_client.post(reverse("exams:check", args=[attempt.pk, 1]), {"go": "reveal"})

    after = candidate_client.get(question_url(attempt, 1)).content.decode()
    assert item.question.explanation.split(".")[0] in after


def test_results_pending_page_polls_until_scored(candidate_client, mock, settings):
    from django.utils import timezone

    from tests.conftest import celery_broker

    # just submitted, its scoring queued for a worker (without a broker the page would score it there and then)
    Attempt.objects.filter(pk=mock.pk).update(state=AttemptState.SUBMITTED, submitted_at=timezone.now())
    with celery_broker(settings.CELERY_BROKER_URL):
        page = candidate_client.get(reverse("scoring:results", args=[mock.pk])).content.decode()

    assert "Scoring your attempt" in page
    assert 'hx-trigger="every 2s"' in page


def test_practice_form_builds_a_set(candidate_client, bank):
    task = Task.objects.get(code="2.1")

    response = candidate_client.post(
        reverse("exams:practice"), {"tasks": [task.pk], "count": "4", "timed": "on", "feedback": "end"}
    )

    attempt = Attempt.objects.get(mode="practice")
    assert response.url == question_url(attempt, 1)
    assert attempt.item_count == 4
    assert set(AttemptItem.objects.filter(attempt=attempt).values_list("question__task__code", flat=True)) == {"2.1"}


def test_practice_form_reports_errors(candidate_client, bank):
    response = candidate_client.post(reverse("exams:practice"), {"count": "500"})
    body = response.content.decode()
    assert "Pick at least one task" in body
    assert "less than or equal to 65" in body


def test_submitted_attempt_redirects_to_results(candidate_client, mock):
    attempt_submit(attempt=mock)
    response = candidate_client.get(question_url(mock, 1))
    assert response.url == reverse("scoring:results", args=[mock.pk])
