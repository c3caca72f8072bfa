"""What an export cannot carry, as the export page and the command say it: one line per reason, not per item."""

from io import StringIO

from django.core.management import call_command
from django.urls import reverse

from apps.questions.interchange.base import Problem
from apps.questions.interchange.exporting import export_losses_grouped
from tests.questions.factories import QuestionFactory

FAMILY = "the item family (which versions belong together) has no place in GIFT."


def test_losses_group_by_reason_most_frequent_first_naming_a_few_items():
    # given
    losses = [Problem(f"item t11-{n:03}", FAMILY) for n in range(1, 13)]
    losses.insert(3, Problem("item t11-004", "has no correct option; GIFT importers will refuse it."))
    losses.append(Problem("item 14", "has no correct option; GIFT importers will refuse it."))

    # when
    groups = export_losses_grouped(losses)

    # then
    assert [str(group) for group in groups] == [
        f"12 items (t11-001, t11-002, t11-003, t11-004, t11-005 and 7 more): {FAMILY}",
        "2 items (t11-004 and 14): has no correct option; GIFT importers will refuse it.",
    ]
    assert export_losses_grouped([Problem("item x", FAMILY)])[0].examples == "x"


def test_export_page_offers_the_file_first_then_one_line_per_reason(exam, instructor_client):
    # given: twelve items, each of which loses its family in GIFT
    for n in range(12):
        QuestionFactory(exam=exam, type="single", status="published", task="1.1", ref=f"t11-{n:03}")

    # when
    body = instructor_client.get(reverse("admin:questions_question_export"), {"format": "gift"}).content.decode()

    # then
    assert body.index('id="export-download"') < body.index('id="export-losses"')
    losses = body[body.index('<ul id="export-losses">') : body.index("</ul>", body.index('id="export-losses"'))]
    assert losses.count("<li>") == 1
    assert "<strong>12 items</strong> (t11-000, t11-001, t11-002, t11-003, t11-004 and 7 more)" in losses
    assert "12 losses of 1 kind" in body


def test_export_command_prints_one_line_per_reason(exam, tmp_path):
    for n in range(12):
        QuestionFactory(exam=exam, type="single", status="published", task="1.1", ref=f"t11-{n:03}")
    out = StringIO()

    call_command("export_questions", "--format", "gift", "-o", str(tmp_path / "q.gift"), stdout=out)

    assert out.getvalue().splitlines() == [
        f"Wrote 12 item(s) to {tmp_path / 'q.gift'}.",
        "Not carried by gift (12 loss(es)), one line per reason:",
        f"  not carried: 12 items (t11-000, t11-001, t11-002, t11-003, t11-004 and 7 more): {FAMILY}",
    ]
