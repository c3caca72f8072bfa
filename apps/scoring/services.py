"""Scoring an attempt: mark items 0/1, estimate ability (Rasch EAP), map to the 100-1000 scale, and report
per domain and task with honest intervals."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Q, Value
from django.utils import timezone

from apps.core.enqueue import enqueue_on_commit
from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.scoring import irt
from apps.scoring.marking import answer_is_correct
from apps.scoring.models import AttemptResult, Classification, ItemParameter
from apps.scoring.signals import attempt_scored
from apps.syllabus.models import Exam, Task

logger = logging.getLogger(__name__)
# A submitted attempt still without a result after this has lost its scoring (a lost message, a failed run).
UNSCORED_AFTER = timedelta(seconds=60)
REQUEUE_EVERY = timedelta(seconds=60)


def item_difficulty(question: Question, calibrated: dict[int, float] | None = None) -> float:
    """The item's b on the logit scale: its calibration when there is one, else the prior of its difficulty."""
    if calibrated and question.pk in calibrated:
        return calibrated[question.pk]
    return irt.DIFFICULTY_PRIOR.get(question.difficulty, 0.0)


_FROZEN: dict[int, Question] = {}
_FROZEN_MAX = 5000


def frozen_questions(ids: list[int]) -> dict[int, Question]:
    """Questions with their parts, kept in this process once frozen: a published, pretest or retired version
    never changes, so a worker loads each one once instead of four queries per scored attempt."""
    missing = [pk for pk in ids if pk not in _FROZEN]
    loaded = questions_with_parts(objectives=False).in_bulk(missing) if missing else {}
    if len(_FROZEN) + len(loaded) > _FROZEN_MAX:
        _FROZEN.clear()
    for pk, question in loaded.items():
        if question.is_locked:
            _FROZEN[pk] = question
    return {pk: _FROZEN.get(pk) or loaded[pk] for pk in ids}


def item_angoff(question: Question) -> float:
    return question.angoff if question.angoff is not None else irt.ANGOFF_DEFAULT.get(question.difficulty, 0.65)


_CALIBRATED_LOCAL: dict[int, tuple[dict[int, float], float]] = {}
_CUT_LOCAL: dict[int, tuple[float, float]] = {}


_TASKS_LOCAL: dict[int, tuple[dict[int, Task], float]] = {}


def exam_tasks(*, exam: Exam) -> dict[int, Task]:
    """The version's tasks by id, with their domains, kept a minute in each worker (syllabi change rarely)."""
    local = _TASKS_LOCAL.get(exam.pk)
    if local is not None and time.monotonic() - local[1] < CUT_LOCAL_SECONDS:
        return local[0]
    tasks = Task.objects.filter(domain__exam=exam).select_related("domain").in_bulk()
    _TASKS_LOCAL[exam.pk] = (tasks, time.monotonic())
    return tasks


def calibrated_difficulties(*, exam: Exam) -> dict[int, float]:
    """Calibrated b per question id, read once a minute per worker (calibration runs daily)."""
    local = _CALIBRATED_LOCAL.get(exam.pk)
    if local is not None and time.monotonic() - local[1] < CUT_LOCAL_SECONDS:
        return local[0]
    values = dict(
        ItemParameter.objects.filter(question__in=questions_of_exam(exam=exam)).values_list("question_id", "b")
    )
    _CALIBRATED_LOCAL[exam.pk] = (values, time.monotonic())
    return values


CUT_LOCAL_SECONDS = 60


def exam_cut_theta(*, exam: Exam) -> float:
    """θ_c of the version: the latest adopted standard-setting panel's (re-solved on its base form with the
    current item parameters), else the provisional cut from the authors' Angoff ratings of the published items.
    Cached until a panel is adopted, the bank or a calibration changes (and for a minute in each worker, so
    scoring a burst of attempts does not re-check the bank each time)."""
    local = _CUT_LOCAL.get(exam.pk)
    if local is not None and time.monotonic() - local[1] < CUT_LOCAL_SECONDS:
        return local[0]
    value = _exam_cut_theta(exam)
    _CUT_LOCAL[exam.pk] = (value, time.monotonic())
    return value


def exam_cut_forget(*, exam_id: int) -> None:
    """Drop this worker's minute-long copy of the version's cut (after a panel is adopted here)."""
    _CUT_LOCAL.pop(exam_id, None)


def _exam_cut_theta(exam: Exam) -> float:
    from apps.scoring.standards import latest_cut, panel_cut_theta  # standards builds on this module

    cut = latest_cut(exam=exam)
    if cut is not None:
        return panel_cut_theta(cut=cut)
    return provisional_cut_theta(exam=exam)


