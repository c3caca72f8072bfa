"""Real exam results close the loop: candidates report how they did on the real exam, and instructors see how
well the readiness estimate predicted it (Brier score, reliability diagram) and where the results themselves put
the pass line on the θ scale (a logistic regression of pass on θ).

The prediction stored with a report is the readiness estimate from the evidence the candidate had before the day
of the exam, computed when the report is made (so with the item calibrations and cut of that moment).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import dateformat, timezone

from apps.core import charts
from apps.scoring import irt
from apps.scoring.models import OUTCOME_EARLIEST, ExamOutcome
from apps.scoring.progress import readiness_for
from apps.scoring.services import exam_cut_theta
from apps.syllabus.models import Exam

# Reports with a θ snapshot needed before the pass line is re-estimated from them.
CUT_MINIMUM_REPORTS = 100
RELIABILITY_BINS = 10
Z_95 = 1.96


class OutcomeInvalidError(Exception):
    """The report breaks a rule; ``problems`` maps each offending field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _long_date(day: datetime.date) -> str:
    return dateformat.format(day, "j F Y")


def outcome_problems(
    *,
    exam: Exam,
    sat_on: datetime.date,
    passed: bool,
    scaled_score: int | None,
    today: datetime.date | None = None,
) -> dict[str, str]:
    """What is wrong with a reported result, per field (empty when nothing is): the date must lie between
    2024-01-01 (and the version's first delivery) and today, the score on the version's scale, and the score
    must agree with the result (a score at or above the pass mark is a pass, and below it a fail)."""
    today = today or timezone.localdate()
    problems: dict[str, str] = {}
    first_day = min(
        (day for day in (exam.available_from, exam.beta_available_from) if day is not None), default=OUTCOME_EARLIEST
    )
    first_day = max(first_day, OUTCOME_EARLIEST)
    if sat_on > today:
        problems["sat_on"] = "The date of the exam cannot be in the future."
    elif sat_on < first_day:
        problems["sat_on"] = f"The date of the exam cannot be before {_long_date(first_day)}"
        problems["sat_on"] += (
            f", when {exam.code} was first offered." if first_day > OUTCOME_EARLIEST else " (no earlier results)."
        )
    if scaled_score is not None:
        if not exam.scale_min <= scaled_score <= exam.scale_max:
            problems["scaled_score"] = (
                f"The scaled score runs from {exam.scale_min} to {exam.scale_max}; {scaled_score} is off the scale."
            )
        elif passed and scaled_score < exam.passing_score:
            problems["scaled_score"] = (
                f"A score of {scaled_score} is below the pass mark of {exam.passing_score}, so it is a fail: "
                "check the score or the result."
            )
        elif not passed and scaled_score >= exam.passing_score:
            problems["scaled_score"] = (
                f"A score of {scaled_score} reaches the pass mark of {exam.passing_score}, so it is a pass: "
                "check the score or the result."
            )
    return problems


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the site's time zone: evidence from the exam day itself is left out,
    since the time of the sitting is not known."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _prediction_fields(*, candidate, exam: Exam, sat_on: datetime.date) -> dict:
    readiness = readiness_for(candidate=candidate, exam=exam, before=day_start(sat_on))
    if readiness is None:
        return {
            "predicted_theta": None,
            "predicted_theta_se": None,
            "predicted_pass_probability": None,
            "predicted_responses": 0,
            "predicted_cut_theta": None,
        }
    return {
        "predicted_theta": readiness.theta,
        "predicted_theta_se": readiness.se,
        "predicted_pass_probability": readiness.pass_probability,
        "predicted_responses": readiness.responses,
        "predicted_cut_theta": readiness.cut_theta,
    }


