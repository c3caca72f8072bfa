"""Instructors close candidates' reports on items with a note saying what was done."""

import pytest
from django.urls import reverse

from apps.questions.models import QuestionReport
from apps.questions.services import question_reports_close
from tests.questions.factories import QuestionFactory

REPORTS = reverse("admin:questions_questionreport_changelist")


@pytest.fixture
def reports(exam, django_user_model):
    question = QuestionFactory(exam=exam, type="single", status="published", task="1.1", ref="t11-042")
    return [
        QuestionReport.objects.create(
            question=question,
            reporter=django_user_model.objects.create_user(f"cand{n}"),
            reason="key",
            comment=f"B is right ({n})",
        )
        for n in range(2)
    ]


def test_closing_asks_for_a_note_first_and_closes_nothing_without_one(reports, instructor_client):
    # when: the instructor picks "Close as fixed"
    asked = instructor_client.post(REPORTS, {"action": "close_fixed", "_selected_action": [r.pk for r in reports]})

    # then: a page asks what was done, listing the reports with links to the item
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "Close as fixed: what was done?" in body
    item_url = reverse("admin:questions_question_change", args=[reports[0].question_id])
    assert body.count(f'<a href="{item_url}">') == 2

    # and a blank note is refused with the reason, the reports stay open
    blank = instructor_client.post(
        REPORTS,
        {"action": "close_fixed", "_selected_action": [r.pk for r in reports], "confirm": "yes", "note": "  "},
    )
    assert "Write what was done about the report(s) before closing them." in blank.content.decode()
    assert set(QuestionReport.objects.values_list("status", flat=True)) == {"open"}


def test_the_note_is_stored_and_shown_in_the_list_and_on_the_item(reports, instructor_client, instructor):
    # when
    done = instructor_client.post(
        REPORTS,
        {
            "action": "close_dismissed",
            "_selected_action": [reports[0].pk],
            "confirm": "yes",
            "note": "The key is right: B needs a second shard.",
        },
        follow=True,
    )

    # then
    assert "1 report(s) closed as dismissed, with your note." in done.content.decode()
    reports[0].refresh_from_db()
    assert (reports[0].status, reports[0].note, reports[0].closed_by) == (
        "dismissed",
        "The key is right: B needs a second shard.",
        instructor,
    )
    listing = instructor_client.get(REPORTS).content.decode()
    assert "The key is right: B needs a second shard." in listing
    item = reverse("admin:questions_question_change", args=[reports[0].question_id])
    assert f'<a href="{item}">t11-042 v1</a>' in listing
    assert "The key is right: B needs a second shard." in instructor_client.get(item).content.decode()


def test_the_service_refuses_a_blank_note(reports, instructor):
    with pytest.raises(ValueError, match="with a note"):
        question_reports_close(
            reports=QuestionReport.objects.all(), by=instructor, status=QuestionReport.Status.RESOLVED, note=" "
        )
    assert not QuestionReport.objects.exclude(status="open").exists()
