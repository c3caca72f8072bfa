"""Scoring an attempt: mark items 0/1, estimate ability (3PL EAP), map to the 100-1000 scale, and report
per domain and task with honest intervals."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Q, Value
from django.utils import timezone

from apps.core.enqueue import enqueue_on_commit
from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.scoring import calibration, irt
from apps.scoring.marking import answer_is_correct
from apps.scoring.models import AttemptResult, CalibrationRun, Classification, ItemParameter
from apps.scoring.signals import ScoredAttempt, attempts_scored
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
    # The prior's parameters of frozen items without their own, worked out once for as long as this model is used
    # (a frozen version's type, parts, label and rating never change).
    from_prior: dict[int, tuple[float, float, float, float]] = field(default_factory=dict, compare=False, repr=False)

    def items(self, questions: list[Question]) -> irt.Items:
        """The items as scoring uses them: a calibrated item with its estimates; any other with a = 1, b from
        the prior (its label and author rating), c at its floor. The uncertainty of b flattens the slope."""
        a, b, c, b_sd = [], [], [], []
        for question in questions:
            known = self.calibrated.get(question.pk) or self.from_prior.get(question.pk)
            if known is None:
                floor = question_floor(question)
                known = (1.0, float(self.prior.mean(item_features(question, floor))[0]), floor, self.prior.tau)
                if question.is_locked:
                    self.from_prior[question.pk] = known
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
    labels, chances = irt.classify(thetas, ses, cut)  # every group's label and chance at once
    rows = zip(ordered, masks, thetas, ses, labels, chances, strict=True)
    for ((code, title), index), inside, theta, se, label, chance in rows:
        correct, total = int(responses[inside].sum()), len(index)
        low, high = irt.wilson_interval(correct, total)
        estimate = irt.AbilityEstimate(float(theta), float(se))
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
                "chance": round(float(chance), 3),
                "classification": Classification(str(label)),
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


@dataclass
class _Scoring:
    """One attempt's scoring, worked out before anything is written: its result (not saved yet), the items it got
    right, and the (item family, answered right) pairs for its review cards."""

    attempt: Attempt
    result: AttemptResult
    right: list[int]
    outcomes: list[tuple]


def _attempt_scoring(attempt: Attempt, exam: Exam, items: list[tuple], questions: dict[int, Question]) -> _Scoring:
    """Mark the attempt's ``items`` ((pk, question id, task id, answer, scored) in position order), estimate the
    ability and build the report. Reads nothing from the database but the version's cached cut, item model and
    blueprint."""
    blueprint = exam_tasks(exam=exam)
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
    model = item_model(exam=exam).items(scored_questions)
    result = result_build(
        attempt=attempt,
        exam=exam,
        responses=np.array(responses, dtype=float),
        items=model,
        tasks=scored_tasks,
        cut=exam_cut_theta(exam=exam),
    )
    return _Scoring(attempt, result, right, outcomes)


def result_build(
    *,
    attempt: Attempt,
    exam: Exam,
    responses: np.ndarray,
    items: irt.Items,
    tasks: list[Task],
    cut: float,
    method: str = SCORING_METHOD,
) -> AttemptResult:
    """An attempt's result (not saved) from its scored responses (1 right, 0 wrong) and those items' parameters
    and tasks: the EAP ability, the scaled score against the cut and the per-domain and per-task reports."""
    estimate = irt.eap(responses, items) if len(responses) else irt.AbilityEstimate(0.0, irt.PRIOR_SD)
    scale = irt.Scale(cut=cut, low=exam.scale_min, high=exam.scale_max, passing=exam.passing_score)
    scaled = scale.scaled(estimate.theta)
    by_domain, by_task = breakdowns(tasks, responses, items, cut)
    ended = attempt.submitted_at or attempt.started_at
    return AttemptResult(
        attempt=attempt,
        raw_correct=int(responses.sum()),
        raw_scored=len(responses),
        theta=estimate.theta,
        theta_se=estimate.se,
        cut_theta=cut,
        scaled_score=scaled,
        passed=scaled >= exam.passing_score,
        pass_probability=irt.pass_probability(estimate.theta, estimate.se, cut),
        by_domain=by_domain,
        by_task=by_task,
        time_used_seconds=max(0, int((ended - attempt.started_at).total_seconds())),
        method=method,
    )


# Marks every item of the attempts in one statement: right when its id is in the list, else False (never NULL,
# or "show wrong" would list nothing when nothing was right). Arrays go as one text parameter each: psycopg
# quotes a list parameter element by element in Python.
_ITEMS_MARK = """
UPDATE exams_attemptitem SET is_correct = (id = ANY(%(right)s::bigint[])) WHERE attempt_id = ANY(%(attempts)s::bigint[])
"""
# The results in one statement with one JSON parameter, for the same reason: bulk_create sends each column as an
# array, and the reports' JSON quoted element by element cost more than the scoring of the whole batch.
_RESULTS_INSERT = """
INSERT INTO scoring_attemptresult (attempt_id, raw_correct, raw_scored, theta, theta_se, cut_theta, scaled_score,
    passed, pass_probability, by_domain, by_task, time_used_seconds, method, computed_at)
