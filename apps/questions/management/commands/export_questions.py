from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.questions.interchange.exporting import export_losses_grouped, questions_export, questions_for_export
from apps.questions.interchange.formats import EXPORT_CHOICES
from apps.syllabus.models import Exam


class Command(BaseCommand):
    help = "Export questions as native JSON, GIFT, Moodle XML or a QTI 2.2 package; lists what the format loses."

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", required=True, choices=[name for name, _ in EXPORT_CHOICES])
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: the format's file name).")
        parser.add_argument("--status", action="append", help="Only these statuses (repeatable).")
        parser.add_argument("--task", action="append", help="Only these task codes (repeatable).")
        parser.add_argument(
            "--exam", default="", help="Only items this exam version uses (written for it or carried over)."
        )
        parser.add_argument(
            "--all-versions", action="store_true", help="Every version, not only the latest of each item."
        )

    def handle(self, *args, fmt: str, output: Path | None, status, task, all_versions: bool, exam: str, **options):
        version = Exam.objects.filter(code=exam).first() if exam else None
        if exam and version is None:
            raise CommandError(f"Exam version {exam} is not loaded.")
        queryset = questions_for_export(statuses=status, tasks=task, all_versions=all_versions, exam=version)
        result = questions_export(queryset=queryset, fmt=fmt)
        path = output or Path(result.filename)
        try:
            path.write_bytes(result.data)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        groups = export_losses_grouped(result.losses)
        self.stdout.write(f"Wrote {queryset.count()} item(s) to {path}.")
        if groups:
            self.stdout.write(f"Not carried by {fmt} ({len(result.losses)} loss(es)), one line per reason:")
        for group in groups:
            self.stdout.write(f"  not carried: {group}")
