"""The exam screens over HTTP: moving on from checked items, the incomplete state, filters, the instructions,
the scratch pad, the text size and the exit, as a browser with or without JavaScript uses them."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Preference
from apps.exams.models import Attempt, AttemptItem, AttemptMode
from apps.exams.services import attempt_item_reveal, attempt_start_practice, attempt_submit
from apps.syllabus.models import Task


def question_url(attempt, position):
    return reverse("exams:question", args=[attempt.pk, position])


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def first(attempt, kind):
    return attempt.items.filter(question__type=kind).order_by("position").first()


def autosave(client, attempt, position, data):
    return client.post(
        reverse("exams:answer", args=[attempt.pk, position]), {**data, "go": "autosave"}, headers={"HX-Request": "true"}
    )


def test_moving_on_from_a_checked_practice_item_goes_ahead(candidate_client, bank, candidate):
    # given: practice with feedback after each question, question 1 checked and locked
    tasks = list(Task.objects.filter(code="1.2").values_list("pk", flat=True))
    attempt = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=4, timed=False, feedback="immediate"
    )
    attempt_item_reveal(attempt=attempt, position=1)

    # when: Next, a question number in the grid, and Review are pressed (the locked inputs post nothing)
    moves = {
        go: candidate_client.post(reverse("exams:answer", args=[attempt.pk, 1]), {"go": go})
        for go in ("next", "q-3", "review")
    }

    # then: each goes where it says, with no "locked" complaint
    assert moves["next"].url == question_url(attempt, 2)
    assert moves["q-3"].url == question_url(attempt, 3)
    assert moves["review"].url == reverse("exams:review", args=[attempt.pk])
    page = candidate_client.get(question_url(attempt, 2)).content.decode()
    assert "already checked" not in page


def test_an_autosave_reports_an_incomplete_answer_and_updates_the_grid(candidate_client, mock):
    multiple = first(mock, "multiple")

    response = autosave(candidate_client, mock, multiple.position, {"choice": ["1"]})

    body = response.content.decode()
    assert "Incomplete: choose two options; one is chosen." in body
    assert f'id="nav-{multiple.position}" class="incomplete"' in body
    assert 'hx-swap-oob="true"' in body
    assert 0 < int(response["X-Exam-Remaining-Ms"]) <= 130 * 60 * 1000
    multiple.refresh_from_db()
    assert multiple.complete is False

    autosave(candidate_client, mock, multiple.position, {"choice": ["1", "2"]})
    multiple.refresh_from_db()
    assert multiple.complete is True


def test_incomplete_answers_show_on_the_question_the_review_and_the_submit_screens(candidate_client, mock):
    multiple, ordering = first(mock, "multiple"), first(mock, "ordering")
    autosave(candidate_client, mock, multiple.position, {"choice": ["1", "2", "3"]})
    autosave(candidate_client, mock, ordering.position, {"step-1": "2", "step-2": "2"})

    question_page = candidate_client.get(question_url(mock, multiple.position)).content.decode()
    question = text_of(question_page)
    review = candidate_client.get(reverse("exams:review", args=[mock.pk]), {"show": "incomplete"}).content.decode()
    submit = text_of(candidate_client.get(reverse("exams:submit", args=[mock.pk])).content.decode())

    assert "Incomplete: choose two options; three are chosen." in question
    assert f'aria-label="Question {multiple.position}, incomplete"' in question_page  # the grid cell's name
    assert review.count("Go to question") == 2
    assert "<strong>Incomplete</strong>" in review
    assert "63 unanswered questions, 2 incomplete and 0 flagged" in submit
    assert f"question {min(multiple.position, ordering.position)}" in submit


def test_filters_mark_the_one_that_is_on_even_when_swapped_by_htmx(candidate_client, mock):
    candidate_client.post(reverse("exams:flag", args=[mock.pk, 3]), {"flagged": "1"})
    url = reverse("exams:review", args=[mock.pk])

    partial = candidate_client.get(url, {"show": "flagged"}, headers={"HX-Request": "true"}).content.decode()

    current = re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)</a>', partial)
    assert current == ["Flagged"]
    assert partial.count("Go to question") == 1


def test_the_pacing_hint_counts_only_what_is_left(candidate_client, bank, candidate):
    tasks = list(Task.objects.filter(code="2.1").values_list("pk", flat=True))
    attempt = attempt_start_practice(
        candidate=candidate, exam=bank, task_ids=tasks, count=2, timed=True, feedback="end"
    )
    for item in attempt.items.all():
        AttemptItem.objects.filter(pk=item.pk).update(answer={"x": 1}, complete=True)

    page = text_of(candidate_client.get(question_url(attempt, 1)).content.decode())

    assert "every question is answered" in page
    assert "0 questions" not in page


def test_a_mock_starts_only_when_the_candidate_begins_it(candidate_client, bank, candidate):
    instructions = text_of(candidate_client.get(reverse("exams:mock")).content.decode())
    assert Attempt.objects.filter(candidate=candidate).count() == 0
    assert "65 questions" in instructions
    assert "130 minutes" in instructions
    assert "Begin the exam" in instructions

    before = timezone.now()
    response = candidate_client.post(reverse("exams:mock-start"))

    attempt = Attempt.objects.get(candidate=candidate, mode=AttemptMode.MOCK)
    assert response.url == question_url(attempt, 1)
    assert attempt.started_at >= before
    again = text_of(candidate_client.get(reverse("exams:mock")).content.decode())
    assert "Resume your full mock" in again
    assert "Begin the exam" not in again


def test_the_exam_screens_hide_the_site_menu_behind_an_exit_that_warns(candidate_client, mock):
    page = candidate_client.get(question_url(mock, 1)).content.decode()
    assert 'href="/progress/"' not in page
    assert "Log out" not in page
    assert reverse("exams:exit", args=[mock.pk]) in page

    exit_page = text_of(candidate_client.get(reverse("exams:exit", args=[mock.pk])).content.decode())
    assert "The clock keeps running while you are away" in exit_page
    assert "Return to question 1" in exit_page
    assert "Log out" in exit_page


def test_the_scratch_pad_is_kept_while_the_attempt_runs_and_erased_after(
    candidate_client, mock, django_capture_on_commit_callbacks
):
    url = reverse("exams:scratchpad", args=[mock.pk])

    saved = candidate_client.post(
        url, {"scratchpad": "eliminate B; SageMaker Clarify?"}, headers={"HX-Request": "true"}
    )
    assert "Notes saved" in saved.content.decode()
    assert "eliminate B; SageMaker Clarify?" in candidate_client.get(question_url(mock, 2)).content.decode()
    too_long = candidate_client.post(url, {"scratchpad": "x" * 20_001}, headers={"HX-Request": "true"})
    assert too_long.status_code == 400
    assert "at most 20,000 characters" in too_long.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=mock)
    mock.refresh_from_db()
    assert mock.scratchpad == ""
    results = candidate_client.get(reverse("scoring:results", args=[mock.pk])).content.decode()
    assert "eliminate B" not in results
    assert candidate_client.post(url, {"scratchpad": "late"}, headers={"HX-Request": "true"}).status_code == 409


def test_the_text_size_is_kept_with_the_account(client, candidate, mock):
    client.force_login(candidate)
    response = client.post(reverse("text-size"), {"size": "larger"}, headers={"HX-Request": "true"})
    assert response["HX-Trigger"] == '{"textSizeChanged": "larger"}'
    assert Preference.objects.get(user=candidate).text_size == "larger"

    client.logout()
    client.force_login(candidate)  # a new session, as on another device
    assert '<html lang="en" class="text-larger">' in client.get(question_url(mock, 1)).content.decode()

    refused = client.post(reverse("text-size"), {"size": "huge"}, follow=True)
    assert "is not one of normal, large, larger" in refused.content.decode()


def test_strike_out_with_htmx_returns_only_its_option(candidate_client, mock):
    single = first(mock, "single")

    response = candidate_client.post(
        reverse("exams:strike", args=[mock.pk, single.position, 2]), {"struck": "1"}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert body.strip().startswith('<div class="option struck" id="option-2">')
    assert 'id="strike-2"' in body
    assert "Restore" in body
    assert "<html" not in body


def test_without_javascript_strike_out_keeps_the_pick_made_before_it(candidate_client, mock):
    single = first(mock, "single")

    candidate_client.post(reverse("exams:strike", args=[mock.pk, single.position, 3]), {"choice": "1", "struck": "1"})

    single.refresh_from_db()
    assert single.answer == {"choices": [single.presentation["choices"][0]]}
    assert single.eliminated == [single.presentation["choices"][2]]


def test_results_show_every_answer_as_text_with_the_letters_seen(
    candidate_client, mock, django_capture_on_commit_callbacks
):
    # given: the second option shown picked on every single-answer item
    singles = list(mock.items.filter(question__type="single").select_related("question"))
    for item in singles:
        autosave(candidate_client, mock, item.position, {"choice": ["2"]})
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=mock)

    body = candidate_client.get(reverse("scoring:results", args=[mock.pk])).content.decode()
    reviews = {
        item.position: candidate_client.get(
            reverse("scoring:item-review", args=[mock.pk, item.position]), headers={"HX-Request": "true"}
        ).content.decode()
        for item in mock.items.all()
    }

    # then: no answer controls, every pick stated in its item's review, with its text and rationale under letter B
    assert 'name="choice"' not in body
    assert not any('name="choice"' in review for review in reviews.values())
    for item in singles:
        assert reviews[item.position].count("<strong>Your answer:</strong> B.") == 1
    for item in singles[:5]:
        picked = item.question.choices.get(pk=item.presentation["choices"][1])
        review = reviews[item.position]
        assert re.search(rf'<span class="letter">B\.</span> {re.escape(picked.text)}', review)
        assert picked.rationale in review


def test_a_question_number_outside_the_attempt_is_not_found(candidate_client, mock):
    assert candidate_client.get(question_url(mock, 66)).status_code == 404
    assert candidate_client.post(reverse("exams:flag", args=[mock.pk, 99]), {"flagged": "1"}).status_code == 404


def test_the_deadline_warning_class_follows_the_attempt_length(candidate_client, mock):
    Attempt.objects.filter(pk=mock.pk).update(deadline=timezone.now() + timedelta(minutes=20))
    assert 'class="timer low"' in candidate_client.get(question_url(mock, 1)).content.decode()
    Attempt.objects.filter(pk=mock.pk).update(deadline=timezone.now() + timedelta(minutes=4))
    assert 'class="timer critical"' in candidate_client.get(question_url(mock, 1)).content.decode()
