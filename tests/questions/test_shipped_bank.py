"""The shipped MLA-C01 bank: it passes bank_lint, loads completely, and lint catches a broken copy."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.questions.lint import bank_lint
from apps.questions.models import Question
from apps.questions.selectors import bank_coverage

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SYLLABUS = FIXTURES / "syllabus" / "mla-c01.yaml"


def test_shipped_bank_passes_bank_lint(capsys):
    call_command("bank_lint")
    out = capsys.readouterr().out
    assert "bank_lint: all checks pass." in out
    assert "domain task" in out  # the coverage table


def test_shipped_bank_loads_and_covers_every_objective(exam):
    call_command("load_bank")

    coverage = bank_coverage(exam=exam)
    assert coverage.published >= 400
    assert coverage.pretest >= 45
    assert coverage.objectives_uncovered == 0
    assert Question.objects.filter(case_study__isnull=False).values("case_study").distinct().count() >= 6


@pytest.fixture
def bank_copy(tmp_path: Path) -> Path:
    target = tmp_path / "bank"
    shutil.copytree(FIXTURES / "bank", target)
    return target


def test_lint_names_the_file_and_line_of_a_broken_item(bank_copy: Path):
    path = bank_copy / "task-2.1.yaml"
    text = path.read_text()
    path.write_text(text.replace("(Choose two.)", "(Choose three.)", 1))

    report = bank_lint(bank_files=sorted(bank_copy.glob("*.yaml")), syllabus_file=SYLLABUS)

    assert not report.ok
    assert any(e.startswith("task-2.1.yaml:line ") and 'says "Choose three"' in e for e in report.errors), report.errors


def test_lint_reports_blueprint_shares_and_coverage(bank_copy: Path):
    (bank_copy / "task-4.3.yaml").unlink()

    with pytest.raises(CommandError, match="problem"):
        call_command("bank_lint", "--bank", str(bank_copy))
    report = bank_lint(bank_files=sorted(bank_copy.glob("*.yaml")), syllabus_file=SYLLABUS)
    assert "task 4.3: 0 published items; needs 25." in report.errors
    assert "objective 4.3.1: no published item." in report.errors
    assert any(e.startswith("domain 4:") and "the blueprint says 24%" in e for e in report.errors)


def test_lint_catches_near_duplicate_stems(bank_copy: Path):
    path = bank_copy / "task-1.1.yaml"
    text = path.read_text()
    first_stem = text.split("stem: |", 2)[1]
    path.write_text(text.replace(text.split("stem: |", 3)[2], first_stem, 1))

    report = bank_lint(bank_files=sorted(bank_copy.glob("*.yaml")), syllabus_file=SYLLABUS)

    assert any("near-duplicate" in e for e in report.errors), report.errors[:5]
