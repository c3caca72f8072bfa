import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.db import tables_analyze
from apps.questions.interchange.importing import BankLoadError, bank_load
from apps.syllabus.models import Exam

_EXAM_KEY = re.compile(r"""^exam:[ \t]*["']?([\w.-]+)""", re.MULTILINE)


class Command(BaseCommand):
    help = (
        "Load the question bank (fixtures/bank/**/*.yaml, or the files given). A file's `exam:` names the version its "
        "items are written for (fixtures/bank/c02/ holds MLA-C02's); --exam is the version for files that name none. "
        "Idempotent; all files or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("--exam", default="MLA-C01", help="version for files without an `exam:` key")

    def handle(self, *args, files: list[Path], exam: str, **options):
        versions = {version.code: version for version in Exam.objects.all()}
        if exam not in versions:
            raise CommandError(f"Exam {exam} is not loaded; run load_syllabus first.")
        paths = files or sorted((Path(settings.BASE_DIR) / "fixtures" / "bank").rglob("*.yaml"))
        totals = {"created": 0, "updated": 0, "new_versions": 0, "unchanged": 0}
        skipped: set[str] = set()
        try:
            with transaction.atomic():
                for path in paths:
                    text = path.read_text(encoding="utf-8")
                    code = _declared_exam(text) or exam
                    if code not in versions and not files:  # the shipped bank: load the versions that are there
                        skipped.add(code)
                        continue
                    if code not in versions:
                        raise CommandError(f"Nothing was loaded: {path.name}: exam {code} is not loaded.")
                    result = bank_load(text=text, filename=path.name, exam=versions[code])
                    for key in totals:
                        totals[key] += getattr(result, key)
        except BankLoadError as exc:
            raise CommandError("Nothing was loaded:\n" + "\n".join(exc.messages)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Nothing was loaded: {exc}") from exc
        tables_analyze("questions")
        for code in sorted(skipped):
            self.stdout.write(f"Files for {code} were skipped: that exam version is not loaded (run load_syllabus).")
        self.stdout.write(
            "Question bank: {created} created, {updated} updated, {new_versions} new versions, "
            "{unchanged} unchanged.".format(**totals)
        )


def _declared_exam(text: str) -> str:
    """The `exam:` a bank file declares at its top level, or "" when it declares none.

    Read from the text rather than by parsing the YAML: bank_load parses the file anyway, and a second full parse
    of the shipped bank costs about two seconds. A key at column 0 can only be a top-level one (items are
    indented); a file in JSON flow style names its version through --exam instead."""
    match = _EXAM_KEY.search(text)
    return match.group(1) if match else ""
