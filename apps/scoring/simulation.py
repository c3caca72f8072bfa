"""Simulated candidates for validating the scoring method (``manage.py scoring_validate``, tests and benchmarks).

The platform's pipeline is run on simulated data exactly as it runs on real data: calibration by
``calibration.mml_calibrate`` from responses and authored labels and ratings, the cut from a simulated Angoff
panel through ``irt.cut_theta``, then EAP scoring and the reporting scale. Beside it an **oracle** scores the
same responses with the generating model's true parameters and the true cut, with the same estimator: the gap
between the two is what the platform loses, not what the data cannot tell.

Assumptions of the simulation, stated once:
- abilities θ ~ N(0, 1); the true cut is ``cut`` (0.5 logits by default);
- ``3pl`` items: a ~ lognormal(0, 0.3), b ~ N(0, 1), c ~ U(0.15, 0.25), four-option single answer (prior floor
  0.8 · 1/4 = 0.2); ``rasch`` items: a = 1, b ~ N(0, 1), c = 0;
- authors' labels are b plus N(0, 0.5) judgement noise cut at ±0.5 logits; an author's own Angoff rating is the
  true P(θ_c) plus N(0, 0.1);
- the panel has eight raters; in their final round a rater's rating of an item is the true P(θ_c) plus a rater
  bias N(0, 0.03) plus N(0, 0.08);
- forms: the second form is the first with every b 0.5 logits higher, taken by the same candidates; the two
  draw on the same random numbers (common random numbers), so their difference is the forms', not the dice's;
- every figure is the mean over ``repeats`` independent populations (items, candidates, authors, panel), so it
  is the pipeline's expected behaviour and not one lucky draw; ``runs`` lists each population's headline figures
  to show the spread (a panel of eight misses the true cut by about 0.1 logits, differently each time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.exams.assembly import largest_remainder
from apps.questions.models import Question, QuestionType
from apps.questions.selectors import match_responses
from apps.scoring import calibration, irt

GENERATORS = ("rasch", "3pl")
BANDS = [(-2.0 + 0.5 * i, -1.5 + 0.5 * i) for i in range(8)]
FORM_SHIFT = 0.5
PANEL_RATERS = 8
SCORING_REPLICATIONS = 4


def items_generate(generator: str, k: int, rng: np.random.Generator) -> irt.Items:
    if generator == "rasch":
        return irt.Items.rasch(rng.normal(0, 1, k))
    if generator == "3pl":
        return irt.Items(np.exp(rng.normal(0, 0.3, k)), rng.normal(0, 1, k), rng.uniform(0.15, 0.25, k))
    raise ValueError(f"unknown generator {generator!r}; use one of {', '.join(GENERATORS)}")


def responses_simulate(
    theta: np.ndarray, items: irt.Items, rng: np.random.Generator, uniforms: np.ndarray | None = None
) -> np.ndarray:
    """0/1 responses of candidates with abilities ``theta`` (rows) to ``items`` (columns)."""
    draws = rng.random((len(theta), len(items))) if uniforms is None else uniforms
    return (draws < irt.probability(theta, items)).astype(np.int8)


def authored(items: irt.Items, cut: float, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Authors' difficulty labels and their own Angoff ratings."""
    judged = items.b + rng.normal(0, 0.5, len(items))
    labels = np.array(["easy", "medium", "hard"])[np.digitize(judged, [-0.5, 0.5])].tolist()
    ratings = np.clip(irt.probability(cut, items) + rng.normal(0, 0.1, len(items)), 0.05, 0.95)
    return labels, ratings


def panel_ratings(items: irt.Items, cut: float, rng: np.random.Generator, raters: int = PANEL_RATERS) -> np.ndarray:
    """Final-round ratings of a panel (raters × items)."""
    truth = irt.probability(cut, items)
    bias = rng.normal(0, 0.03, (raters, 1))
    return np.clip(truth + bias + rng.normal(0, 0.08, (raters, len(items))), 0.05, 0.95)


