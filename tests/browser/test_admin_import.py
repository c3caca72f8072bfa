"""An instructor imports a Moodle bank through the admin, in a real browser (under the real CSP)."""

from pathlib import Path

import pytest

from apps.questions.models import Question
from tests.browser.conftest import axe_violations, login

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[1] / "questions" / "interchange" / "samples"


def test_upload_preview_and_confirm_an_import(page, exam, instructor):
    instructor.set_password("pw-inst-123")
    instructor.save()
    login(page, "inst", "pw-inst-123")

    # upload: nothing is written yet, the preview says what would be
    page.goto("/admin/questions/question/import/")
    page.get_by_label("File").set_input_files(str(SAMPLES / "gift" / "categories.gift"))
    page.get_by_role("button", name="Check the file").click()
    summary = page.locator("#import-summary").inner_text()
    assert "would import" in summary
    assert Question.objects.count() == 0
    assert page.locator("#import-items tbody tr").count() >= 3
    assert axe_violations(page, exclude=(".breadcrumbs",)) == []  # the breadcrumbs are Django admin's own

    # confirm: the items arrive as drafts, mapped to the tasks their categories name
    page.get_by_role("button", name="Import").click()
    page.locator("#import-summary").wait_for()
    assert "imported" in page.locator("#import-summary").inner_text()
    assert Question.objects.filter(status="draft").count() >= 3
    assert set(Question.objects.values_list("task__code", flat=True)) >= {"1.2", "2.1"}


def test_a_broken_file_shows_each_error_and_imports_nothing(page, exam, instructor):
    instructor.set_password("pw-inst-123")
    instructor.save()
    login(page, "inst", "pw-inst-123")

    page.goto("/admin/questions/question/import/")
    page.get_by_label("File").set_input_files(str(SAMPLES / "gift" / "malformed.gift"))
    page.get_by_role("button", name="Check the file").click()

    errors = page.locator("#import-errors li").all_inner_texts()
    assert errors
    assert all(text.startswith("malformed.gift: line ") for text in errors)
    assert page.get_by_role("button", name="Import").count() == 0
    assert Question.objects.count() == 0
