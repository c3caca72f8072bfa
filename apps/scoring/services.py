"""Scoring an attempt: mark items 0/1, estimate ability (3PL EAP), map to the 100-1000 scale, and report
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
from apps.scoring import calibration, irt
from apps.scoring.marking import answer_is_correct
from apps.scoring.models import AttemptResult, CalibrationRun, Classification, ItemParameter
from apps.scoring.signals import attempt_scored
from apps.syllabus.models import Exam, Task

logger = logging.getLogger(__name__)
# A submitted attempt still without a result after this has lost its scoring (a lost message, a failed run).
UNSCORED_AFTER = timedelta(seconds=60)
SCORING_METHOD = "3pl-eap"
REQUEUE_EVERY = timedelta(seconds=60)


def question_floor(question: Question) -> float:
    """The prior centre of the item's guessing floor c, from its type and parts (prefetched parts cost nothing)."""
    if question.type in ("single", "multiple"):
        choices = list(question.choices.all())
        return calibration.guessing_floor(question.type, len(choices), sum(choice.is_correct for choice in choices))
    parts = question.steps.all() if question.type == "ordering" else question.pairs.all()
    return calibration.guessing_floor(question.type, len(parts))


def item_features(question: Question, floor: float) -> list[float]:
    return calibration.prior_features(question.difficulty, question.angoff, floor)


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


_CALIBRATED_LOCAL: dict[int, tuple[ItemModel, float]] = {}
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


@dataclass(frozen=True)
class ItemModel:
    """What scoring knows about a version's items: calibrated (a, b, c, SE of b) by question id, and the
    difficulty prior for the others."""

    calibrated: dict[int, tuple[float, float, float, float]]
    prior: calibration.PriorModel

    def items(self, questions: list[Question]) -> irt.Items:
        """The items as scoring uses them: a calibrated item with its estimates; any other with a = 1, b from
        the prior (its label and author rating), c at its floor. The uncertainty of b flattens the slope."""
        a, b, c, b_sd = [], [], [], []
        for question in questions:
            known = self.calibrated.get(question.pk)
            if known is None:
                floor = question_floor(question)
                known = (1.0, float(self.prior.mean(item_features(question, floor))[0]), floor, self.prior.tau)
            a.append(known[0])
            b.append(known[1])
            c.append(known[2])
            b_sd.append(known[3])
        return irt.Items(irt.uncertain_slope(np.array(a), np.array(b_sd)), np.array(b), np.array(c))


def item_model(*, exam: Exam) -> ItemModel:
    """The version's item model, read once a minute per worker (calibration runs daily)."""
    local = _CALIBRATED_LOCAL.get(exam.pk)
    if local is not None and time.monotonic() - local[1] < CUT_LOCAL_SECONDS:
        return local[0]
    calibrated = {
        pk: (a, b, c, b_se)
        for pk, a, b, c, b_se in ItemParameter.objects.filter(question__in=questions_of_exam(exam=exam)).values_list(
            "question_id", "a", "b", "c", "b_se"
        )
    }
    run = CalibrationRun.objects.filter(exam=exam).order_by("-ran_at").first()
    prior = calibration.PriorModel(tuple(run.prior_beta), run.prior_tau) if run else calibration.PriorModel()
    model = ItemModel(calibrated, prior)
    _CALIBRATED_LOCAL[exam.pk] = (model, time.monotonic())
    return model


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
    """Drop this worker's minute-long copies of the version's cut and item model (after a panel is adopted or a
    calibration stored here); other workers pick the change up within the minute."""
    _CUT_LOCAL.pop(exam_id, None)
    _CALIBRATED_LOCAL.pop(exam_id, None)


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
    run = CalibrationRun.objects.filter(exam=exam).aggregate(at=Max("ran_at"))["at"]
    stamps = [version["changed"], version["calibrated"], run]
    key = f"scoring:cut:{exam.pk}:{version['n']}:" + ":".join(str(s.timestamp()) if s else "0" for s in stamps)
    cached = cache.get(key)
    if cached is not None:
        return cached
    questions = list(questions_with_parts(published, objectives=False))
    if not questions:
        return 0.0
    items = item_model(exam=exam).items(questions)
    value = irt.cut_theta(items, np.array([item_angoff(question) for question in questions]))
    cache.set(key, value, 3600)
    return value


