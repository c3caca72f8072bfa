"""An instructor's admin pages in a real browser: coverage, the question list with its statistics, export,
candidates' reports and the import preview. Controls are found by role and name, as a screen reader would."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.questions.models import QuestionReport
from apps.scoring.models import ItemStatistic
from tests.browser.conftest import axe_violations, horizontal_overflow, login
from tests.questions.factories import QuestionFactory

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[1] / "questions" / "interchange" / "samples"
NOT_OURS = (".breadcrumbs",)  # Django admin's own breadcrumbs


def both_sizes(page, phone, url: str, tmp_path: Path, name: str) -> None:
    """The page at 1280×800 and 390×844: no sideways scrolling, no serious axe violation, a screenshot each."""
    for tab, size in ((page, "desktop"), (phone, "phone")):
        tab.goto(url)
        tab.screenshot(path=tmp_path / f"{name}-{size}.png")
        assert horizontal_overflow(tab) == 0, f"{name} at {size}"
        assert axe_violations(tab, exclude=NOT_OURS) == [], f"{name} at {size}"


@pytest.fixture
def signed_in(page, phone, instructor):
    for tab in (page, phone):
        login(tab, "inst", "pw-inst-123")
    return page


def test_a_coverage_count_opens_the_list_of_exactly_those_items(signed_in, phone, exam, tmp_path):
    page = signed_in
    for n in range(3):
        QuestionFactory(exam=exam, type="single", status="published", task="1.1", stem=f"Single {n}?")
    QuestionFactory(exam=exam, type="matching", status="published", task="1.1")
    QuestionFactory(exam=exam, type="single", status="draft", task="1.1")

    both_sizes(page, phone, "/admin/questions/question/coverage/", tmp_path, "coverage")

    page.get_by_role("link", name="3 published single answer items in task 1.1").click()
    expect(page.get_by_text("3 questions")).to_be_visible()
    expect(page.get_by_role("link", name="Clear all filters")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="4 published items in task 1.1").click()
    expect(page.get_by_text("4 questions")).to_be_visible()


def test_the_question_list_fits_with_its_statistics_and_a_readable_stem(signed_in, phone, exam, tmp_path):
    page = signed_in
    stem = "A retailer streams clickstream events to Amazon Kinesis and must keep per-user order. " * 3
    stem += "Which two services fit? (Choose two.)"
    for n in range(8):
        question = QuestionFactory(
            exam=exam, type="multiple", status="published", task="3.3", ref=f"t33-{n:03}", stem=f"{stem} ({n})"
        )
        ItemStatistic.objects.create(
            question=question, responses=1234, correct=617, facility=0.5, discrimination=-12.4 if n == 0 else 48.3,
            flag_miskey=n == 0, flag_weak_distractor=n == 0,
        )  # fmt: skip
    QuestionReport.objects.create(
        question=question, reporter=get_user_model().objects.create_user("reporter"), reason="key"
    )

    both_sizes(page, phone, "/admin/questions/question/?o=-6", tmp_path, "question-list")

    # at 1280 px every column is on screen: the results table does not scroll sideways
    page.goto("/admin/questions/question/?o=-6")
    results = page.locator(".results")
    assert results.evaluate("table => table.scrollWidth - table.clientWidth") <= 0
    for header in ("Stem", "Facility (right of first attempts)", "Flags", "Open reports", "Updated"):
        expect(page.get_by_role("columnheader", name=re.compile(re.escape(header), re.I))).to_be_in_viewport()
    row = page.get_by_role("row", name=re.compile("t33-000"))
    expect(row.get_by_text("−0.12")).to_be_visible()  # a correlation, not "−12"
    expect(row.get_by_text("possible miskey, distractor not working")).to_be_visible()
    # the stem is an excerpt of whole lines, not one word per line; the full text is its tooltip
    excerpt = row.get_by_title(f"{stem} (0)")
    words, lines = len(excerpt.inner_text().split()), excerpt.evaluate("span => span.getClientRects().length")
    assert words / lines >= 3, (words, lines)
    assert lines <= 6
    assert excerpt.inner_text().endswith("…")
    page.screenshot(path=tmp_path / "question-list-sorted.png")


def test_export_offers_the_file_first_and_one_line_per_reason(signed_in, phone, exam, tmp_path):
    page = signed_in
    for n in range(12):
        QuestionFactory(exam=exam, type="single", status="published", task="1.1", ref=f"t11-{n:03}")

    page.goto("/admin/questions/question/export/")
    page.get_by_label("Format").select_option(label="GIFT (Moodle)")
    page.get_by_role("button", name="Check the export").click()

    download = page.get_by_role("link", name="Download questions.gift.txt")
    losses = page.get_by_role("list").filter(has_text="has no place in GIFT")
    expect(download).to_be_visible()
    assert download.bounding_box()["y"] < losses.bounding_box()["y"]
    expect(losses.get_by_role("listitem")).to_have_count(1)
    expect(losses).to_contain_text("12 items (t11-000, t11-001, t11-002, t11-003, t11-004 and 7 more)")
    both_sizes(page, phone, page.url.removeprefix(page.url.split("/admin/")[0]), tmp_path, "export")


def test_closing_a_report_asks_for_a_note_and_links_to_the_item(signed_in, phone, exam, tmp_path):
    page = signed_in
    question = QuestionFactory(exam=exam, type="single", status="published", task="1.1", ref="t11-042")
    QuestionReport.objects.create(
        question=question, reporter=get_user_model().objects.create_user("cand"), reason="key", comment="B is right"
    )

    both_sizes(page, phone, "/admin/questions/questionreport/", tmp_path, "reports")
    page.get_by_role("checkbox", name="Select this object for an action - ").first.check()
    page.get_by_role("combobox", name="Action").select_option(label="Close as fixed (asks for a note)")
    page.get_by_role("button", name="Go").click()

    # a blank note is refused, naming what is missing
    note = page.get_by_role("textbox", name="Note: what was done")
    expect(note).to_be_visible()
    assert axe_violations(page, exclude=NOT_OURS) == []
    page.screenshot(path=tmp_path / "report-close.png")
    page.get_by_role("button", name="Close as fixed").click()
    expect(page.get_by_text("Write what was done about the report(s) before closing them.")).to_be_visible()

    note.fill("Key corrected to B in v2.")
    page.get_by_role("button", name="Close as fixed").click()
    expect(page.get_by_text("1 report(s) closed as fixed, with your note.")).to_be_visible()
    expect(page.get_by_role("cell", name="Key corrected to B in v2.")).to_be_visible()
    page.screenshot(path=tmp_path / "reports-closed.png")

    page.get_by_role("link", name="t11-042 v1").click()
    expect(page.get_by_role("heading", name=re.compile("t11-042"))).to_be_visible()
    expect(page.get_by_text("Key corrected to B in v2.")).to_be_visible()


def test_import_preview_shows_options_and_keys_then_links_to_the_new_items(signed_in, phone, exam, tmp_path):
    page = signed_in
    QuestionFactory(exam=exam, type="single", status="draft", task="1.1", stem="An older draft?")

    page.goto("/admin/questions/question/import/")
    page.get_by_label("File").set_input_files(str(SAMPLES / "aiken" / "questions.txt"))
    page.get_by_label("Task").select_option(value="1.1")
    page.get_by_role("button", name="Check the file").click()

    items = page.get_by_role("table").filter(has_text="Stem and options (keys marked)")
    expect(items.get_by_role("listitem").filter(has_text="Key: Amazon SageMaker Ground Truth")).to_be_visible()
    expect(items.get_by_role("listitem").filter(has_text="Amazon Rekognition Custom Labels")).to_be_visible()
    preview_url = page.url.removeprefix(page.url.split("/admin/")[0])
    both_sizes(page, phone, preview_url, tmp_path, "import-preview")

    page.get_by_role("button", name="Import 3 items").click()
    expect(page.get_by_text("Imported.")).to_be_visible()
    assert axe_violations(page, exclude=NOT_OURS) == []
    page.screenshot(path=tmp_path / "import-done.png", full_page=True)
    links = items.get_by_role("link", name=re.compile(r"^open the item at line \d+$"))
    expect(links).to_have_count(3)

    page.get_by_role("link", name="See the drafts").click()
    expect(page.get_by_text("3 questions")).to_be_visible()
    expect(page.get_by_text("An older draft?")).to_have_count(0)