SELECT attempt_id, raw_correct, raw_scored, theta, theta_se, cut_theta, scaled_score, passed, pass_probability,
    by_domain, by_task, time_used_seconds, method, %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(attempt_id bigint, raw_correct smallint, raw_scored smallint,
    theta double precision, theta_se double precision, cut_theta double precision, scaled_score smallint,
    passed boolean, pass_probability double precision, by_domain jsonb, by_task jsonb, time_used_seconds integer,
    method varchar)
RETURNING id, attempt_id
"""
_RESULT_FIELDS = (
    "attempt_id",
    "raw_correct",
    "raw_scored",
    "theta",
    "theta_se",
    "cut_theta",
    "scaled_score",
    "passed",
    "pass_probability",
    "by_domain",
    "by_task",
    "time_used_seconds",
    "method",
)


def sql_array(values) -> str:
    """A PostgreSQL array literal of ids or UUIDs, to pass as one parameter and cast in the statement."""
    return "{" + ",".join(map(str, values)) + "}"


def _results_store(results: list[AttemptResult]) -> list[AttemptResult]:
    if connection.vendor != "postgresql":
        return AttemptResult.objects.bulk_create(results)
    now = timezone.now()  # computed_at, as auto_now_add would set it
    rows = [{name: getattr(result, name) for name in _RESULT_FIELDS} for result in results]
    with connection.cursor() as cursor:
        cursor.execute(_RESULTS_INSERT, {"rows": json.dumps(rows), "now": now})
        ids = {attempt_id: pk for pk, attempt_id in cursor.fetchall()}
    for result in results:
        result.pk, result.computed_at = ids[result.attempt_id], now
        result._state.adding = False
    return results


def _attempts_score(attempts: list[Attempt], exams: dict[int, Exam]) -> tuple[list[AttemptResult], dict]:
    """Score ``attempts`` (submitted, locked by this transaction) together: one read of their items, the questions
    from the per-process cache, each scored as it would be alone, then one write of each kind for all. An attempt
    that cannot be scored (its data is broken) is left submitted and does not stop the others.

    Returns the stored results and, by attempt id, the error of each attempt left unscored."""
    items: dict[int, list[tuple]] = defaultdict(list)
    for attempt_id, *row in AttemptItem.objects.filter(attempt__in=[attempt.pk for attempt in attempts]).values_list(
        "attempt_id", "pk", "question_id", "task_id", "answer", "scored"
    ):
        items[attempt_id].append(tuple(row))
    questions = frozen_questions(list({row[1] for rows in items.values() for row in rows}))
    scorings: list[_Scoring] = []
    failures: dict[int, Exception] = {}
    for attempt in attempts:
        try:
            scorings.append(_attempt_scoring(attempt, exams[attempt.exam_id], items[attempt.pk], questions))
        except (DatabaseError, SoftTimeLimitExceeded):
            raise  # the transaction is broken, or the task is out of time: nothing of the batch is kept
        except Exception as exc:
            failures[attempt.pk] = exc
    if not scorings:
        return [], failures
    scored_ids = [scoring.attempt.pk for scoring in scorings]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            right = sql_array(pk for scoring in scorings for pk in scoring.right)
            cursor.execute(_ITEMS_MARK, {"right": right, "attempts": sql_array(scored_ids)})
    else:
        for scoring in scorings:  # SQLite (make run): Django turns "pk IN ()" into NULL, so Value(False) then
            right = scoring.right
            marked = ExpressionWrapper(Q(pk__in=right), output_field=BooleanField()) if right else Value(False)
            AttemptItem.objects.filter(attempt_id=scoring.attempt.pk).update(is_correct=marked)
    results = _results_store([scoring.result for scoring in scorings])
    Attempt.objects.filter(pk__in=scored_ids).update(state=AttemptState.SCORED)
    from apps.scoring.progress import review_cards_update_many  # progress builds on this module

    review_cards_update_many(outcomes=[(s.attempt.candidate_id, s.outcomes) for s in scorings])
    scored = [ScoredAttempt(s.attempt.pk, s.attempt.candidate_id, s.attempt.exam_id) for s in scorings]
    transaction.on_commit(lambda: attempts_scored.send(sender=AttemptResult, attempts=scored))
    for result in results:
        logger.info("attempt scored", extra={"attempt": result.attempt_id, "scaled": result.scaled_score})
    return results, failures


def attempt_score_compute(*, attempt_id: int) -> AttemptResult | None:
    """Score a submitted attempt exactly once; running it again, or twice at the same time, changes nothing."""
    return _attempt_score_one(attempt_id)[0]


def _attempt_score_one(attempt_id: int) -> tuple[AttemptResult | None, bool]:
    """``attempt_score_compute``, and whether this call scored the attempt (rather than finding it scored)."""
    with transaction.atomic():
        # of=("self",): lock the attempt only. A plain FOR UPDATE would lock the joined exam row too, and every
        # scoring of that exam would then wait for the one before it.
        attempt = Attempt.objects.select_for_update(of=("self",)).select_related("exam").filter(pk=attempt_id).first()
        if attempt is None or attempt.state not in (AttemptState.SUBMITTED, AttemptState.SCORED):
            return None, False
        if attempt.state == AttemptState.SCORED:  # set together with the result, in this same transaction
            return AttemptResult.objects.filter(attempt=attempt).first(), False
        results, failures = _attempts_score([attempt], {attempt.exam_id: attempt.exam})
        if failures:
            raise failures[attempt_id]
    return results[0], True


# How many attempts one scoring task takes at most: its own and others still waiting. A deadline storm queues
# thousands of tasks at once; each then scores a batch and the tasks of attempts already scored cost one query.
BATCH_SIZE = 50
# An attempt that failed to score in a batch is not taken again by this process's batches for this long (its own
# task, and the periodic re-send, still try it), so that one broken attempt is not retried by every batch.
FAILED_SKIP = 60.0
_FAILED: dict[int, float] = {}

# Claims, without waiting for any lock, the task's own attempt and up to ``more`` others waiting to be scored, oldest
# first (the partial index attempt_awaiting_score), passing over those other scorings hold. Returns the claimed
# attempts and the task's own attempt as it stands (claimed or not), so the task knows whether another scoring has it.
_CLAIM = """
WITH own AS MATERIALIZED (
    SELECT id FROM exams_attempt WHERE id = %(own)s AND state = 'submitted' FOR UPDATE SKIP LOCKED
), others AS MATERIALIZED (
    SELECT id FROM exams_attempt
    WHERE state = 'submitted' AND id <> %(own)s AND NOT (id = ANY(%(skip)s::bigint[]))
    ORDER BY submitted_at, id
    LIMIT %(more)s
    FOR UPDATE SKIP LOCKED
)
SELECT a.id, a.candidate_id, a.exam_id, a.state, a.started_at, a.submitted_at,
    a.id IN (SELECT id FROM own) OR a.id IN (SELECT id FROM others) AS claimed