def platform_items(
    responses: np.ndarray, answered: np.ndarray, labels: list[str], ratings: np.ndarray, floor: float
) -> tuple[irt.Items, calibration.Calibration]:
    """The platform's view of the items: calibrated where it could, the difficulty prior elsewhere, with the
    uncertainty of b carried into the slope as in scoring."""
    features = np.array(
        [calibration.prior_features(label, rating, floor) for label, rating in zip(labels, ratings, strict=True)]
    )
    fit = calibration.mml_calibrate(responses, answered, floors=np.full(len(labels), floor), features=features)
    return irt.Items(irt.uncertain_slope(fit.a, fit.b_se), fit.b, fit.c), fit


def _by_band(theta: np.ndarray, values: np.ndarray) -> dict[str, float | None]:
    report = {}
    for low, high in BANDS:
        inside = (theta >= low) & (theta < high)
        report[f"{low:+.1f}..{high:+.1f}"] = round(float(values[inside].mean()), 4) if inside.any() else None
    return report


def _outcome(theta: np.ndarray, estimate: np.ndarray, cut_true: float, cut_used: float) -> dict:
    truly, judged = theta >= cut_true, estimate >= cut_used
    return {
        "rmse": round(float(np.sqrt(np.mean((estimate - theta) ** 2))), 4),
        "accuracy": round(float(np.mean(truly == judged)), 4),
        "false_pass": round(float(np.mean(judged & ~truly)), 4),
        "false_fail": round(float(np.mean(~judged & truly)), 4),
        "bias_by_band": _by_band(theta, estimate - theta),
    }


@dataclass(frozen=True)
class Design:
    generator: str = "3pl"
    candidates: int = 5000
    items: int = 50
    per_candidate: int | None = None  # items each candidate sees; fewer than ``items`` makes a sparse design
    cut: float = 0.5
    seed: int = 1
    repeats: int = 5


def validate(design: Design) -> dict:
    """Run the platform's pipeline and the oracle on ``repeats`` simulated populations and average the figures;
    see the module docstring."""
    reports = [_validate_once(design, design.seed + offset) for offset in range(design.repeats)]
    report = _average(reports)
    report.update(_design(design, design.per_candidate or design.items))
    report["repeats"] = design.repeats
    report["runs"] = [
        {
            "seed": design.seed + offset,
            "accuracy": run["accuracy"],
            "oracle_accuracy": run["oracle"]["accuracy"],
            "cut": run["cut"],
            "calibration_r": run["calibration_r"],
        }
        for offset, run in enumerate(reports)
    ]
    return report


def _average(reports: list):
    first = reports[0]
    if isinstance(first, dict):
        return {key: _average([report[key] for report in reports]) for key in first}
    if first is None or isinstance(first, str):
        return first
    return round(float(np.mean(reports)), 4)


def _validate_once(design: Design, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, design.candidates)
    if (design.per_candidate or design.items) < design.items:
        return _validate_sparse(design, theta, rng)
    form_a = items_generate(design.generator, design.items, rng)
    form_b = form_a.shifted(FORM_SHIFT)
    both = irt.Items(*(np.concatenate([getattr(form_a, n), getattr(form_b, n)]) for n in ("a", "b", "c")))
    uniforms = rng.random((design.candidates, design.items))
    x = np.hstack([responses_simulate(theta, form_a, rng, uniforms), responses_simulate(theta, form_b, rng, uniforms)])
    labels, ratings = authored(both, design.cut, rng)
    floor = calibration.guessing_floor("single", options=4)
    estimated, fit = platform_items(x, np.ones_like(x), labels, ratings, floor)
    k = design.items
    est_a, est_b = estimated.take(slice(0, k)), estimated.take(slice(k, None))
    panel = panel_ratings(form_a, design.cut, rng).mean(axis=0)
    cut_platform = irt.cut_theta(est_a, panel)

    # Scoring is repeated on fresh responses of the same candidates (the first set is the calibration's), so the
    # figures by band measure the pipeline, not the dice.
    samples = [(x[:, :k], x[:, k:])]
    for _ in range(SCORING_REPLICATIONS - 1):
        fresh = rng.random((design.candidates, k))
        samples.append((responses_simulate(theta, form_a, rng, fresh), responses_simulate(theta, form_b, rng, fresh)))
    truth = np.tile(theta, len(samples))

    quota = largest_remainder(k, dict(enumerate(DOMAIN_WEIGHTS)))
    domains = np.repeat(np.arange(len(DOMAIN_WEIGHTS)), [quota[d] for d in range(len(DOMAIN_WEIGHTS))])

    def run(items_a: irt.Items, items_b: irt.Items, cut: float) -> dict:
        scale = irt.Scale(cut=cut)
        theta_a = np.concatenate([irt.eap_many(sample_a, items_a)[0] for sample_a, _ in samples])
        theta_b = np.concatenate([irt.eap_many(sample_b, items_b)[0] for _, sample_b in samples])
        report = _outcome(truth, theta_a, design.cut, cut)
        report["form_gap_by_band"] = _by_band(truth, scale.scaled_many(theta_b) - scale.scaled_many(theta_a))
        report["domain_labels"] = _domain_labels(
            samples[0][0], items=items_a, domains=domains, theta=theta, cut_true=design.cut, cut=cut
        )
        return report

    report = run(est_a, est_b, cut_platform)
    report["cut"] = {"true": design.cut, "platform": round(cut_platform, 4)}
    report["calibration_r"] = round(float(np.corrcoef(both.b, fit.b)[0, 1]), 4)
    report["oracle"] = run(form_a, form_b, design.cut)
    return report


