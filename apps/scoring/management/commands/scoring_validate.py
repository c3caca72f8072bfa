"""Validate the scoring pipeline on simulated candidates, beside an oracle that knows the true parameters."""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.scoring.simulation import BANDS, GENERATORS, Design, validate


class Command(BaseCommand):
    help = (
        "Simulate candidates and items, run the platform's calibration, panel cut and scoring on them, and compare "
        "with an oracle that scores the same responses with the true parameters and the true cut."
    )

    def add_arguments(self, parser):
        parser.add_argument("--generator", choices=GENERATORS, default="3pl")
        parser.add_argument("--candidates", type=int, default=5000)
        parser.add_argument("--items", type=int, default=50, help="Items on the form (or in the bank if sparse).")
        parser.add_argument(
            "--per-candidate", type=int, default=None, help="Items each candidate sees; fewer than --items is sparse."
        )
        parser.add_argument("--cut", type=float, default=0.5, help="The true cut in logits.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--repeats", type=int, default=5, help="Independent populations averaged.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        per = options["per_candidate"]
        if options["candidates"] < 10 or options["items"] < 5:
            raise CommandError("--candidates must be at least 10 and --items at least 5.")
        if per is not None and not 5 <= per <= options["items"]:
            raise CommandError("--per-candidate must be between 5 and --items.")
        if not -2.0 <= options["cut"] <= 2.0:
            raise CommandError("--cut must lie between -2 and 2 logits.")
        if not 1 <= options["repeats"] <= 50:
            raise CommandError("--repeats must be between 1 and 50.")
        report = validate(
            Design(
                generator=options["generator"],
                candidates=options["candidates"],
                items=options["items"],
                per_candidate=per,
                cut=options["cut"],
                seed=options["seed"],
                repeats=options["repeats"],
            )
        )
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self._table(report)

    def _table(self, report: dict) -> None:
        oracle = report["oracle"]
        write = self.stdout.write
        write(
            f"{report['generator']} data, {report['candidates']} candidates, {report['items']} items "
            f"({report['per_candidate']} each), mean of {report['repeats']} populations"
        )
        write(f"{'':24}{'platform':>10}{'oracle':>10}")
        for key in ("rmse", "accuracy", "false_pass", "false_fail"):
            write(f"{key:24}{report[key]:>10.4f}{oracle[key]:>10.4f}")
        write(f"{'calibration r (b)':24}{report['calibration_r']:>10.4f}")
        write(f"{'cut (true ' + str(report['cut']['true']) + ')':24}{report['cut']['platform']:>10.4f}")
        write("by true θ band          bias      oracle   gap (pts)    oracle")
        for low, high in BANDS:
            key = f"{low:+.1f}..{high:+.1f}"
            gaps = report["form_gap_by_band"] or {}
            oracle_gaps = oracle["form_gap_by_band"] or {}
            gap = "" if gaps.get(key) is None else f"{gaps[key]:+.1f}"
            oracle_gap = "" if oracle_gaps.get(key) is None else f"{oracle_gaps[key]:+.1f}"
            write(
                f"{key:18}{_signed(report['bias_by_band'][key]):>10}{_signed(oracle['bias_by_band'][key]):>10}"
                f"{gap:>12}{oracle_gap:>10}"
            )


def _signed(value) -> str:
    return "" if value is None else f"{value:+.3f}"
