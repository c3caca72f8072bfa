"""Item statistics and calibration over many attempts: the instructors' view of which items work."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.exams.models import Attempt, AttemptItem, AttemptMode, AttemptState
from apps.questions.models import Choice, Question, QuestionType
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.scoring import calibration, statistics
from apps.scoring.models import AttemptResult, CalibrationRun, ExamReliability, ItemParameter, ItemStatistic
from apps.scoring.services import UNSCORED_AFTER, exam_cut_forget, item_features, question_floor
from apps.syllabus.models import Exam

logger = logging.getLogger(__name__)
# An item's own parameters are stored from this many responses; below it scoring uses the bank's difficulty
# prior for it (with the prior's spread carried into scoring). The estimates themselves are Bayesian: with few
# responses they lean on the prior, so the threshold only keeps very thin evidence out of the table.
MIN_CALIBRATION_RESPONSES = 30


def _first_mocks() -> dict[int, tuple[int, int]]:
    """Each candidate's first scored mock of each exam version, as attempt id → (candidate id, exam id): later
    attempts carry practice effects (the candidate has seen the items), not item quality."""
    first: dict[int, tuple[int, int]] = {}
    seen: set[tuple[int, int]] = set()
    rows = (
        Attempt.objects.filter(mode=AttemptMode.MOCK, state=AttemptState.SCORED)
        .order_by("candidate_id", "exam_id", "started_at", "pk")
        .values_list("pk", "candidate_id", "exam_id")
    )
    for attempt_id, candidate_id, exam_id in rows:
        if (candidate_id, exam_id) not in seen:
            seen.add((candidate_id, exam_id))
            first[attempt_id] = (candidate_id, exam_id)
    return first


def _chosen(answer: object) -> set[int]:
    """The option ids of a stored single- or multiple-answer item: ``{"choices": [id, ...]}`` (see marking)."""
    if not isinstance(answer, dict):
        return set()
    return {value for value in answer.get("choices") or [] if isinstance(value, int)}


@dataclass(frozen=True)
class _Response:
    attempt_id: int
    correct: int
    answer: dict | None
    scored: bool


def _option_rows(
    choices: list[Choice], responses: list[_Response], rest: np.ndarray
) -> tuple[list[dict[str, Any]], bool]:
    """Per option: how many chose it (of all responses), its share and point-biserial with the rest score, and
    what is wrong with it as a distractor. Returns the rows and whether any distractor does not work."""
    n = len(responses)
    chosen_sets = [_chosen(r.answer) for r in responses]
    rows = []
    weak = False
    for choice in choices:
        picked = np.array([int(choice.pk in chosen) for chosen in chosen_sets])
        share, point_biserial = statistics.option_analysis(picked, rest)
        count = int(picked.sum())
        problem = (
            None
            if choice.is_correct
            else statistics.distractor_problem(chosen=count, responses=n, point_biserial=point_biserial)
        )
        weak |= problem is not None
        rows.append(
            {
                "text": choice.text[:120],
                "correct": choice.is_correct,
                "chosen": count,
                "share": round(share, 4),
                "point_biserial": None if point_biserial is None else round(point_biserial, 4),
                "problem": problem,
            }
        )
    return rows, weak


@transaction.atomic
def item_statistics_compute(*, exam: Exam) -> int:
    """Facility, discrimination, efficiency, option shares and point-biserials, flags, and test reliability.

    Responses: each candidate's first scored mock that delivered the item. An item carried over to a later version
    is one item whichever version delivered it, so its statistics pool the first mocks of every version (a
    candidate counts once per item: the earliest such mock), and those computed for one version never overwrite
    another's. Facility, option shares and every flag share that one denominator. Reliability is the version's
    own. Returns the number of items analysed.
    """
    first = _first_mocks()
    started = dict(Attempt.objects.filter(pk__in=first).values_list("pk", "started_at"))
    usable = set(questions_of_exam(exam=exam).values_list("pk", flat=True))
    rows = list(
        AttemptItem.objects.filter(attempt_id__in=first).values_list(
            "attempt_id", "question_id", "is_correct", "answer", "scored"
        )
    )
    totals: dict[int, int] = defaultdict(int)
    for attempt_id, _, correct, _, scored in rows:
        if scored:
            totals[attempt_id] += bool(correct)
    # One response per candidate and item: the earliest first mock (of any version) that delivered it.
    by_question: dict[int, dict[int, _Response]] = defaultdict(dict)
    for attempt_id, question_id, correct, answer, scored in sorted(rows, key=lambda row: started[row[0]]):
        if question_id in usable:
            candidate_id = first[attempt_id][0]
            by_question[question_id].setdefault(candidate_id, _Response(attempt_id, int(bool(correct)), answer, scored))

    choices: dict[int, list[Choice]] = defaultdict(list)
    for choice in Choice.objects.filter(question_id__in=by_question).order_by("order", "pk"):
        choices[choice.question_id].append(choice)
    kinds = dict(Question.objects.filter(pk__in=by_question).values_list("pk", "type"))
    codes = dict(Exam.objects.values_list("pk", "code"))

    statistics_rows = []
    unreadable_items: list[int] = []
    for question_id, per_candidate in by_question.items():
        responses = list(per_candidate.values())
        x = np.array([r.correct for r in responses])
        rest = np.array([totals[r.attempt_id] - (r.correct if r.scored else 0) for r in responses])
        analysis = statistics.item_analysis(x, rest)
        flags = statistics.item_flags(
            responses=len(x), facility=analysis.facility, discrimination=analysis.discrimination
        )
        options: list[dict[str, Any]] = []
        weak = False
        if kinds[question_id] in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            unreadable = sum(bool(r.answer) and "choices" not in r.answer for r in responses)
            if unreadable:  # shares would read as "chosen by nobody" next to a facility taken from is_correct
                unreadable_items.append(question_id)
            else:
                options, weak = _option_rows(choices[question_id], responses, rest)
        statistics_rows.append(
            ItemStatistic(
                question_id=question_id,
                responses=len(x),
                correct=int(x.sum()),
                unanswered=sum(not r.answer for r in responses),
                versions=sorted({codes[first[r.attempt_id][1]] for r in responses}),
                facility=analysis.facility,
                discrimination=analysis.discrimination,
                efficiency=analysis.efficiency,
                options=options,
                flag_miskey=flags.miskey,
                flag_too_easy=flags.too_easy,
                flag_too_hard=flags.too_hard,
                flag_weak_distractor=weak,
            )
        )
    ItemStatistic.objects.filter(question_id__in=by_question).delete()
    ItemStatistic.objects.bulk_create(statistics_rows)
    if unreadable_items:  # once per run: simulated or imported answers that do not record the choice
        logger.warning(
            "answers without choices: option table left out",
            extra={"exam": exam.pk, "items": len(unreadable_items), "first": unreadable_items[:10]},
        )
    _reliability_store(exam=exam, attempt_ids=[a for a, (_, e) in first.items() if e == exam.pk], rows=rows)
    return len(statistics_rows)


def _reliability_store(*, exam: Exam, attempt_ids: list[int], rows: list[tuple]) -> None:
    """KR-20 and SEM of the version's first mocks, over scored items only (pretest items are not in the total).

    Every candidate sees a different form, so Σ p q is that of the average form: Σ_i n_i p_i q_i / N, with p_i
    the facility of item i among the N attempts' scored responses (n_i of them), and k the mean number of scored
    items per attempt.
    """
    if not attempt_ids:
        return
    own = set(attempt_ids)
    totals: dict[int, int] = defaultdict(int)
    scored_per_attempt: dict[int, int] = defaultdict(int)
    right: dict[int, int] = defaultdict(int)
    seen: dict[int, int] = defaultdict(int)
    for attempt_id, question_id, correct, _, scored in rows:
        if scored and attempt_id in own:
            totals[attempt_id] += bool(correct)
            scored_per_attempt[attempt_id] += 1
            right[question_id] += bool(correct)
            seen[question_id] += 1
    scores = np.array([totals[a] for a in attempt_ids], dtype=float)
    k = round(float(np.mean([scored_per_attempt[a] for a in attempt_ids])))
    sum_pq = sum(n * (right[q] / n) * (1 - right[q] / n) for q, n in seen.items()) / len(attempt_ids)
    alpha = statistics.kr20(k, sum_pq / k if k else 0.0, float(scores.var()))
    sd = float(scores.std())
    ExamReliability.objects.update_or_create(
        exam=exam,
        defaults={
            "attempts": len(attempt_ids),
            "mean": float(scores.mean()),
            "sd": sd,
            "alpha": alpha,
            "sem": None if alpha is None else sd * float(np.sqrt(max(0.0, 1 - alpha))),
        },
    )


@transaction.atomic
def items_calibrate(*, exam: Exam, min_responses: int = MIN_CALIBRATION_RESPONSES) -> int:
    """Calibrate the 3PL parameters of the version's items from all its scored mock responses
    (``calibration.mml_calibrate``) and store those of items with at least ``min_responses``; record the run with
    the difficulty prior it learned, which scoring uses for every item not stored. Returns the number stored.

    MML fixes the scale by the calibration population (θ ~ N(0, 1)). When at least ten stored items are
    recalibrated, the new estimates are linked to the stored scale by mean-sigma over them
    (``A = σ(b_old)/σ(b_new)``, ``B = μ(b_old) - A·μ(b_new)``), so scores do not move because this month's
    candidates are stronger than last month's.
    """
    rows = list(
        AttemptItem.objects.filter(
            attempt__exam=exam,
            attempt__mode=AttemptMode.MOCK,
            attempt__state=AttemptState.SCORED,
            is_correct__isnull=False,
            scored=True,
        ).values_list("attempt_id", "question_id", "is_correct")
    )
    if not rows:
        return 0
    data = np.array(rows, dtype=np.int64)
    attempt_ids, persons = np.unique(data[:, 0], return_inverse=True)
    question_ids, items = np.unique(data[:, 1], return_inverse=True)
    answered = np.zeros((len(attempt_ids), len(question_ids)), dtype=bool)
    right = np.zeros_like(answered)
    answered[persons, items] = True
    right[persons, items] = data[:, 2].astype(bool)
    questions = questions_with_parts(Question.objects.filter(pk__in=question_ids.tolist()), objectives=False).in_bulk()
    ordered = [questions[int(pk)] for pk in question_ids]
    floors = np.array([question_floor(question) for question in ordered])
    features = np.array([item_features(question, floor) for question, floor in zip(ordered, floors, strict=True)])
    fit = calibration.mml_calibrate(right, answered, floors=floors, features=features, min_responses=min_responses)
    keep = fit.fitted & (fit.n >= min_responses)
    slope, shift = _link(question_ids, fit, keep)
    stored = 0
    for index in np.flatnonzero(keep):
        ItemParameter.objects.update_or_create(
            question_id=int(question_ids[index]),
            defaults={
                "a": float(fit.a[index] / slope),
                "b": float(slope * fit.b[index] + shift),
                "c": float(fit.c[index]),
                "b_se": float(slope * fit.b_se[index]),
                "responses": int(fit.n[index]),
            },
        )
        stored += 1
    CalibrationRun.objects.create(
        exam=exam,
        persons=fit.persons,
        responses=len(rows),
        items_fitted=int(fit.fitted.sum()),
        items_stored=stored,
        iterations=fit.iterations,
        prior_beta=[slope * value + (shift if index < 3 else 0.0) for index, value in enumerate(fit.prior.beta)],
        prior_tau=slope * fit.prior.tau,
    )
    transaction.on_commit(lambda: exam_cut_forget(exam_id=exam.pk))
    logger.info("items calibrated", extra={"exam": exam.pk, "stored": stored, "iterations": fit.iterations})
    return stored


def _link(question_ids: np.ndarray, fit: calibration.Calibration, keep: np.ndarray) -> tuple[float, float]:
    """Mean-sigma linking constants (A, B) onto the stored scale; (1, 0) with fewer than ten anchors."""
    stored = dict(ItemParameter.objects.filter(question_id__in=question_ids.tolist()).values_list("question_id", "b"))
    anchors = [index for index in np.flatnonzero(keep) if int(question_ids[index]) in stored]
    if len(anchors) < 10:
        return 1.0, 0.0
    old = np.array([stored[int(question_ids[index])] for index in anchors])
    new = fit.b[anchors]
    slope = float(np.std(old) / np.std(new)) if np.std(new) > 0 else 1.0
    return slope, float(np.mean(old) - slope * np.mean(new))


def attempts_unscored(*, older_than: timedelta = UNSCORED_AFTER, now=None) -> list[int]:
    """Submitted attempts still without a result after ``older_than``: their scoring message was lost."""
    now = now or timezone.now()
    return list(
        Attempt.objects.filter(state=AttemptState.SUBMITTED, submitted_at__lt=now - older_than)
        .exclude(pk__in=AttemptResult.objects.values("attempt_id"))
        .values_list("pk", flat=True)[:1000]
    )