def exam_outcome_save(
    *,
    candidate,
    exam: Exam,
    sat_on: datetime.date,
    passed: bool,
    scaled_score: int | None = None,
    outcome_id: int | None = None,
    today: datetime.date | None = None,
) -> ExamOutcome:
    """Record (or, with ``outcome_id``, correct) a candidate's real result, with the prediction we had before
    that day. The prediction is taken once and taken again only when the version or the date changes.

    Raises OutcomeInvalidError for a report that breaks a rule, ExamOutcome.DoesNotExist for another's report.
    """
    problems = outcome_problems(exam=exam, sat_on=sat_on, passed=passed, scaled_score=scaled_score, today=today)
    duplicate = f"You have already reported a {exam.code} result for {_long_date(sat_on)}: edit that report instead."
    with transaction.atomic():
        outcome = None
        if outcome_id is not None:
            outcome = ExamOutcome.objects.select_for_update().get(pk=outcome_id, candidate=candidate)
        others = ExamOutcome.objects.filter(candidate=candidate, exam=exam, sat_on=sat_on)
        if "sat_on" not in problems and others.exclude(pk=outcome_id).exists():
            problems["sat_on"] = duplicate
        if problems:
            raise OutcomeInvalidError(problems)
        if outcome is None:
            outcome = ExamOutcome(candidate=candidate)
        if outcome.pk is None or outcome.exam_id != exam.pk or outcome.sat_on != sat_on:
            for name, value in _prediction_fields(candidate=candidate, exam=exam, sat_on=sat_on).items():
                setattr(outcome, name, value)
        outcome.exam, outcome.sat_on, outcome.passed, outcome.scaled_score = exam, sat_on, passed, scaled_score
        try:
            with transaction.atomic():  # a savepoint: a report saved at the same moment loses cleanly
                outcome.save()
        except IntegrityError:
            raise OutcomeInvalidError({"sat_on": duplicate}) from None
    return outcome


def exam_outcome_delete(*, candidate, outcome_id: int) -> None:
    """Delete one of the candidate's own reports; ExamOutcome.DoesNotExist for anyone else's."""
    deleted, _ = ExamOutcome.objects.filter(pk=outcome_id, candidate=candidate).delete()
    if not deleted:
        raise ExamOutcome.DoesNotExist


def outcomes_of(*, candidate) -> QuerySet[ExamOutcome]:
    return ExamOutcome.objects.filter(candidate=candidate).select_related("exam").order_by("-sat_on", "-created_at")


# --- Calibration: how well did the predictions match the real results? ----------------------------------------


def brier_score(predicted: Sequence[float], passed: Sequence[bool]) -> float:
    """The Brier score ``(1/N) Σ (p_i − y_i)²``: 0 is perfect, 0.25 is what always saying 50% earns."""
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(passed, dtype=float)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class ReliabilityBin:
    """Reports whose predicted P(pass) fell in [low, high) (the last bin includes 1), and how many passed."""

    low: float
    high: float
    n: int
    passes: int
    mean_predicted: float | None
    wilson_low: float | None
    wilson_high: float | None

    @property
    def observed(self) -> float | None:
        return self.passes / self.n if self.n else None

    @property
    def label(self) -> str:
        return f"{round(100 * self.low)}–{round(100 * self.high)}%"


def reliability_bins(
    predicted: Sequence[float], passed: Sequence[bool], *, bins: int = RELIABILITY_BINS
) -> list[ReliabilityBin]:
    """Predictions grouped in ``bins`` equal bins of P(pass) (0–10%, …, 90–100%), each with the share that
    passed and its 95% Wilson interval."""
    groups: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, y in zip(predicted, passed, strict=True):
        groups[min(int(p * bins + 1e-9), bins - 1)].append((p, bool(y)))
    result = []
    for index, group in enumerate(groups):
        n, passes = len(group), sum(y for _, y in group)
        low, high = irt.wilson_interval(passes, n) if n else (None, None)
        result.append(
            ReliabilityBin(
                low=index / bins,
                high=(index + 1) / bins,
                n=n,
                passes=passes,
                mean_predicted=sum(p for p, _ in group) / n if n else None,
                wilson_low=low,
                wilson_high=high,
            )
        )
    return result


@dataclass(frozen=True)
class LogisticFit:
    beta0: float
    beta1: float
    covariance: np.ndarray  # of (β0, β1): the inverse of the information matrix at the estimate
    iterations: int


class FitUnavailableError(Exception):
    """The data do not pin the logistic model down; the message says why, in words for instructors."""


