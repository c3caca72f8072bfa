from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.questions.lint import bank_lint


class Command(BaseCommand):
    help = "Check the question bank files against the blueprint and house rules; non-zero exit on any failure."

    def add_arguments(self, parser):
        base = Path(settings.BASE_DIR) / "fixtures"
        parser.add_argument("--bank", type=Path, default=base / "bank", help="folder of task-*.yaml files")
        parser.add_argument("--syllabus", type=Path, default=base / "syllabus" / "mla-c01.yaml")

    def handle(self, *args, bank: Path, syllabus: Path, **options):
        files = sorted(bank.glob("*.yaml"))
        if not files:
            raise CommandError(f"No bank files in {bank}.")
        report = bank_lint(bank_files=files, syllabus_file=syllabus)
        self.stdout.write(report.table)
        self.stdout.write(f"\n{report.published} published, {report.pretest} pretest items in {len(files)} files.")
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(f"bank_lint: {len(report.errors)} problem(s).")
        self.stdout.write(self.style.SUCCESS("bank_lint: all checks pass."))
