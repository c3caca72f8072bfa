from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.questions.interchange.formats import IMPORT_CHOICES
from apps.questions.interchange.importing import IMPORT_STATUSES, category_tasks_read, questions_import
from apps.questions.services import category_task_remember
from apps.syllabus.models import Exam
from apps.syllabus.selectors import exam_default


class Command(BaseCommand):
    help = (
        "Import questions from a native JSON, GIFT, Moodle XML, Aiken or QTI 2.x file (or QTI zip package). "
        "All items or none; errors name the line or XML element."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", dest="fmt", default="auto", choices=[name for name, _ in IMPORT_CHOICES])
        parser.add_argument("--task", default="", help="Task code (e.g. 1.2) for items whose file names none.")
        parser.add_argument(
            "--status",
            default="draft",
            choices=IMPORT_STATUSES,
            help="Status of imported items (default draft); 'keep' keeps a native file's statuses.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument(
            "--exam", default="", help="Exam version the items are written for (default: the current one)."
        )
        parser.add_argument(
            "--categories",
            type=Path,
            help="CSV of 'category,task' lines: the task for each source category's questions. Remembered for "
            "later imports (admin: Category → task mappings).",
        )

    def handle(self, *args, file: Path, fmt: str, task: str, status: str, dry_run: bool, exam: str, **options):
        exam_obj = Exam.objects.filter(code=exam).first() if exam else exam_default()
        if exam_obj is None:
            raise CommandError(f"Exam version {exam or '(current)'} is not loaded; run load_syllabus first.")
        categories = self._categories(options.get("categories"), exam_obj)
        try:
            size = file.stat().st_size
            if size > settings.IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{file.name} is {size:,} bytes; the limit is {settings.IMPORT_MAX_BYTES:,} (IMPORT_MAX_BYTES)."
                )
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        report = questions_import(
            data=data,
            filename=file.name,
            exam=exam_obj,
            fmt=fmt,
            status=status,
            task=task,
            categories={category: mapped.code for category, mapped in categories.items()},
            dry_run=dry_run,
        )
        for title, lines in (("Skipped", report.skipped), ("Warnings", report.warnings)):
            if lines:
                self.stdout.write(f"{title}:")
                for line in lines:  # OutputWrapper.writelines would run them together on one line
                    self.stdout.write(f"  {line}")
        if report.errors:
            raise CommandError("Nothing was imported:\n" + "\n".join(f"  {line}" for line in report.errors))
        self.stdout.write(report.summary())
        if not dry_run:
            for category, mapped in categories.items():
                category_task_remember(exam=exam_obj, category=category, task=mapped)
            if categories:
                self.stdout.write(f"Remembered {len(categories)} category → task mapping(s) for later imports.")

    def _categories(self, path: Path | None, exam: Exam) -> dict:
        if path is None:
            return {}
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
        mapping, errors = category_tasks_read(text=text, filename=path.name, exam=exam)
        if errors:
            raise CommandError(
                "The category map has problems; nothing was imported:\n" + "\n".join(f"  {e}" for e in errors)
            )
        return mapping