def logistic_fit(x: Sequence[float], y: Sequence[bool], *, max_iterations: int = 50) -> LogisticFit:
    """Maximum-likelihood logistic regression ``P(y=1) = σ(β0 + β1 x)`` by Newton–Raphson (IRLS).

    Written out rather than imported: scipy and statsmodels are not dependencies, and a two-parameter model
    needs only ``β ← β + (XᵀWX)⁻¹ Xᵀ(y − p)`` with ``W = diag(p(1 − p))``. The MLE does not exist when the two
    outcomes are separated on x (every pass above every fail): that case is refused before iterating.
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if ys.size == 0:
        raise FitUnavailableError("there are no reports")
    if ys.min() == ys.max():
        raise FitUnavailableError(
            f"every report is a {'pass' if ys[0] else 'fail'}, so the pass line cannot be located"
        )
    if xs.min() == xs.max():
        raise FitUnavailableError("every report has the same θ")
    passes, fails = xs[ys == 1], xs[ys == 0]
    if fails.max() <= passes.min():
        raise FitUnavailableError(
            "the reports are perfectly separated (every pass had a higher θ than every fail), so the data only "
            f"say the pass line lies between θ = {fails.max():.2f} and {passes.min():.2f}"
        )
    if passes.max() <= fails.min():
        raise FitUnavailableError("every fail had a higher θ than every pass: θ does not predict the result here")
    design = np.column_stack([np.ones_like(xs), xs])
    beta = np.zeros(2)
    for iteration in range(1, max_iterations + 1):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        information = design.T @ (design * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(information, design.T @ (ys - p))
        except np.linalg.LinAlgError:
            raise FitUnavailableError("the fit is numerically singular") from None
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            raise FitUnavailableError("the fit diverged")
        if np.max(np.abs(step)) < 1e-10:
            p = 1.0 / (1.0 + np.exp(-(design @ beta)))
            information = design.T @ (design * (p * (1 - p))[:, None])
            try:
                covariance = np.linalg.inv(information)
            except np.linalg.LinAlgError:
                raise FitUnavailableError("the fit is numerically singular") from None
            return LogisticFit(float(beta[0]), float(beta[1]), covariance, iteration)
    raise FitUnavailableError(f"the fit did not converge in {max_iterations} iterations")


@dataclass(frozen=True)
class CutEstimate:
    """The θ where a real pass becomes as likely as a fail, from the reports: ``θ_50 = −β0/β1``, with a 95%
    interval by the delta method, next to the current Angoff cut. ``theta`` is None when not available."""

    reports: int
    needed: int  # more reports with a θ snapshot before an estimate is attempted (0: enough)
    current_cut: float
    theta: float | None = None
    low: float | None = None
    high: float | None = None
    beta0: float | None = None
    beta1: float | None = None
    reason: str = ""  # why there is no estimate, when there is none
    scaled: int | None = None  # θ_50 on today's reporting scale, whose cut is current_cut

    @property
    def available(self) -> bool:
        return self.theta is not None


def cut_from_outcomes(
    theta: Sequence[float],
    passed: Sequence[bool],
    *,
    current_cut: float,
    scale: irt.Scale | None = None,
    minimum: int = CUT_MINIMUM_REPORTS,
) -> CutEstimate:
    """Fit ``P(pass) = σ(β0 + β1 θ)`` to the reports' θ snapshots and real results, and give θ_50 = −β0/β1.

    Delta method: with g = ∂θ_50/∂β = (−1/β1, β0/β1²), Var θ_50 ≈ gᵀ Σ g where Σ is the fit's covariance.
    Never raises: too few reports, one-sided or separated data, or β1 ≤ 0 give an estimate with a reason.
    """
    n = len(theta)
    base = {"reports": n, "current_cut": current_cut, "needed": max(0, minimum - n)}
    if n < minimum:
        return CutEstimate(**base, reason=f"{minimum - n} more reports with a prediction are needed (of {minimum}).")
    try:
        fit = logistic_fit(theta, passed)
    except FitUnavailableError as exc:
        return CutEstimate(**base, reason=f"Not available: {exc}.")
    if fit.beta1 <= 0:
        return CutEstimate(
            **base, beta0=fit.beta0, beta1=fit.beta1, reason="Not available: a higher θ did not go with passing more."
        )
    theta50 = -fit.beta0 / fit.beta1
    gradient = np.array([-1.0 / fit.beta1, fit.beta0 / fit.beta1**2])
    variance = float(gradient @ fit.covariance @ gradient)
    if not math.isfinite(theta50) or not math.isfinite(variance) or variance < 0:
        return CutEstimate(**base, beta0=fit.beta0, beta1=fit.beta1, reason="Not available: the fit is unstable.")
    half = Z_95 * math.sqrt(variance)
    return CutEstimate(
        **base,
        theta=theta50,
        low=theta50 - half,
        high=theta50 + half,
        beta0=fit.beta0,
        beta1=fit.beta1,
        scaled=scale.scaled(theta50) if scale is not None else None,
    )


@dataclass(frozen=True)
class Calibration:
    """Everything the instructors' calibration page shows for one exam version."""

    exam: Exam
    reports: int  # all reports
    predicted: int  # reports with a prediction (the candidate had evidence before the exam day)
    passes: int  # among those with a prediction
    brier: float | None
    base_rate: float | None  # share passing among reports with a prediction
    base_rate_brier: float | None  # what always predicting the base rate would score
    bins: list[ReliabilityBin]
    cut: CutEstimate
    chart: charts.ScatterChart | None


