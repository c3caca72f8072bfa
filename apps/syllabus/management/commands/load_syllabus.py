from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.syllabus.services import SyllabusFileError, syllabus_files_order, syllabus_load, syllabus_map_load


class Command(BaseCommand):
    help = (
        "Load (or refresh) exam versions from fixtures/syllabus/*.yaml or the files given: syllabus files first, "
        "each after the version it replaces, then the maps between versions."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)

    def handle(self, *args, files: list[Path], verbosity: int = 1, **options):
        say = self.stdout.write if verbosity else (lambda line: None)
        paths = files or sorted((Path(settings.BASE_DIR) / "fixtures" / "syllabus").glob("*.yaml"))
        try:
            syllabi, maps = syllabus_files_order(paths)
            for path in syllabi:
                result = syllabus_load(path=path)
                say(f"{result.exam.code}: {result.domains} domains, {result.tasks} tasks, {result.objectives} skills")
            for path in maps:
                mapped = syllabus_map_load(path=path)
                say(
                    f"{mapped.source.code} → {mapped.target.code}: {mapped.continued} skills continued, "
                    f"{mapped.removed} removed"
                )
        except (SyllabusFileError, OSError) as exc:
            raise CommandError(str(exc)) from exc
