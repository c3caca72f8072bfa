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

    # a near duplicate is a warning naming both items; an exact copy (same options and key too) is an error
    assert any("near-duplicate" in w and "task-1.1.yaml" in w for w in report.warnings), report.warnings[:5]
    assert not any("near-duplicate" in e for e in report.errors)


def test_lint_calls_an_exact_copy_with_the_same_key_a_duplicate(bank_copy: Path):
    # given t11-001 copied under a new ref, its text re-spaced and re-cased (normalisation sees through that)
    path = bank_copy / "task-1.1.yaml"
    text = path.read_text()
    first = text.split("\n  - ref: ", 2)[1]
    copy = "\n  - ref: " + first.replace("t11-001", "t11-copy", 1).replace("An ML team", "AN  ML team", 1)
    head, cases = text.split("\ncase_studies:", 1)
    path.write_text(head.rstrip("\n") + "\n" + copy.rstrip("\n") + "\n\ncase_studies:" + cases)

    report = bank_lint(bank_files=sorted(bank_copy.glob("*.yaml")), syllabus_file=SYLLABUS)

    assert any("(t11-copy): duplicate of task-1.1.yaml" in e and "(t11-001)" in e for e in report.errors), [
        e for e in report.errors if "duplicate" in e
    ]
