import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.questions.lint import bank_lint, bank_lint_exam
from apps.syllabus.models import Exam


class Command(BaseCommand):
    help = (
        "Check the question bank against the blueprint and house rules; non-zero exit on any failure. Without "
        "--exam, checks the bank files against the syllabus file. With --exam CODE, checks the bank in the database "
        "as that exam version's forms see it (items written for it and items carried over to it, under their task "
        "and skills there) against its blueprint and targets. --json prints one object: exam, ok, published, "
        "pretest, by_domain (published, pretest, share, weight per domain number), by_task (published, pretest per "
        "task code), types (published items per item type the version uses), skills_total, min_per_skill, "
        "skills_uncovered (skills with no published item), skills_below_minimum (skills with fewer than "
        "min_per_skill published items, the uncovered ones included) and errors."
    )

    def add_arguments(self, parser):
        base = Path(settings.BASE_DIR) / "fixtures"
        parser.add_argument("--bank", type=Path, default=base / "bank", help="folder of task-*.yaml files")
        parser.add_argument("--syllabus", type=Path, default=base / "syllabus" / "mla-c01.yaml")
        parser.add_argument("--exam", help="check the bank in the database for this exam version, e.g. MLA-C02")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="with --exam: print the report as one JSON object"
        )

    def handle(self, *args, bank: Path, syllabus: Path, exam: str | None, as_json: bool, **options):
        if exam:
            return self._lint_exam(exam, as_json)
        if as_json:
            raise CommandError("--json reports on the bank in the database: give --exam too.")
        files = sorted(bank.glob("*.yaml"))
        if not files:
            raise CommandError(f"No bank files in {bank}.")
        report = bank_lint(bank_files=files, syllabus_file=syllabus)
        self.stdout.write(report.table)
        self.stdout.write(f"\n{report.published} published, {report.pretest} pretest items in {len(files)} files.")
        for warning in report.warnings:
            self.stdout.write(f"warning: {warning}")
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(f"bank_lint: {len(report.errors)} problem(s).")
        self.stdout.write(self.style.SUCCESS("bank_lint: all checks pass."))
        return None

    def _lint_exam(self, code: str, as_json: bool) -> None:
        exam = Exam.objects.filter(code__iexact=code).first()
        if exam is None:
            known = ", ".join(Exam.objects.values_list("code", flat=True)) or "none; run load_syllabus first"
            raise CommandError(f"No exam version {code!r} is loaded (known: {known}).")
        report = bank_lint_exam(exam=exam)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(report.table)
            self.stdout.write(f"\n{exam.code}: {report.published} published, {report.pretest} pretest items.")
            for error in report.errors:
                self.stderr.write(error)
        if not report.ok:
            raise CommandError(f"bank_lint {exam.code}: {len(report.errors)} problem(s).")
        if not as_json:
            self.stdout.write(self.style.SUCCESS(f"bank_lint {exam.code}: all checks pass."))
