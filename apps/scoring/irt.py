"""Item response theory for scaled scores: the formulas of EXAM_FORMAT.md, in plain numpy.

Scoring uses the **three-parameter logistic model** (3PL), ``P_i(θ) = c_i + (1 - c_i) / (1 + exp(-a_i (θ - b_i)))``:
slope a, difficulty b and a lower asymptote c for the candidate who does not know and guesses. The exam has no
penalty for guessing, so a weak candidate gets about a quarter of four-option items right by luck; a model
without c reads those lucky answers as ability (an independent check measured +1.1 logits at θ < -1) and scores
the same candidate higher on a harder form. Items are calibrated by ``apps.scoring.calibration``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

QUADRATURE = np.linspace(-6.0, 6.0, 121)
# The scoring prior is N(0, 1.5²), wider than the calibration population N(0, 1). Every EAP estimate is pulled
# toward the prior's centre, and the pull grows as a form tells less about a candidate; a form 0.5 logits harder
# tells less about weak candidates (they are guessing), so under an N(0, 1) prior the same weak candidate scored
# about 15 points higher on it. At 1.5 the gap stays within a few points in every band from -2 to +2, for about
# 0.02 logits of RMSE (scoring_validate measures both).
PRIOR_SD = 1.5


def normal_prior(sd: float = PRIOR_SD) -> np.ndarray:
    weights = np.exp(-0.5 * (QUADRATURE / sd) ** 2)
    return weights / weights.sum()


PRIOR = normal_prior()

# Difficulty priors for items without enough responses to calibrate (logits), until a calibration has estimated
# better ones from the bank (see calibration.PriorModel).
DIFFICULTY_PRIOR = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
ANGOFF_DEFAULT = {"easy": 0.8, "medium": 0.65, "hard": 0.45}

# The reporting scale maps θ = -3 and θ = +3 to its ends; a cut must sit well inside (see Scale).
CUT_RANGE = (-2.5, 2.5)


@dataclass(frozen=True)
class Items:
    """Parameters of a set of items as parallel arrays: slopes a, difficulties b, lower asymptotes c."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def rasch(cls, b) -> Items:
        b = np.asarray(b, dtype=float)
        return cls(np.ones_like(b), b, np.zeros_like(b))

    def __len__(self) -> int:
        return len(self.b)

    def take(self, index) -> Items:
        return Items(self.a[index], self.b[index], self.c[index])

    def shifted(self, delta: float) -> Items:
        return Items(self.a, self.b + delta, self.c)


def uncertain_slope(a: np.ndarray, b_sd: np.ndarray) -> np.ndarray:
    """The slope that carries uncertainty about b into scoring.

    With b ~ N(μ, s²), the expected logistic curve is close to a logistic at μ with a flatter slope:
    ``E[σ(a(θ - b))] ≈ σ(a(θ - μ) / √(1 + π a² s² / 8))`` (the probit approximation). An item known only by its
    authored difficulty therefore counts, but counts less than a calibrated one.
    """
    a = np.asarray(a, dtype=float)
    return a / np.sqrt(1.0 + math.pi * a**2 * np.asarray(b_sd, dtype=float) ** 2 / 8.0)


def probability(theta: np.ndarray | float, items: Items) -> np.ndarray:
    """P(correct | θ) for each item; θ may be a vector (rows) and the items columns."""
    theta = np.asarray(theta, dtype=float)
    return items.c + (1.0 - items.c) / (1.0 + np.exp(-items.a * (theta[..., None] - items.b)))


@dataclass(frozen=True)
class AbilityEstimate:
    theta: float
    se: float


