from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.exams.presentation import ItemReview, item_review
from apps.exams.selectors import attempt_for_candidate, attempt_item_at
from apps.questions.models import Question, QuestionReport
from apps.questions.selectors import questions_with_parts
from apps.scoring import irt, statistics
from apps.scoring.models import AttemptResult, Classification, ItemParameter, ItemStatistic


@dataclass
class ReviewedItem:
    item: AttemptItem
    question: Question
    review: ItemReview  # the answer next to the key, with the letters the candidate saw
    report: QuestionReport | None = None  # the candidate's open report on this item, if any


REVIEW_FILTERS = {"all", "wrong", "flagged"}


def attempt_reviewable(*, candidate, attempt_id: int) -> Attempt:
    """The candidate's own attempt, once it is over: keys and rationales are never sent before submission."""
    attempt = attempt_for_candidate(candidate=candidate, attempt_id=attempt_id)
    if attempt.state not in (AttemptState.SUBMITTED, AttemptState.SCORED):
        raise Http404("Questions are reviewed from your results, once the attempt is over.")
    return attempt


@dataclass(frozen=True)
class ReviewRow:
    """One item in the results' list, without its content or key: what its heading says."""

    position: int
    is_correct: bool
    answered: bool
    flagged: bool
    scored: bool
    task_code: str
    task_title: str

    @property
    def outcome(self) -> str:
        return "right" if self.is_correct else "wrong" if self.answered else "unanswered"


def _filtered(items: QuerySet[AttemptItem], show: str) -> QuerySet[AttemptItem]:
    if show == "wrong":
        return items.filter(is_correct=False)
    if show == "flagged":
        return items.filter(flagged=True)
    return items


def attempt_review_rows(*, attempt: Attempt, show: str = "all") -> list[ReviewRow]:
    """The items of a finished attempt as the results list them, in one query: each item's review is read only
    when it is opened (``attempt_reviewed_item``)."""
    items = _filtered(AttemptItem.objects.filter(attempt=attempt), show).order_by("position")
    return [
        ReviewRow(position, bool(is_correct), bool(answer), flagged, scored, task_code or "", task_title or "")
        for position, is_correct, answer, flagged, scored, task_code, task_title in items.values_list(
            "position", "is_correct", "answer", "flagged", "scored", "task__code", "task__title"
        )
    ]


def attempt_reviewed_item(*, attempt: Attempt, position: int) -> ReviewedItem:
    """One item of a finished attempt with the candidate's answer next to the key, and their open report on it:
    two queries once the version is cached (Http404 for a position the attempt does not have)."""
    item = attempt_item_at(attempt=attempt, position=position)
    question = item.question
    report = QuestionReport.objects.filter(
        reporter_id=attempt.candidate_id, question_id=item.question_id, status=QuestionReport.Status.OPEN
    ).first()
    return ReviewedItem(item, question, item_review(question, item.presentation, item.answer), report)


def attempt_reviewed_items(*, attempt: Attempt, show: str = "all") -> list[ReviewedItem]:
    """Every item of a finished attempt with what the candidate answered, in a fixed number of queries."""
    items = list(_filtered(AttemptItem.objects.filter(attempt=attempt), show).order_by("position"))
    questions = questions_with_parts().in_bulk([item.question_id for item in items])
    reports = {
        report.question_id: report
        for report in QuestionReport.objects.filter(
            reporter_id=attempt.candidate_id, question_id__in=questions, status=QuestionReport.Status.OPEN
        )
    }
    return [
        ReviewedItem(
            item,
            questions[item.question_id],
            item_review(questions[item.question_id], item.presentation, item.answer),
            reports.get(item.question_id),
        )
        for item in items
    ]


def weak_task_codes(result: AttemptResult) -> list[str]:
    """Tasks to drill: those that need improvement, else those without enough evidence and under 70%."""
    needs = [row["code"] for row in result.by_task if row["classification"] == Classification.NEEDS]
    if needs:
        return needs
    return [
        row["code"] for row in result.by_task if row["classification"] == Classification.UNSURE and row["percent"] < 70
    ]


@dataclass(frozen=True)
class StatisticRow:
    label: str
    value: str
    basis: str  # how many responses it rests on, and which
    meaning: str


@dataclass(frozen=True)
class OptionRow:
    text: str
    is_key: bool
    chosen: str  # "18% (43 of 237)": always out of the item's first attempts
    point_biserial: str
    verdict: str


@dataclass(frozen=True)
class ItemStatisticsReport:
    counted: str  # which attempts are counted, in plain words
    rows: list[StatisticRow]
    options: list[OptionRow]
    flags: list[str]  # each flag with the evidence behind it
    note: str  # why there are no flags yet, when there are too few responses
    unanswered: str
    # Multiple response: a key's count is larger than the facility's, which needs every key and nothing else;
    # this row shows that count next to them, so the options table adds up to the facility.
    all_keys: str = ""


def _count_share(count: int, total: int) -> str:
    return f"{count / total:.0%} ({count:,} of {total:,})" if total else "–"


def _signed(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}f}".replace("-", "−")