def _percent(value: float) -> str:
    return f"{round(100 * value)}%"


def reliability_chart(*, exam: Exam, bins: Sequence[ReliabilityBin]) -> charts.ScatterChart:
    """The reliability diagram: each non-empty bin at (mean predicted, observed share) with its 95% Wilson
    interval as an error bar, and the diagonal where observed equals predicted."""
    filled = [b for b in bins if b.n]
    data = [
        charts.ScatterDatum(
            x=b.mean_predicted,
            y=b.observed,
            interval=(b.wilson_low, b.wilson_high),
            kind="bin",
            title=(
                f"Predicted {b.label} (mean {_percent(b.mean_predicted)}): {b.passes} of {b.n} passed, "
                f"{_percent(b.observed)} (95% interval {_percent(b.wilson_low)}–{_percent(b.wilson_high)})"
            ),
        )
        for b in filled
    ]
    total = sum(b.n for b in filled)
    if filled:
        furthest = max(filled, key=lambda b: abs(b.observed - b.mean_predicted))
        description = (
            f"{total} reports with a prediction in {len(filled)} bins of predicted chance. The bin furthest from the "
            f"diagonal is {furthest.label}: predicted {_percent(furthest.mean_predicted)} on average, "
            f"{_percent(furthest.observed)} passed ({furthest.passes} of {furthest.n}). "
            "The table below lists every bin."
        )
    else:
        description = "No reports with a prediction yet."
    ticks = [i / 5 for i in range(6)]
    return charts.scatter_chart(
        id=f"reliability-{exam.code.lower()}",
        title=f"{exam.code}: predicted chance of passing against the share who passed the real exam",
        description=description,
        data=data,
        x_ticks=ticks,
        y_ticks=ticks,
        tick_label=_percent,
        x_title="Predicted chance of passing",
        y_title="Share who passed",
        diagonal=True,
        legend=[
            charts.legend_marker("Observed share in a bin", kind="bin", shape="circle"),
            charts.legend_band("95% Wilson interval"),
            charts.legend_reference("Perfect calibration (observed = predicted)"),
        ],
    )


def calibration_for(*, exam: Exam) -> Calibration:
    """Calibration of the readiness estimate for one exam version, from every report made for it."""
    rows = list(
        ExamOutcome.objects.filter(exam=exam).values_list("predicted_pass_probability", "predicted_theta", "passed")
    )
    with_prediction = [(p, theta, passed) for p, theta, passed in rows if p is not None]
    predicted = [p for p, _, _ in with_prediction]
    passed = [y for _, _, y in with_prediction]
    bins = reliability_bins(predicted, passed)
    current = exam_cut_theta(exam=exam)
    scale = irt.Scale(cut=current, low=exam.scale_min, high=exam.scale_max, passing=exam.passing_score)
    thetas = [(theta, y) for _, theta, y in with_prediction if theta is not None]
    cut = cut_from_outcomes([t for t, _ in thetas], [y for _, y in thetas], current_cut=current, scale=scale)
    base_rate = sum(passed) / len(passed) if passed else None
    return Calibration(
        exam=exam,
        reports=len(rows),
        predicted=len(with_prediction),
        passes=sum(passed),
        brier=brier_score(predicted, passed) if predicted else None,
        base_rate=base_rate,
        base_rate_brier=base_rate * (1 - base_rate) if base_rate is not None else None,
        bins=bins,
        cut=cut,
        chart=reliability_chart(exam=exam, bins=bins) if predicted else None,
    )
