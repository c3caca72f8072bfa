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
from apps.questions.selectors import questions_of_exam
from apps.scoring import irt, statistics
from apps.scoring.models import AttemptResult, ExamReliability, ItemParameter, ItemStatistic
from apps.scoring.services import UNSCORED_AFTER
from apps.syllabus.models import Exam

logger = logging.getLogger(__name__)
MIN_CALIBRATION_RESPONSES = 200


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
    """Calibrate Rasch difficulties from all scored mock responses and store those with enough responses.

    The new difficulties are linked to the existing scale by a mean shift over anchor items that already have
    parameters (Rasch fixes the slope, so only the origin moves); with no anchors, over the authored-difficulty
    priors. Returns the number of items stored.
    """
    rows = np.array(
        list(
            AttemptItem.objects.filter(
                attempt__exam=exam,
                attempt__mode=AttemptMode.MOCK,
                attempt__state=AttemptState.SCORED,
                is_correct__isnull=False,
            ).values_list("attempt_id", "question_id", "is_correct")
        ),
        dtype=np.int64,
    ).reshape(-1, 3)
    if not len(rows):
        return 0
    person_ids, persons = np.unique(rows[:, 0], return_inverse=True)
    question_ids, items = np.unique(rows[:, 1], return_inverse=True)
    calibration = irt.rasch_calibrate(persons, items, rows[:, 2], n_persons=len(person_ids), n_items=len(question_ids))
    existing = dict(ItemParameter.objects.filter(question_id__in=question_ids.tolist()).values_list("question_id", "b"))
    difficulty = dict(Question.objects.filter(pk__in=question_ids.tolist()).values_list("pk", "difficulty"))
    anchors = [i for i, q in enumerate(question_ids) if int(q) in existing]
    if len(anchors) >= 5:
        shift = float(np.mean([existing[int(question_ids[i])] for i in anchors]) - np.mean(calibration.b[anchors]))
    else:
        priors = [irt.DIFFICULTY_PRIOR.get(difficulty[int(q)], 0.0) for q in question_ids]
        shift = float(np.mean(priors) - np.mean(calibration.b))
    stored = 0
    for index, question_id in enumerate(question_ids.tolist()):
        if calibration.n[index] < min_responses:
            continue
        ItemParameter.objects.update_or_create(
            question_id=question_id,
            defaults={
                "b": float(calibration.b[index] + shift),
                "b_se": float(calibration.b_se[index]),
                "responses": int(calibration.n[index]),
            },
        )
        stored += 1
    logger.info("items calibrated", extra={"exam": exam.pk, "stored": stored, "iterations": calibration.iterations})
    return stored


def attempts_unscored(*, older_than: timedelta = UNSCORED_AFTER, now=None) -> list[int]:
    """Submitted attempts still without a result after ``older_than``: their scoring message was lost."""
    now = now or timezone.now()
    return list(
        Attempt.objects.filter(state=AttemptState.SUBMITTED, submitted_at__lt=now - older_than)
        .exclude(pk__in=AttemptResult.objects.values("attempt_id"))
        .values_list("pk", flat=True)[:1000]
    )
