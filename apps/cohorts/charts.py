"""The cohort dashboard's and member page's charts, built from what the selectors read: the geometry is
``apps.core.charts``'s, the markup ``templates/charts/``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format

from apps.cohorts.selectors import Dashboard, WeekRow
from apps.core import charts
from apps.scoring.irt import wilson_interval
from apps.scoring.models import AttemptResult
from apps.scoring.progress import score_trend_marks
from apps.syllabus.models import Exam


@dataclass(frozen=True)
class DashboardCharts:
    histogram: charts.HistogramChart
    readiness: charts.LineChart | None
    mean_score: charts.LineChart | None


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def score_histogram(*, exam: Exam, scores: Sequence[int], bins: Sequence[dict], scope: str) -> charts.HistogramChart:
    """Members by latest scaled score in bins of 50, with the pass mark drawn: bars scale to the tallest bin."""
    passing = exam.passing_score
    data = [
        charts.HistogramBin(
            low=row["low"],
            high=row["low"] + 50,
            count=row["count"],
            title=f"{row['count']} member{'s' if row['count'] != 1 else ''} scored {row['low']}–{row['high']}",
        )
        for row in bins
    ]
    if scores:
        tallest = max(data, key=lambda b: b.count)
        at_or_above = sum(1 for s in scores if s >= passing)
        description = (
            f"{len(scores)} member{'s' if len(scores) != 1 else ''} with a score {scope}. "
            f"{at_or_above} at or above the pass mark of {passing}, {len(scores) - at_or_above} below. "
            f"The most common band is {tallest.low:g}–{tallest.high - 1:g} ({tallest.count}). "
            "The table after the chart lists every band."
        )
    else:
        description = f"No member has a mock exam score {scope} yet."
    return charts.histogram_chart(
        id="score-histogram",
        title=f"Members by latest mock score {scope}, in bands of 50 on the {exam.scale_min}–{exam.scale_max} scale",
        description=description,
        bins=data,
        x_ticks=[*range(exam.scale_min, exam.scale_max, 100), exam.scale_max],
        # A tick every 100, labels further apart: "900" and "1000" side by side would touch on a phone.
        tick_label=lambda value: (
            charts.number_label(value) if value in (exam.scale_min, exam.scale_max) or value % 200 == 0 else ""
        ),
        x_title="Latest scaled score",
        y_title="Members",
        references=[(passing, f"Pass mark {passing}")],
        legend=[charts.legend_bar("Members in the band"), charts.legend_reference(f"Pass mark {passing}")],
    )


def _week_label(week) -> str:
    return date_format(week, "j M")


def readiness_chart(*, weeks: Sequence[WeekRow]) -> charts.LineChart | None:
    """The share of the week's active members whose latest mock that week passed, with its Wilson 95% band."""
    rows = [week for week in weeks if week.active]
    if not rows:
        return None
    data = []
    for week in rows:
        low, high = wilson_interval(week.ready, week.active)
        share = week.ready / week.active
        data.append(
            charts.LineDatum(
                value=round(100 * share, 1),
                label=_week_label(week.week),
                title=(
                    f"Week of {date_format(week.week, 'j M Y')}: {week.ready} of {week.active} at passing standard "
                    f"({_percent(share)}, 95% interval {_percent(low)}–{_percent(high)})"
                ),
                kind="ready",
                band=(round(100 * low, 1), round(100 * high, 1)),
            )
        )
    latest = rows[-1]
    description = (
        f"{len(rows)} week{'s' if len(rows) != 1 else ''} from {date_format(rows[0].week, 'j M Y')}. "
        f"Latest week: {latest.ready} of {latest.active} active members at passing standard "
        f"({_percent(latest.ready / latest.active)}). The table below lists every week."
    )
    return charts.line_chart(
        id="readiness-trend",
        title="Share of active members at passing standard per week, in percent",
        description=description,
        data=data,
        y_low=0,
        y_high=100,
        legend=[
            charts.legend_marker("Share at passing standard (%)", kind="ready", shape="circle"),
            charts.legend_band("95% interval (Wilson)"),
        ],
    )


def mean_score_chart(*, exam: Exam, weeks: Sequence[WeekRow]) -> charts.LineChart | None:
    rows = [week for week in weeks if week.mean_scaled is not None]
    if not rows:
        return None
    passing = exam.passing_score
    data = [
        charts.LineDatum(
            value=round(week.mean_scaled, 1),
            label=_week_label(week.week),
            title=f"Week of {date_format(week.week, 'j M Y')}: mean score {week.mean_scaled:.0f} of {week.active}",
            kind="mean",
        )
        for week in rows
    ]
    return charts.line_chart(
        id="mean-score-trend",
        title=f"Mean latest mock score per week, on the {exam.scale_min}–{exam.scale_max} scale",
        description=(
            f"{len(rows)} week{'s' if len(rows) != 1 else ''}; latest mean {rows[-1].mean_scaled:.0f}, "
            f"pass mark {passing}. The table below lists every week."
        ),
        data=data,
        y_low=exam.scale_min,
        y_high=exam.scale_max,
        references=[(passing, f"Pass mark {passing}")],
        shapes={"mean": "square"},
        legend=[
            charts.legend_marker("Mean score", kind="mean", shape="square"),
            charts.legend_reference(f"Pass mark {passing}"),
        ],
    )


def dashboard_charts(data: Dashboard) -> DashboardCharts:
    flt = data.filter
    if flt.assignment is not None:
        scope = f"on “{flt.assignment.title}”"
    elif flt.dated:
        scope = "in the chosen weeks"
    else:
        scope = "to date"
    exam = data.cohort.exam
    return DashboardCharts(
        histogram=score_histogram(exam=exam, scores=data.scores, bins=data.histogram, scope=scope),
        readiness=readiness_chart(weeks=data.weeks),
        mean_score=mean_score_chart(exam=exam, weeks=data.weeks),
    )


def member_score_chart(*, exam: Exam, results: Sequence[AttemptResult]) -> charts.LineChart | None:
    """One member's mock scores, oldest to newest, with the pass mark."""
    if not results:
        return None
    passing = exam.passing_score

    def when(moment: datetime | None, fmt: str) -> str:
        return date_format(timezone.localtime(moment), fmt) if moment else ""

    data = [
        charts.LineDatum(
            value=result.scaled_score,
            label=when(result.attempt.submitted_at or result.attempt.started_at, "j M"),
            title=(
                f"{when(result.attempt.submitted_at or result.attempt.started_at, 'j M Y, H:i')}: "
                f"{result.scaled_score}, {'passed' if result.passed else f'below the pass mark of {passing}'}"
            ),
            kind="pass" if result.passed else "fail",
        )
        for result in results
    ]
    scores = [result.scaled_score for result in results]
    return charts.line_chart(
        id="member-score-trend",
        title=f"Mock exam scores, oldest to newest, on the {exam.scale_min}–{exam.scale_max} scale",
        description=(
            f"{len(results)} mock exam{'s' if len(results) != 1 else ''}; latest {scores[-1]}, highest "
            f"{max(scores)}, lowest {min(scores)}; pass mark {passing}. The attempts table lists every score."
        ),
        data=data,
        y_low=exam.scale_min,
        y_high=exam.scale_max,
        **score_trend_marks(passing),
    )
