"""Simulated candidates for validating the scoring method (tests and benchmarks use the same code)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.questions.models import Question, QuestionType
from apps.questions.selectors import match_responses
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


def answer_simulate(
    question: Question, *, right: bool, rng: np.random.Generator, weights: Sequence[float] | None = None
) -> dict[str, Any]:
    """A stored answer of the shape the exams app saves (see ``marking``) that marking finds right or wrong.

    A wrong single-answer response picks one distractor, a wrong multiple-response one swaps one key for a
    distractor (so it is still complete), with ``weights`` the distractors' relative pull in authoring order
    (equal when not given). A wrong ordering swaps two neighbouring steps; a wrong matching moves one prompt to
    another response. Needs the question's choices, steps and pairs (prefetch them for many questions).
    """
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        options = list(question.choices.all())
        keys = [choice.pk for choice in options if choice.is_correct]
        if right:
            return {"choices": keys}
        distractors = [choice.pk for choice in options if not choice.is_correct]
        pull = np.asarray(weights if weights is not None else np.ones(len(distractors)), dtype=float)
        picked = int(distractors[rng.choice(len(distractors), p=pull / pull.sum())])
        if question.type == QuestionType.SINGLE:
            return {"choices": [picked]}
        kept = [int(key) for key in rng.permutation(keys)[: len(keys) - 1]]
        return {"choices": sorted([*kept, picked])}
    if question.type == QuestionType.ORDERING:
        steps = sorted(question.steps.all(), key=lambda step: step.position)
        positions = {str(step.pk): step.position for step in steps}
        if not right:
            i = int(rng.integers(len(steps) - 1))
            first, second = str(steps[i].pk), str(steps[i + 1].pk)
            positions[first], positions[second] = positions[second], positions[first]
        return {"positions": positions}
    responses = match_responses(question)
    prompts = [pair for pair in question.pairs.all() if pair.prompt]
    matches = {str(pair.pk): responses.index(pair.response) + 1 for pair in prompts}
    if not right:
        moved = str(prompts[int(rng.integers(len(prompts)))].pk)
        matches[moved] = matches[moved] % len(responses) + 1
    return {"matches": matches}