def eap_many(
    responses: np.ndarray, items: Items, prior: np.ndarray | None = None, answered: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected a posteriori ability for many candidates (rows) on a set of items (columns).

    ``θ̂ = Σ θ_q L(x|θ_q) w_q / Σ L(x|θ_q) w_q`` over 121 quadrature points; the posterior SD is the standard
    error. Unlike maximum likelihood it is finite for all-right and all-wrong response patterns. ``answered``
    marks which items each candidate saw when they saw different ones.
    """
    x = np.atleast_2d(np.asarray(responses, dtype=float))
    seen = np.ones_like(x) if answered is None else np.atleast_2d(np.asarray(answered, dtype=float))
    p = np.clip(probability(QUADRATURE, items), 1e-12, 1 - 1e-12)  # (Q, n)
    log_l = (x * seen) @ np.log(p).T + ((1 - x) * seen) @ np.log1p(-p).T  # (N, Q)
    weights = np.exp(log_l - log_l.max(axis=1, keepdims=True)) * (
        PRIOR if prior is None else prior
    )  # prior: (Q,) or (N, Q)
    weights /= weights.sum(axis=1, keepdims=True)
    theta = weights @ QUADRATURE
    se = np.sqrt(np.maximum(weights @ QUADRATURE**2 - theta**2, 1e-12))
    return theta, se


def eap(responses: np.ndarray, items: Items, prior: np.ndarray | None = None) -> AbilityEstimate:
    """EAP for one candidate."""
    theta, se = eap_many(np.asarray(responses, dtype=float)[None, :], items, prior)
    return AbilityEstimate(float(theta[0]), float(se[0]))


def prior_about(mean: np.ndarray | float, sd: np.ndarray | float) -> np.ndarray:
    """Quadrature weights of N(mean, sd²), one row per mean: the prior of a sub-score that borrows strength from
    the rest of the evidence."""
    mean = np.atleast_1d(np.asarray(mean, dtype=float))[:, None]
    sd = np.maximum(np.atleast_1d(np.asarray(sd, dtype=float))[:, None], 1e-3)
    weights = np.exp(-0.5 * ((QUADRATURE - mean) / sd) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


# A domain's or task's ability departs from the candidate's overall ability by about this much (logits): a
# sub-score borrows strength from the rest of the evidence through the prior N(θ̂_rest, SE_rest² + τ²).
SUBSCORE_TAU = 0.5
# "Meets" when a sub-score is at or above the cut with at least this posterior probability, "Needs improvement"
# when it is below it with the same probability, otherwise not enough evidence: one rule, symmetric about the cut.
CLASSIFY_CONFIDENCE = 0.75


def subscores(responses: np.ndarray, items: Items, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-scores of many candidates (rows) on the items ``inside`` a domain or task: EAP on those items under
    the prior N(θ̂_rest, SE_rest² + τ²) from the other items (the population prior when there are none)."""
    x = np.atleast_2d(np.asarray(responses, dtype=float))
    inside = np.asarray(inside, dtype=bool)
    if (~inside).any():
        rest, rest_se = eap_many(x[:, ~inside], items.take(~inside))
        prior = prior_about(rest, np.hypot(rest_se, SUBSCORE_TAU))
    else:
        prior = None
    return eap_many(x[:, inside], items.take(inside), prior)


def subscores_of_groups(responses: np.ndarray, items: Items, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``subscores`` of one candidate for several groups at once (``groups``: one boolean row per group over the
    items): two EAP passes over a stacked matrix instead of two per group, which keeps scoring an attempt with
    four domains and twelve tasks cheap."""
    groups = np.atleast_2d(np.asarray(groups, dtype=bool))
    x = np.broadcast_to(np.asarray(responses, dtype=float), groups.shape)
    rest, rest_se = eap_many(x, items, answered=~groups)
    no_rest = ~(~groups).any(axis=1)
    prior = prior_about(rest, np.hypot(rest_se, SUBSCORE_TAU))
    prior[no_rest] = PRIOR
    return eap_many(x, items, prior, answered=groups)


def classify(theta: np.ndarray | float, se: np.ndarray | float, cut: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels ("meets", "needs", "unsure") about the cut, and the posterior chance of being at or above it."""
    chance = 0.5 * (1.0 + np.vectorize(math.erf)((np.asarray(theta) - cut) / (np.maximum(se, 1e-6) * math.sqrt(2))))
    labels = np.where(
        chance >= CLASSIFY_CONFIDENCE, "meets", np.where(chance <= 1 - CLASSIFY_CONFIDENCE, "needs", "unsure")
    )
    return labels, chance


def cut_theta(items: Items, angoff: np.ndarray, bounds: tuple[float, float] = CUT_RANGE) -> float:
    """Solve the test characteristic curve ``Σ P_i(θ_c) = Σ p_i`` for θ_c by bisection (the TCC is monotone).

    The result is kept within ``bounds`` (``CUT_RANGE``): ratings at or below the guessing floors (or near 1) would
    otherwise put the cut at the edge of the scale, where scaled scores are undefined. A standard-setting panel
    solves over a wider range and refuses a cut outside ``CUT_RANGE`` with an explanation instead.
    """
    target = float(np.sum(angoff))
    low, high = bounds
    for _ in range(60):
        middle = (low + high) / 2
        if float(probability(middle, items).sum()) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class Scale:
    """Reporting scale with the cut pinned: θ_c ↦ passing score, θ_min ↦ scale minimum, θ_max ↦ scale maximum.

    A cut outside ``CUT_RANGE`` is moved to its nearest end, so both halves of the map keep a positive width.
    """

    cut: float
    theta_min: float = -3.0
    theta_max: float = 3.0
    low: int = 100
    high: int = 1000
    passing: int = 720

    def __post_init__(self) -> None:
        object.__setattr__(self, "cut", min(max(float(self.cut), CUT_RANGE[0]), CUT_RANGE[1]))

    def scaled(self, theta: float) -> int:
        """Piecewise-linear map, clipped to the scale: ``S = 720 + (θ-θ_c)·280/(θ_max-θ_c)`` above the cut and
        ``S = 720 + (θ-θ_c)·620/(θ_c-θ_min)`` below it (for the 100-1000 scale with 720 to pass)."""
        if theta >= self.cut:
            value = self.passing + (theta - self.cut) * (self.high - self.passing) / (self.theta_max - self.cut)
        else:
            value = self.passing + (theta - self.cut) * (self.passing - self.low) / (self.cut - self.theta_min)
        return round(min(max(value, self.low), self.high))

    def scaled_many(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        above = self.passing + (theta - self.cut) * (self.high - self.passing) / (self.theta_max - self.cut)
        below = self.passing + (theta - self.cut) * (self.passing - self.low) / (self.cut - self.theta_min)
        return np.clip(np.where(theta >= self.cut, above, below), self.low, self.high)

    def band(self, theta: float, se: float, z: float = 1.0) -> tuple[int, int]:
        """The scaled score's band ``θ̂ ± z·SE`` mapped through the scale (lopsided where the scale is)."""
        return self.scaled(theta - z * se), self.scaled(theta + z * se)


def pass_probability(theta: float, se: float, cut: float) -> float:
    """Rudner's classification probability ``Φ((θ̂ - θ_c) / SE)``."""
    return 0.5 * (1.0 + math.erf((theta - cut) / (max(se, 1e-6) * math.sqrt(2.0))))


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion; honest for the 3-8 items a task has on one form."""
    if total == 0:
        return (0.0, 1.0)
    phat = correct / total
    denominator = 1 + z**2 / total
    centre = (phat + z**2 / (2 * total)) / denominator
    half = z * math.sqrt(phat * (1 - phat) / total + z**2 / (4 * total**2)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
