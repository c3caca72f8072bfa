"""Classical item analysis, as Moodle's quiz statistics report computes it (see EXAM_FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISKEY_BELOW = 0.0
TOO_EASY_ABOVE = 0.95
TOO_HARD_BELOW = 0.20
WEAK_DISTRACTOR_BELOW = 0.05


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


def kr20(item_count: int, mean_pq: float, total_variance: float) -> float | None:
    """KR-20 (Cronbach's α for 0/1 items): ``k/(k-1) · (1 - Σ p q / σ²_X)``; forms differ, so Σ p q is k times
    the mean item variance of the items candidates saw."""
    if item_count < 2 or total_variance <= 0:
        return None
    return item_count / (item_count - 1) * (1 - item_count * mean_pq / total_variance)
