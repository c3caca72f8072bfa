"""Calibrating the bank: 3PL item parameters by marginal maximum likelihood, with priors.

Bock and Aitkin's EM algorithm. The E-step integrates each candidate's ability over a quadrature grid under the
population N(0, 1) (that fixes the scale), giving expected counts of attempts and of right answers per item and
grid point. The M-step moves each item's (log a, b, logit c) by Fisher scoring on those counts plus log-priors:

- log a ~ N(0, 0.3²): slopes near 1 unless the data say otherwise;
- logit c ~ N(logit c₀, 0.35²) (one prior SD is about ±0.06 in c near 0.2), with c₀ from the item type
  (``guessing_floor``): a fixed floor would be wrong for items whose distractors attract the candidates who
  guess, and a free c is not identified with few responses;
- b ~ N(z_i·β, τ²): the difficulty prior is a regression on what authors said about the item (difficulty label,
  Angoff rating), with β and τ re-estimated from the bank on every cycle (empirical Bayes). Items with few
  responses lean on it; items with many are decided by their data.

Why not a library: girth (the maintained Python IRT package) has MML for 3PL, but without priors on a and c and
without per-item difficulty priors, which is what makes a sparse practice bank (each item seen by a few dozen
candidates) calibrate at all. The algorithm here is about eighty lines of numpy.

Items answered all right or all wrong carry no information about their difficulty beyond the prior and are left
out; so are items under ``min_responses``. Both keep their prior (see ``PriorModel``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRID = np.linspace(-4.0, 4.0, 33)
POPULATION = np.exp(-0.5 * GRID**2) / np.exp(-0.5 * GRID**2).sum()
SLOPE_PRIOR_SD = 0.3
GUESSING_PRIOR_SD = 0.35
TAU_FLOOR = 0.3


def guessing_floor(item_type: str, options: int = 4, keys: int = 1) -> float:
    """The prior centre of c: the chance that a blind guess is right, times 0.8.

    Single answer 1/options, multiple response 1/C(options, keys), ordering 1/k!, matching 1/k! for k prompts.
    Real lower asymptotes sit somewhat below blind chance (plausible distractors draw the guessers), hence 0.8.
    """
    if item_type == "multiple":
        chance = 1 / math.comb(max(options, 2), max(min(keys, options - 1), 1))
    elif item_type in ("ordering", "matching"):
        chance = 1 / math.factorial(max(options, 2))
    else:
        chance = 1 / max(options, 2)
    return min(max(0.8 * chance, 0.005), 0.3)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


@dataclass(frozen=True)
class PriorModel:
    """b ~ N(features · beta, tau²): what the bank has taught us about authored difficulty, for items without
    enough responses of their own. Features are ``prior_features`` of the item."""

    beta: tuple[float, ...] = (-1.0, 0.0, 1.0, 0.0)
    tau: float = 0.8

    def mean(self, features: np.ndarray) -> np.ndarray:
        return np.atleast_2d(features) @ np.asarray(self.beta)


def prior_features(difficulty: str, angoff: float | None, floor: float) -> list[float]:
    """One row of the difficulty prior's design: label dummies (easy, medium, hard) and the difficulty implied by
    the author's Angoff rating, relative to the cut (a high rating for a just-passing candidate puts b below the
    cut). A missing rating contributes 0; the label dummies carry the intercept."""
    row = [float(difficulty == "easy"), float(difficulty == "medium"), float(difficulty == "hard")]
    if angoff is None:
        return [*row, 0.0]
    share = min(max((angoff - floor) / (1 - floor), 0.02), 0.98)
    return [*row, -math.log(share / (1 - share))]


@dataclass
class Calibration:
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    b_se: np.ndarray
    n: np.ndarray
    fitted: np.ndarray  # items that were estimated (enough responses, not extreme)
    prior: PriorModel
    iterations: int
    persons: int


def mml_calibrate(
    responses: np.ndarray,
    answered: np.ndarray,
    *,
    floors: np.ndarray,
    features: np.ndarray,
    min_responses: int = 20,
    max_iterations: int = 500,
    tolerance: float = 1e-4,
) -> Calibration:
    """Calibrate items from a persons × items matrix of 0/1 ``responses`` where ``answered`` marks who saw what.

    Returns every item's parameters: estimated for the fitted ones, the prior (a = 1, b = prior mean, c = floor)
    for the rest, whose b_se is the prior's τ.
    """
    answered = answered.astype(bool)
    x_all = (responses.astype(bool) & answered).astype(np.float32)
    n_items = answered.shape[1]
    counts = answered.sum(axis=0)
    rights = x_all.sum(axis=0)
    fitted = (counts >= min_responses) & (rights > 0) & (rights < counts)
    features = np.asarray(features, dtype=float)
    floors = np.asarray(floors, dtype=float)
    prior = PriorModel()
    if fitted.sum() < 2:
        return _prior_only(n_items, floors, features, prior, counts, fitted, iterations=0, persons=answered.shape[0])
    persons = answered[:, fitted].any(axis=1)
    seen = answered[np.ix_(persons, fitted)].astype(np.float32)
    x = x_all[np.ix_(persons, fitted)]
    wrong = seen - x
    z, c0 = features[fitted], floors[fitted]
    k = int(fitted.sum())
    a, b, c = np.ones(k), z @ np.asarray(prior.beta), c0.copy()
    logit_c0 = np.log(c0 / (1 - c0))
    beta, tau = np.asarray(prior.beta, dtype=float), prior.tau
    hessian = np.tile(np.eye(3), (k, 1, 1))
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        # E-step: posterior weights of each person over the grid, then expected counts per item and grid point.
        p = c[:, None] + (1 - c[:, None]) * _sigmoid(a[:, None] * (GRID[None, :] - b[:, None]))
        log_l = x @ np.log(p).astype(np.float32) + wrong @ np.log1p(-p).astype(np.float32)
        weights = np.exp(log_l - log_l.max(axis=1, keepdims=True)) * POPULATION
        weights /= weights.sum(axis=1, keepdims=True)
        n_q = (seen.T @ weights).astype(float)
        r_q = (x.T @ weights).astype(float)
        previous = b.copy()
        # M-step: two Fisher-scoring steps on (log a, b, logit c) for all items at once.
        b_mean = z @ beta
        for _ in range(2):
            s = _sigmoid(a[:, None] * (GRID[None, :] - b[:, None]))
            p = np.clip(c[:, None] + (1 - c[:, None]) * s, 1e-9, 1 - 1e-9)
            ds = s * (1 - s) * (1 - c[:, None])
            jacobian = np.stack(
                [ds * (GRID[None, :] - b[:, None]) * a[:, None], -ds * a[:, None], (1 - s) * (c * (1 - c))[:, None]],
                axis=-1,
            )
            gradient = np.einsum("kq,kqj->kj", (r_q - n_q * p) / (p * (1 - p)), jacobian)
            hessian = np.einsum("kq,kqi,kqj->kij", n_q / (p * (1 - p)), jacobian, jacobian)
            log_a, logit_c = np.log(a), np.log(c / (1 - c))
            gradient[:, 0] -= log_a / SLOPE_PRIOR_SD**2
            gradient[:, 1] -= (b - b_mean) / tau**2
            gradient[:, 2] -= (logit_c - logit_c0) / GUESSING_PRIOR_SD**2
            hessian[:, 0, 0] += 1 / SLOPE_PRIOR_SD**2
            hessian[:, 1, 1] += 1 / tau**2
            hessian[:, 2, 2] += 1 / GUESSING_PRIOR_SD**2
            step = np.clip(np.linalg.solve(hessian, gradient[..., None])[..., 0], -0.5, 0.5)
            a = np.exp(np.clip(log_a + step[:, 0], math.log(0.25), math.log(4.0)))
            b = np.clip(b + step[:, 1], -5.0, 5.0)
            c = _sigmoid(np.clip(logit_c + step[:, 2], -7.0, 0.0))
        b_se = np.sqrt(np.linalg.inv(hessian)[:, 1, 1])
        # Empirical Bayes: the difficulty prior's regression and spread (posterior variance included).
        beta = np.linalg.lstsq(z, b, rcond=None)[0]
        tau = max(math.sqrt(float(np.mean((b - z @ beta) ** 2) + np.mean(b_se**2))), TAU_FLOOR)
        if np.max(np.abs(b - previous)) < tolerance:
            break
    prior = PriorModel(tuple(float(v) for v in beta), tau)
    result = _prior_only(
        n_items, floors, features, prior, counts, fitted, iterations=iterations, persons=int(persons.sum())
    )
    result.a[fitted], result.b[fitted], result.c[fitted], result.b_se[fitted] = a, b, c, b_se
    return result


def _prior_only(n_items, floors, features, prior, counts, fitted, *, iterations, persons) -> Calibration:  # noqa: PLR0917
    return Calibration(
        a=np.ones(n_items),
        b=prior.mean(features) if n_items else np.zeros(0),
        c=np.asarray(floors, dtype=float).copy(),
        b_se=np.full(n_items, prior.tau),
        n=np.asarray(counts, dtype=float),
        fitted=np.asarray(fitted, dtype=bool),
        prior=prior,
        iterations=iterations,
        persons=persons,
    )