def item_discrimination_text(discrimination: float) -> str:
    """The stored discrimination index (100 × the corrected item-rest correlation) as the correlation instructors
    read elsewhere: ``48.3`` → ``0.48``, with a true minus sign."""
    return _signed(discrimination / 100, 2)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def item_statistics_report(*, statistic: ItemStatistic, parameter: ItemParameter | None) -> ItemStatisticsReport:
    """The admin's view of an item's statistics: every figure with its count, out of one denominator (the item's
    first attempts), the calibration's different count explained, and each flag with the evidence behind it."""
    n = statistic.responses
    attempts = f"{n:,} first attempt{'s' if n != 1 else ''}"
    versions = _and(statistic.versions) if statistic.versions else "every exam version that delivers it"
    counted = (
        f"Counted: each candidate's first scored mock exam that included this item, pooled over {versions}: "
        f"{attempts}. Later attempts are left out, because a candidate who has seen an item answers it from "
        f"memory. Every share below is out of these {n:,}."
    )
    rows = [
        StatisticRow(
            "Facility (share right)",
            f"{statistic.facility:.2f}",
            f"{statistic.correct:,} of {attempts}",
            "Flagged above 0.95 (too easy) or below 0.20 (too hard).",
        ),
        StatisticRow(
            "Discrimination (r)",
            "–"
            if statistic.discrimination is None
            else f"{item_discrimination_text(statistic.discrimination)} (correlation, from −1 to 1)",
            attempts,
            "The correlation between getting this item right and the rest of the candidate's score: high when "
            "stronger candidates get it right more often; 0.20 and above is usual. Negative suggests a wrong key.",
        ),
        StatisticRow(
            "Discriminative efficiency",
            "–" if statistic.efficiency is None else f"{_signed(statistic.efficiency)}%",
            attempts,
            "The discrimination as a share of the highest it could be at this facility; under 15% is weak.",
        ),
        StatisticRow(
            "Left unanswered",
            _count_share(statistic.unanswered, n),
            attempts,
            "Unanswered counts as wrong.",
        ),
    ]
    if parameter is not None:
        rows.append(
            StatisticRow(
                "3PL parameters (used for scoring)",
                f"difficulty {_signed(parameter.b, 2)} ± {parameter.b_se:.2f} logits, slope {parameter.a:.2f}, "
                f"guessing floor {parameter.c:.2f}",
                f"{parameter.responses:,} responses from every scored mock exam of one version, repeats included",
                "A different count from the figures above: calibration uses all scored mocks, not only first "
                "attempts. Difficulty: higher is harder, 0 is an average item. Slope: how sharply the item "
                "separates weaker from stronger candidates (1 is typical). Guessing floor: the chance that a "
                "candidate who does not know gets it right.",
            )
        )
    options = []
    for option in statistic.options:
        chosen = option.get("chosen", round(option["share"] * n))
        problem = option.get("problem")
        if option["correct"]:
            verdict = ""
        elif problem == statistics.DISTRACTOR_RARE:
            upper = irt.wilson_interval(chosen, n)[1]
            verdict = f"Not working: rarely chosen (at most {upper:.1%} would choose it, 95% upper bound)"
        elif problem == statistics.DISTRACTOR_ATTRACTS_ABLE:
            verdict = "Not working: stronger candidates choose it more (positive point-biserial beyond chance)"
        else:
            verdict = "Works" if n >= statistics.MIN_RESPONSES_FOR_FLAGS else "Too few responses to judge"
        pbis = option["point_biserial"]
        options.append(
            OptionRow(
                option["text"],
                option["correct"],
                _count_share(chosen, n),
                "–" if pbis is None else _signed(pbis, 2),
                verdict,
            )
        )
    flags = []
    if statistic.flag_miskey:
        flags.append(
            "Possible miskey: the discrimination index is negative "
            f"(r = {item_discrimination_text(statistic.discrimination or 0)}) over {attempts}."
        )
    if statistic.flag_too_easy:
        flags.append(f"Too easy: {statistic.correct:,} of {attempts} got it right ({statistic.facility:.2f}).")
    if statistic.flag_too_hard:
        flags.append(f"Too hard: only {statistic.correct:,} of {attempts} got it right ({statistic.facility:.2f}).")
    if statistic.flag_weak_distractor:
        weak = [row.text for row, option in zip(options, statistic.options, strict=True) if option.get("problem")]
        flags.append(f"Distractor not working: {_and([f'“{text}”' for text in weak]) if weak else 'see below'}.")
    note = ""
    if n < statistics.MIN_RESPONSES_FOR_FLAGS:
        note = (
            f"No flags before {statistics.MIN_RESPONSES_FOR_FLAGS} first attempts ({n:,} so far): with fewer, "
            "the figures move more between samples than the thresholds allow."
        )
    keys = sum(bool(option["correct"]) for option in statistic.options)
    return ItemStatisticsReport(
        counted,
        rows,
        options,
        flags,
        note,
        _count_share(statistic.unanswered, n),
        all_keys=_count_share(statistic.correct, n) if keys > 1 else "",
    )
