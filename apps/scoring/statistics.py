"""Classical item analysis, as Moodle's quiz statistics report computes it (see EXAM_FORMAT.md), and the rules
that decide when a statistic is strong enough evidence to flag an item for an instructor."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from apps.scoring.irt import wilson_interval

MISKEY_BELOW = 0.0
TOO_EASY_ABOVE = 0.95
TOO_HARD_BELOW = 0.20
WEAK_DISTRACTOR_BELOW = 0.05
# No flag from fewer first attempts than this: below it a facility, a correlation or an option share moves by
# more than the thresholds between two samples of the same item (SE of a correlation near 0 is about 1/√n = 0.14).
MIN_RESPONSES_FOR_FLAGS = 50
# A distractor "attracts stronger candidates" only when this many chose it: a point-biserial carried by a
# handful of people says nothing about the option.
MIN_CHOOSERS_FOR_DISCRIMINATION = 10

DISTRACTOR_RARE = "rarely chosen"
DISTRACTOR_ATTRACTS_ABLE = "chosen more by stronger candidates"


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


@dataclass(frozen=True)
class ItemAnalysis:
    facility: float
    discrimination: float | None
    efficiency: float | None


def item_analysis(scores: np.ndarray, rest: np.ndarray) -> ItemAnalysis:
    """Facility ``F = mean(x)``; discrimination index ``100 · corr(x, R)`` with R the total minus this item;
    discriminative efficiency ``100 · Cov(x, R) / Cov_max``, where Cov_max pairs both sorted the same way."""
    x = np.asarray(scores, dtype=float)
    r = np.asarray(rest, dtype=float)
    facility = float(x.mean()) if len(x) else 0.0
    correlation = _correlation(x, r)
    efficiency = None
    if correlation is not None:
        cov = float(np.cov(x, r, bias=True)[0, 1])
        cov_max = float(np.cov(np.sort(x), np.sort(r), bias=True)[0, 1])
        efficiency = 100 * cov / cov_max if cov_max > 0 else None
    return ItemAnalysis(facility, None if correlation is None else 100 * correlation, efficiency)


def option_analysis(chosen: np.ndarray, total: np.ndarray) -> tuple[float, float | None]:
    """Share choosing an option and its point-biserial correlation with the total score."""
    picked = np.asarray(chosen, dtype=float)
    share = float(picked.mean()) if len(picked) else 0.0
    return share, _correlation(picked, np.asarray(total, dtype=float))


def correlation_lower_bound(r: float, n: int, z: float = 1.96) -> float | None:
    """Lower end of the 95% interval of a correlation by Fisher's z: ``tanh(atanh(r) - z/√(n-3))``."""
    if n <= 3:
        return None
    clipped = min(max(r, -0.999999), 0.999999)
    return math.tanh(math.atanh(clipped) - z / math.sqrt(n - 3))


def distractor_problem(*, chosen: int, responses: int, point_biserial: float | None) -> str | None:
    """Why a wrong option does not work as a distractor, or None.

    Both rules wait for ``MIN_RESPONSES_FOR_FLAGS`` first attempts. *Rarely chosen*: even the upper end of the 95%
    Wilson interval of its share is under 5%, so the option is implausible, not merely unlucky in this sample.
    *Chosen more by stronger candidates*: among at least ``MIN_CHOOSERS_FOR_DISCRIMINATION`` choosers its
    point-biserial is positive beyond chance (the 95% Fisher-z interval lies above 0), a sign that it can be
    defended as right.
    """
    if responses < MIN_RESPONSES_FOR_FLAGS:
        return None
    if wilson_interval(chosen, responses)[1] < WEAK_DISTRACTOR_BELOW:
        return DISTRACTOR_RARE
    if point_biserial is not None and chosen >= MIN_CHOOSERS_FOR_DISCRIMINATION:
        lower = correlation_lower_bound(point_biserial, responses)
        if lower is not None and lower > 0:
            return DISTRACTOR_ATTRACTS_ABLE
    return None


@dataclass(frozen=True)
class ItemFlags:
    miskey: bool
    too_easy: bool
    too_hard: bool


def item_flags(*, responses: int, facility: float, discrimination: float | None) -> ItemFlags:
    """Moodle's thresholds on the point estimates, from ``MIN_RESPONSES_FOR_FLAGS`` first attempts on: facility
    above 0.95 or below 0.20, and a negative discrimination index (a possible miskey)."""
    if responses < MIN_RESPONSES_FOR_FLAGS:
        return ItemFlags(False, False, False)
    return ItemFlags(
        miskey=discrimination is not None and discrimination < MISKEY_BELOW,
        too_easy=facility > TOO_EASY_ABOVE,
        too_hard=facility < TOO_HARD_BELOW,
    )


def kr20(item_count: int, mean_pq: float, total_variance: float) -> float | None:
    """KR-20 (Cronbach's α for 0/1 items): ``k/(k-1) · (1 - Σ p q / σ²_X)``; forms differ, so Σ p q is k times
    the mean item variance of the items candidates saw."""
    if item_count < 2 or total_variance <= 0:
        return None
    return item_count / (item_count - 1) * (1 - item_count * mean_pq / total_variance)
