"""Scoring an attempt: mark items 0/1, estimate ability (Rasch EAP), map to the 100-1000 scale, and report
per domain and task with honest intervals."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db import transaction

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import questions_with_parts
from apps.scoring import irt
from apps.scoring.marking import answer_is_correct
from apps.scoring.models import AttemptResult, Classification, ItemParameter
from apps.syllabus.models import Exam

logger = logging.getLogger(__name__)


def item_difficulty(question: Question, calibrated: dict[int, float] | None = None) -> float:
    """The item's b on the logit scale: its calibration when there is one, else the prior of its difficulty."""
    if calibrated and question.pk in calibrated:
        return calibrated[question.pk]
    return irt.DIFFICULTY_PRIOR.get(question.difficulty, 0.0)


def item_angoff(question: Question) -> float:
    return question.angoff if question.angoff is not None else irt.ANGOFF_DEFAULT.get(question.difficulty, 0.65)


def exam_cut_theta(*, exam: Exam) -> float:
    """θ_c from the Angoff ratings of the exam's published items, cached until the bank changes."""
    rows = list(
        Question.objects.filter(task__domain__exam=exam, status=QuestionStatus.PUBLISHED).values_list(
            "difficulty", "angoff", "updated_at", "irt__b", "irt__calibrated_at"
        )
    )
    stamps = [stamp for row in rows for stamp in (row[2], row[4]) if stamp is not None]
    latest = max(stamps, default=None)
    key = f"scoring:cut:{exam.pk}:{len(rows)}:{latest.timestamp() if latest else 0}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    if not rows:
        return 0.0
    b = np.array(
        [calibrated if calibrated is not None else irt.DIFFICULTY_PRIOR.get(d, 0.0) for d, _, _, calibrated, _ in rows]
    )
    p = np.array([a if a is not None else irt.ANGOFF_DEFAULT.get(d, 0.65) for d, a, _, _, _ in rows])
    value = irt.cut_theta(b, p)
    cache.set(key, value, 3600)
    return value


def classify(correct: int, total: int, target: float) -> tuple[str, float, float]:
    """Meets only when the 95% interval's lower bound clears the target; needs improvement only when its upper
    bound is below it; otherwise there is not enough evidence yet."""
    low, high = irt.wilson_interval(correct, total)
    if total and low >= target:
        return Classification.MEETS, low, high
    if total and high < target:
        return Classification.NEEDS, low, high
    return Classification.UNSURE, low, high


@dataclass
class _Tally:
    correct: int = 0
    total: int = 0
    target_sum: float = 0.0


def _breakdown(rows: dict[tuple, _Tally]) -> list[dict]:
    report = []
    for (code, title), tally in sorted(rows.items(), key=lambda kv: [int(p) for p in str(kv[0][0]).split(".")]):
        target = tally.target_sum / tally.total if tally.total else 0.0
        label, low, high = classify(tally.correct, tally.total, target)
        report.append(
            {
                "code": str(code),
                "title": title,
                "correct": tally.correct,
                "total": tally.total,
                "percent": round(100 * tally.correct / tally.total) if tally.total else 0,
                "low": round(100 * low),
                "high": round(100 * high),
                "target": round(100 * target),
                "classification": label,
            }
        )
    return report


def attempt_score_compute(*, attempt_id: int) -> AttemptResult | None:
    """Score a submitted attempt exactly once; running it again, or twice at the same time, changes nothing."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().select_related("exam").filter(pk=attempt_id).first()
        if attempt is None or attempt.state not in (AttemptState.SUBMITTED, AttemptState.SCORED):
            return None
        existing = AttemptResult.objects.filter(attempt=attempt).first()
        if existing is not None:
            return existing
        items = list(AttemptItem.objects.filter(attempt=attempt).order_by("position"))
        questions = questions_with_parts(objectives=False).in_bulk([item.question_id for item in items])
        calibrated = dict(ItemParameter.objects.filter(question_id__in=questions).values_list("question_id", "b"))
        responses, difficulties = [], []
        domains: dict[tuple, _Tally] = defaultdict(_Tally)
        tasks: dict[tuple, _Tally] = defaultdict(_Tally)
        for item in items:
            question = questions[item.question_id]
            item.is_correct = answer_is_correct(question, item.answer)
            if not item.scored:
                continue
            responses.append(1 if item.is_correct else 0)
            difficulties.append(item_difficulty(question, calibrated))
            for tally, key in (
                (domains, (question.task.domain.number, question.task.domain.title)),
                (tasks, (question.task.code, question.task.title)),
            ):
                tally[key].correct += item.is_correct
                tally[key].total += 1
                tally[key].target_sum += item_angoff(question)
        AttemptItem.objects.bulk_update(items, ["is_correct"])
        cut = exam_cut_theta(exam=attempt.exam)
        estimate = irt.eap(np.array(responses), np.array(difficulties)) if responses else irt.AbilityEstimate(0, 1)
        scale = irt.Scale(
            cut=cut, low=attempt.exam.scale_min, high=attempt.exam.scale_max, passing=attempt.exam.passing_score
        )
        scaled = scale.scaled(estimate.theta)
        ended = attempt.submitted_at or attempt.started_at
        result = AttemptResult.objects.create(
            attempt=attempt,
            raw_correct=sum(responses),
            raw_scored=len(responses),
            theta=estimate.theta,
            theta_se=estimate.se,
            cut_theta=cut,
            scaled_score=scaled,
            passed=scaled >= attempt.exam.passing_score,
            pass_probability=irt.pass_probability(estimate.theta, estimate.se, cut),
            by_domain=_breakdown(domains),
            by_task=_breakdown(tasks),
            time_used_seconds=max(0, int((ended - attempt.started_at).total_seconds())),
        )
        Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SCORED)
        from apps.scoring.progress import review_cards_update  # progress builds on this module

        review_cards_update(attempt=attempt)
    logger.info("attempt scored", extra={"attempt": attempt_id, "scaled": scaled})
    return result