def provisional_cut_theta(*, exam: Exam) -> float:
    """The provisional seed cut: authors' Angoff ratings (or the defaults by difficulty) of the published items,
    ``Σ P_i(θ_c) = Σ p_i`` over the bank."""
    published = questions_of_exam(exam=exam).filter(status=QuestionStatus.PUBLISHED)
    version = published.aggregate(n=Count("id"), changed=Max("updated_at"), calibrated=Max("irt__calibrated_at"))
    stamps = [version["changed"], version["calibrated"]]
    key = f"scoring:cut:{exam.pk}:{version['n']}:" + ":".join(str(s.timestamp()) if s else "0" for s in stamps)
    cached = cache.get(key)
    if cached is not None:
        return cached
    rows = list(published.values_list("difficulty", "angoff", "updated_at", "irt__b", "irt__calibrated_at"))
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
class Tally:
    correct: int = 0
    total: int = 0
    target_sum: float = 0.0


def breakdown_report(rows: dict[tuple, Tally]) -> list[dict]:
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
        # of=("self",): lock the attempt only. A plain FOR UPDATE would lock the joined exam row too, and every
        # scoring of that exam would then wait for the one before it.
        attempt = Attempt.objects.select_for_update(of=("self",)).select_related("exam").filter(pk=attempt_id).first()
        if attempt is None or attempt.state not in (AttemptState.SUBMITTED, AttemptState.SCORED):
            return None
        if attempt.state == AttemptState.SCORED:  # set together with the result, in this same transaction
            return AttemptResult.objects.filter(attempt=attempt).first()
        items = list(
            AttemptItem.objects.filter(attempt=attempt).values_list("pk", "question_id", "task_id", "answer", "scored")
        )
        questions = frozen_questions([question_id for _, question_id, _, _, _ in items])
        calibrated = calibrated_difficulties(exam=attempt.exam)
        blueprint = exam_tasks(exam=attempt.exam)
        responses, difficulties, right, outcomes = [], [], [], []
        domains: dict[tuple, Tally] = defaultdict(Tally)
        tasks: dict[tuple, Tally] = defaultdict(Tally)
        for pk, question_id, task_id, answer, scored in items:
            question = questions[question_id]
            correct = answer_is_correct(question, answer)
            if correct:
                right.append(pk)
            outcomes.append((question.family, correct))
            if not scored:
                continue
            responses.append(1 if correct else 0)
            difficulties.append(item_difficulty(question, calibrated))
            task = blueprint[task_id]  # the item's task in the attempt's version
            for tally, key in (
                (domains, (task.domain.number, task.domain.title)),
                (tasks, (task.code, task.title)),
            ):
                tally[key].correct += correct
                tally[key].total += 1
                tally[key].target_sum += item_angoff(question)
        # One statement rather than a 65-branch CASE update. With nothing right, Django turns "pk IN ()" into
        # NULL (neither right nor wrong, so "show wrong" would list nothing): every item is False then.
        marked = ExpressionWrapper(Q(pk__in=right), output_field=BooleanField()) if right else Value(False)
        AttemptItem.objects.filter(attempt=attempt).update(is_correct=marked)
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
            by_domain=breakdown_report(domains),
            by_task=breakdown_report(tasks),
            time_used_seconds=max(0, int((ended - attempt.started_at).total_seconds())),
        )
        Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SCORED)
        from apps.scoring.progress import review_cards_update  # progress builds on this module

        review_cards_update(candidate_id=attempt.candidate_id, outcomes=outcomes)
        transaction.on_commit(
            lambda: attempt_scored.send(
                sender=AttemptResult,
                attempt_id=attempt_id,
                candidate_id=attempt.candidate_id,
                exam_id=attempt.exam_id,
            )
        )
    logger.info("attempt scored", extra={"attempt": attempt_id, "scaled": scaled})
    return result


def attempt_score_recover(
    *, attempt: Attempt, now: datetime | None = None, requeue_every: timedelta = REQUEUE_EVERY
) -> AttemptResult | None:
    """Score again a submitted attempt that has no result yet, for the results page that waits for it.

    Without a broker (tasks run in-process) it is scored here and now, and its result returned: the run after
    submit may have failed (SQLite busy past its timeout). With a broker, scoring is re-queued once the attempt
    has waited over ``UNSCORED_AFTER``, at most once per ``requeue_every`` for each attempt however many pages
    poll, and None returned. ``attempt_score_compute`` claims the attempt, so a duplicate costs nothing.
    """
    if attempt.state != AttemptState.SUBMITTED:
        return None
    from apps.scoring.tasks import attempt_score  # the tasks module builds on this one

    if attempt_score.app.conf.task_always_eager:
        try:
            return attempt_score_compute(attempt_id=attempt.pk)
        except DatabaseError:
            logger.warning(
                "attempt scoring failed, retried on the next poll", extra={"attempt": attempt.pk}, exc_info=True
            )
            return None
    now = now or timezone.now()
    waited = attempt.submitted_at is None or now - attempt.submitted_at > UNSCORED_AFTER
    if waited and cache.add(f"scoring:requeue:{attempt.pk}", 1, timeout=requeue_every.total_seconds()):
        logger.info("attempt scoring re-queued", extra={"attempt": attempt.pk})
        enqueue_on_commit(attempt_score, attempt.pk)
    return None