FROM exams_attempt a
WHERE a.id = %(own)s OR a.id IN (SELECT id FROM others)
ORDER BY a.submitted_at, a.id
"""


def attempts_score_batch(*, attempt_id: int, limit: int = BATCH_SIZE) -> list[int]:
    """What the scoring task does: score its own attempt and up to ``limit - 1`` other submitted attempts in one
    transaction, claimed with SKIP LOCKED so that workers running side by side take different ones. Each is
    scored exactly as ``attempt_score_compute`` would; the reads (items, questions) and writes (marks, results,
    states, review cards) are shared. Returns the ids of the attempts this call scored.

    The own attempt is always seen to: if another scoring holds it, this waits for that one to finish once its
    own batch is committed, and scores it if it is still waiting; if it cannot be scored, the error is raised
    (after the others are committed) so the task fails or retries as before. Another attempt that cannot be scored
    is left submitted for its own task."""
    if limit <= 1 or connection.vendor != "postgresql":
        return [attempt_id] if _attempt_score_one(attempt_id)[1] else []
    # The tasks of attempts a batch has already scored are most of a storm's tasks: one primary-key read each, no
    # transaction. A scored attempt stays scored; one not submitted yet (or abandoned) has nothing to score.
    with connection.cursor() as cursor:
        cursor.execute("SELECT state FROM exams_attempt WHERE id = %s", [attempt_id])
        row = cursor.fetchone()
    if row is None or row[0] != AttemptState.SUBMITTED:
        return []
    now = time.monotonic()
    for pk, failed_at in list(_FAILED.items()):
        if now - failed_at > FAILED_SKIP:
            del _FAILED[pk]
    results: list[AttemptResult] = []
    failures: dict[int, Exception] = {}
    own_waiting = False
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM, {"own": attempt_id, "skip": sql_array(_FAILED), "more": limit - 1})
            rows = cursor.fetchall()
        claimed = []
        for pk, candidate_id, exam_id, state, started_at, submitted_at, taken in rows:
            if taken:
                claimed.append(
                    Attempt(
                        pk=pk,
                        candidate_id=candidate_id,
                        exam_id=exam_id,
                        state=state,
                        started_at=started_at,
                        submitted_at=submitted_at,
                    )
                )
            elif pk == attempt_id:
                own_waiting = state == AttemptState.SUBMITTED  # another scoring has it now
        if claimed:
            exams = Exam.objects.in_bulk({attempt.exam_id for attempt in claimed})
            results, failures = _attempts_score(claimed, exams)
    for pk, exc in failures.items():
        _FAILED[pk] = time.monotonic()
        if pk != attempt_id:
            logger.warning("attempt not scored, left for its own task", extra={"attempt": pk}, exc_info=exc)
    if attempt_id in failures:
        raise failures[attempt_id]
    scored = [result.attempt_id for result in results]
    if own_waiting and _attempt_score_one(attempt_id)[1]:
        # Another batch held the attempt: this waited for it (its transaction is short), then scored it because
        # that batch could not. Nothing of this task's batch was held while waiting.
        scored.append(attempt_id)
    return scored


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
