from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.syllabus.services import SyllabusFileError, syllabus_load


class Command(BaseCommand):
    help = "Load (or refresh) exam blueprints from fixtures/syllabus/*.yaml or the files given."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)

    def handle(self, *args, files: list[Path], **options):
        paths = files or sorted((Path(settings.BASE_DIR) / "fixtures" / "syllabus").glob("*.yaml"))
        for path in paths:
            try:
                result = syllabus_load(path=path)
            except (SyllabusFileError, OSError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{result.exam.code}: {result.domains} domains, {result.tasks} tasks, {result.objectives} objectives"
            )