def classify_estimate(estimate: irt.AbilityEstimate, cut: float) -> tuple[str, float]:
    """A sub-score's classification about the cut and its posterior chance of being at or above it."""
    labels, chance = irt.classify(estimate.theta, estimate.se, cut)
    return Classification(str(labels)), float(chance)


def breakdown_report(
    groups: dict[tuple[str, str], list[int]], responses: np.ndarray, items: irt.Items, cut: float
) -> list[dict]:
    """Per domain or task: right of total, the 95% Wilson interval of the share, the share a just-passing
    candidate would be expected to get on those items (``target``), and the classification of the sub-score."""
    report = []
    at_cut = irt.probability(cut, items)
    ordered = sorted(groups.items(), key=lambda kv: [int(p) for p in str(kv[0][0]).split(".")])
    masks = np.zeros((len(ordered), len(responses)), dtype=bool)
    for row, (_, index) in enumerate(ordered):
        masks[row, index] = True
    thetas, ses = irt.subscores_of_groups(responses, items, masks)
    for ((code, title), index), inside, theta, se in zip(ordered, masks, thetas, ses, strict=True):
        correct, total = int(responses[inside].sum()), len(index)
        low, high = irt.wilson_interval(correct, total)
        estimate = irt.AbilityEstimate(float(theta), float(se))
        label, chance = classify_estimate(estimate, cut)
        report.append(
            {
                "code": str(code),
                "title": title,
                "correct": correct,
                "total": total,
                "percent": round(100 * correct / total) if total else 0,
                "low": round(100 * low),
                "high": round(100 * high),
                "target": round(100 * float(at_cut[inside].mean())),
                "theta": round(estimate.theta, 3),
                "se": round(estimate.se, 3),
                "chance": round(chance, 3),
                "classification": label,
            }
        )
    return report


def breakdowns(tasks: list[Task], responses: np.ndarray, items: irt.Items, cut: float) -> tuple[list, list]:
    """The per-domain and per-task reports of one form: ``tasks[i]`` (with its domain) is the task of scored item
    ``i`` in the version the form was taken on."""
    domains: dict[tuple, list[int]] = defaultdict(list)
    by_task: dict[tuple, list[int]] = defaultdict(list)
    for index, task in enumerate(tasks):
        domains[(task.domain.number, task.domain.title)].append(index)
        by_task[(task.code, task.title)].append(index)
    if not tasks:
        return [], []
    return breakdown_report(domains, responses, items, cut), breakdown_report(by_task, responses, items, cut)


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
        blueprint = exam_tasks(exam=attempt.exam)
        responses, scored_questions, scored_tasks, right, outcomes = [], [], [], [], []
        for pk, question_id, task_id, answer, scored in items:
            question = questions[question_id]
            correct = answer_is_correct(question, answer)
            if correct:
                right.append(pk)
            outcomes.append((question.family, correct))
            if not scored:
                continue
            scored_tasks.append(blueprint[task_id])  # the item's task in the attempt's version
            responses.append(1 if correct else 0)
            scored_questions.append(question)
        # One statement rather than a 65-branch CASE update. With nothing right, Django turns "pk IN ()" into
        # NULL (neither right nor wrong, so "show wrong" would list nothing): every item is False then.
        marked = ExpressionWrapper(Q(pk__in=right), output_field=BooleanField()) if right else Value(False)
        AttemptItem.objects.filter(attempt=attempt).update(is_correct=marked)
        cut = exam_cut_theta(exam=attempt.exam)
        x = np.array(responses, dtype=float)
        model = item_model(exam=attempt.exam).items(scored_questions)
        estimate = irt.eap(x, model) if responses else irt.AbilityEstimate(0.0, irt.PRIOR_SD)
        scale = irt.Scale(
            cut=cut, low=attempt.exam.scale_min, high=attempt.exam.scale_max, passing=attempt.exam.passing_score
        )
        scaled = scale.scaled(estimate.theta)
        by_domain, by_task = breakdowns(scored_tasks, x, model, cut)
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
            by_domain=by_domain,
            by_task=by_task,
            time_used_seconds=max(0, int((ended - attempt.started_at).total_seconds())),
            method=SCORING_METHOD,
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
