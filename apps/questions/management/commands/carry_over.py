import json

from django.core.management.base import BaseCommand, CommandError

from apps.questions.placements import CarryOverError, bank_carry_over
from apps.syllabus.models import Exam


class Command(BaseCommand):
    help = (
        "Place the items of the version an exam version replaces in it (MLA-C01 items in MLA-C02), under the tasks "
        "and skills that continue theirs; report what stays behind and the new version's coverage per skill. "
        "Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", dest="target", required=True, help="the later version's code, e.g. MLA-C02")
        parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
        parser.add_argument("--gaps", action="store_true", help="list every skill with no published item")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the report as one JSON object")

    def handle(self, *args, target: str, dry_run: bool, gaps: bool, as_json: bool, **options):
        exam = Exam.objects.filter(code=target).first()
        if exam is None:
            raise CommandError(f"Exam version {target} is not loaded; run load_syllabus first.")
        try:
            report = bank_carry_over(target=exam, dry_run=dry_run)
        except CarryOverError as exc:
            raise CommandError(str(exc)) from exc
        covered = sum(1 for skill in report.coverage if skill.published)
        if as_json:
            self.stdout.write(_json(report, covered))
            return
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{report.source.code} → {report.target.code}: {report.placed} items {verb} placed, {report.updated} "
            f"updated, {report.unchanged} unchanged."
        )
        for reason, items in report.left.items():
            self.stdout.write(f"  {len(items)} stay behind: {reason}.")
        self.stdout.write(
            f"{report.target.code} skills with a published item: {covered} of {len(report.coverage)}; "
            f"{len(report.gaps)} without (run with --gaps to list them)."
        )
        if gaps:
            for skill in report.gaps:
                self.stdout.write(f"  {skill.code}  {skill.statement}")


def _json(report, covered: int) -> str:
    return json.dumps(
        {
            "from": report.source.code,
            "to": report.target.code,
            "placed": report.placed,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "left": {reason: len(items) for reason, items in report.left.items()},
            "skills_total": len(report.coverage),
            "skills_covered": covered,
            "coverage": {skill.code: skill.published for skill in report.coverage},
        },
        indent=2,
    )
