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
from apps.questions.selectors import questions_of_exam
from apps.scoring import irt, statistics
from apps.scoring.models import AttemptResult, ExamReliability, ItemParameter, ItemStatistic
from apps.scoring.services import UNSCORED_AFTER
from apps.syllabus.models import Exam

logger = logging.getLogger(__name__)
MIN_CALIBRATION_RESPONSES = 200


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
                logger.warning("answers without choices", extra={"question": question_id, "responses": unreadable})
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
