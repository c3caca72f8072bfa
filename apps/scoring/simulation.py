"""Simulated candidates for validating the scoring method (tests and benchmarks use the same code)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.scoring import irt


def responses_simulate(theta: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0/1 responses of candidates with abilities ``theta`` to Rasch items ``b`` (rows are candidates)."""
    return (rng.random((len(theta), len(b))) < irt.probability(theta, b)).astype(np.int8)


@dataclass(frozen=True)
class RecoveryReport:
    rmse: float
    accuracy: float
    mean_scaled: float


def recovery_check(
    *, theta: np.ndarray, b: np.ndarray, cut: float, rng: np.random.Generator, scale: irt.Scale | None = None
) -> RecoveryReport:
    """Score simulated candidates by EAP and compare with their true abilities and true pass/fail."""
    x = responses_simulate(theta, b, rng)
    estimate, _ = irt.eap_many(x, b)
    scale = scale or irt.Scale(cut=cut)
    scaled = np.array([scale.scaled(value) for value in estimate])
    accuracy = float(np.mean((estimate >= cut) == (theta >= cut)))
    return RecoveryReport(float(np.sqrt(np.mean((estimate - theta) ** 2))), accuracy, float(scaled.mean()))


def sparse_responses(
    *, n_persons: int, n_items: int, per_person: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each simulated attempt sees ``per_person`` random items of the bank: (persons, items, scores, θ, b)."""
    theta = rng.normal(0, 1, n_persons)
    b = rng.normal(0, 1, n_items)
    items = np.concatenate([rng.choice(n_items, per_person, replace=False) for _ in range(n_persons)])
    persons = np.repeat(np.arange(n_persons), per_person)
    scores = (rng.random(len(items)) < 1 / (1 + np.exp(-(theta[persons] - b[items])))).astype(np.int8)
    return persons, items, scores, theta, b
