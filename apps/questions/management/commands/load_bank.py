from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.db import tables_analyze
from apps.questions.interchange.importing import BankLoadError, bank_load
from apps.syllabus.models import Exam


class Command(BaseCommand):
    help = "Load the question bank (fixtures/bank/*.yaml, or the files given). Idempotent; all files or nothing."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("--exam", default="MLA-C01")

    def handle(self, *args, files: list[Path], exam: str, **options):
        exam_obj = Exam.objects.filter(code=exam).first()
        if exam_obj is None:
            raise CommandError(f"Exam {exam} is not loaded; run load_syllabus first.")
        paths = files or sorted((Path(settings.BASE_DIR) / "fixtures" / "bank").glob("*.yaml"))
        totals = {"created": 0, "updated": 0, "new_versions": 0, "unchanged": 0}
        try:
            with transaction.atomic():
                for path in paths:
                    result = bank_load(text=path.read_text(encoding="utf-8"), filename=path.name, exam=exam_obj)
                    for key in totals:
                        totals[key] += getattr(result, key)
        except BankLoadError as exc:
            raise CommandError("Nothing was loaded:\n" + "\n".join(exc.messages)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Nothing was loaded: {exc}") from exc
        tables_analyze("questions")
        self.stdout.write(
            "Question bank: {created} created, {updated} updated, {new_versions} new versions, "
            "{unchanged} unchanged.".format(**totals)
        )
