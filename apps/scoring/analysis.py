"""Item statistics and calibration over many attempts: the instructors' view of which items work."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.exams.models import Attempt, AttemptItem, AttemptMode, AttemptState
from apps.questions.models import Choice, Question, QuestionType
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.scoring import calibration, statistics
from apps.scoring.models import AttemptResult, CalibrationRun, ExamReliability, ItemParameter, ItemStatistic
from apps.scoring.services import UNSCORED_AFTER, item_features, question_floor
from apps.syllabus.models import Exam

logger = logging.getLogger(__name__)
# An item's own parameters are stored from this many responses; below it scoring uses the bank's difficulty
# prior for it (with the prior's spread carried into scoring). The estimates themselves are Bayesian: with few
# responses they lean on the prior, so the threshold only keeps very thin evidence out of the table.
MIN_CALIBRATION_RESPONSES = 30


def _first_mock_attempts(exam: Exam) -> list[int]:
    """Each candidate's first scored mock: later attempts are practice effects, not item quality."""
    first: dict[int, int] = {}
    rows = (
        Attempt.objects.filter(exam=exam, mode=AttemptMode.MOCK, state=AttemptState.SCORED)
        .order_by("candidate_id", "started_at")
        .values_list("candidate_id", "pk")
    )
    for candidate_id, attempt_id in rows:
        first.setdefault(candidate_id, attempt_id)
    return list(first.values())


@transaction.atomic
def item_statistics_compute(*, exam: Exam) -> int:
    """Facility, discrimination, efficiency, option shares and point-biserials, flags, and test reliability.

    Returns the number of items analysed.
    """
    attempt_ids = _first_mock_attempts(exam)
    # An item carried over to a later version is one item whichever version delivered it: its statistics pool the
    # first mocks of every version, so those computed for one version never overwrite another's. Reliability is
    # the version's own.
    pooled = set(attempt_ids)
    for other in Exam.objects.exclude(pk=exam.pk):
        pooled.update(_first_mock_attempts(other))
    usable = set(questions_of_exam(exam=exam).values_list("pk", flat=True))
    rows = list(
        AttemptItem.objects.filter(attempt_id__in=pooled).values_list(
            "attempt_id", "question_id", "is_correct", "answer", "scored"
        )
    )
    totals: dict[int, int] = defaultdict(int)
    scored_per_attempt: dict[int, int] = defaultdict(int)
    for attempt_id, _, correct, _, scored in rows:
        if scored:
            totals[attempt_id] += bool(correct)
            scored_per_attempt[attempt_id] += 1
    by_question: dict[int, list[tuple[int, int, dict | None, bool]]] = defaultdict(list)
    for attempt_id, question_id, correct, answer, scored in rows:
        if question_id in usable:
            by_question[question_id].append((attempt_id, int(bool(correct)), answer, scored))

    choices: dict[int, list[Choice]] = defaultdict(list)
    for choice in Choice.objects.filter(question_id__in=by_question).order_by("order", "pk"):
        choices[choice.question_id].append(choice)
    kinds = dict(Question.objects.filter(pk__in=by_question).values_list("pk", "type"))

    statistics_rows = []
    for question_id, responses in by_question.items():
        x = np.array([r[1] for r in responses])
        total = np.array([totals[r[0]] for r in responses])
        rest = total - np.array([r[1] if r[3] else 0 for r in responses])
        analysis = statistics.item_analysis(x, rest)
        options = []
        weak = False
        if kinds[question_id] in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            for choice in choices[question_id]:
                picked = np.array([int(choice.pk in ((r[2] or {}).get("choices") or [])) for r in responses])
                share, point_biserial = statistics.option_analysis(picked, rest)
                options.append(
                    {
                        "text": choice.text[:120],
                        "correct": choice.is_correct,
                        "share": round(share, 4),
                        "point_biserial": None if point_biserial is None else round(point_biserial, 4),
                    }
                )
                weak |= (not choice.is_correct) and len(x) >= 20 and share < statistics.WEAK_DISTRACTOR_BELOW
        statistics_rows.append(
            ItemStatistic(
                question_id=question_id,
                responses=len(x),
                facility=analysis.facility,
                discrimination=analysis.discrimination,
                efficiency=analysis.efficiency,
                options=options,
                flag_miskey=analysis.discrimination is not None and analysis.discrimination < statistics.MISKEY_BELOW,
                flag_too_easy=analysis.facility > statistics.TOO_EASY_ABOVE,
                flag_too_hard=analysis.facility < statistics.TOO_HARD_BELOW,
                flag_weak_distractor=weak,
            )
        )
    ItemStatistic.objects.filter(question_id__in=by_question).delete()
    ItemStatistic.objects.bulk_create(statistics_rows)

    if attempt_ids:
        scores = np.array([totals[a] for a in attempt_ids], dtype=float)
        k = round(float(np.mean([scored_per_attempt[a] for a in attempt_ids])))
        facilities = [row.facility for row in statistics_rows]
        mean_pq = float(np.mean([f * (1 - f) for f in facilities])) if facilities else 0.0
        alpha = statistics.kr20(k, mean_pq, float(scores.var()))
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
    return len(statistics_rows)


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