# Domain weights of a full mock (MLA-C01: 28, 26, 22, 24 percent); the scored items are split by them.
DOMAIN_WEIGHTS = (0.28, 0.26, 0.22, 0.24)


def _domain_labels(
    x: np.ndarray, *, items: irt.Items, domains: np.ndarray, theta: np.ndarray, cut_true: float, cut: float
) -> dict:
    """Per-domain labels of a full mock, as the score report gives them (``irt.subscores``, ``irt.classify``):
    the share of labels that say "not enough evidence", and the share of the others on the wrong side of the true
    cut (the generator gives every domain the candidate's overall ability)."""
    unsure, wrong, decided = 0, 0, 0
    for domain in np.unique(domains):
        sub, sub_se = irt.subscores(x, items, domains == domain)
        labels, _ = irt.classify(sub, sub_se, cut)
        unsure += int(np.sum(labels == "unsure"))
        meets, needs = labels == "meets", labels == "needs"
        decided += int(meets.sum() + needs.sum())
        wrong += int(np.sum(meets & (theta < cut_true)) + np.sum(needs & (theta >= cut_true)))
    total = len(theta) * len(np.unique(domains))
    return {"unsure": round(unsure / total, 4), "wrong_of_decided": round(wrong / max(decided, 1), 4)}


def _validate_sparse(design: Design, theta: np.ndarray, rng: np.random.Generator) -> dict:
    """Each candidate sees ``per_candidate`` random items of the bank: how well does calibration recover b, and
    how well are the candidates scored on the items they saw?"""
    bank = items_generate(design.generator, design.items, rng)
    answered = np.zeros((design.candidates, design.items), dtype=bool)
    for row in answered:
        row[rng.choice(design.items, design.per_candidate, replace=False)] = True
    x = responses_simulate(theta, bank, rng) * answered
    labels, ratings = authored(bank, design.cut, rng)
    floor = calibration.guessing_floor("single", options=4)
    estimated, fit = platform_items(x, answered, labels, ratings, floor)
    cut_platform = irt.cut_theta(estimated, panel_ratings(bank, design.cut, rng).mean(axis=0))
    theta_hat, _ = irt.eap_many(x, estimated, answered=answered)
    oracle, _ = irt.eap_many(x, bank, answered=answered)
    report = _outcome(theta, theta_hat, design.cut, cut_platform)
    report["form_gap_by_band"] = None  # forms are random here; see the dense design
    report["domain_labels"] = None
    report["cut"] = {"true": design.cut, "platform": round(cut_platform, 4)}
    report["calibration_r"] = round(float(np.corrcoef(bank.b, fit.b)[0, 1]), 4)
    report["calibrated_items"] = int(fit.fitted.sum())
    report["oracle"] = _outcome(theta, oracle, design.cut, design.cut)
    report["oracle"]["form_gap_by_band"] = None
    report["oracle"]["domain_labels"] = None
    return report


def _design(design: Design, per: int) -> dict:
    return {
        "generator": design.generator,
        "candidates": design.candidates,
        "items": design.items,
        "per_candidate": per,
        "seed": design.seed,
    }


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
