"""A candidate's progress across attempts: score history, pooled task mastery, readiness, spaced review."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import dateformat, timezone
from fsrs import Card, Rating, Scheduler

from apps.core import charts
from apps.exams.models import Attempt, AttemptItem, AttemptMode, AttemptState
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.scoring import irt
from apps.scoring.models import AttemptResult, Classification, ReviewCard, StudyRule
from apps.scoring.services import breakdown_report, exam_cut_theta, item_model, sql_array
from apps.syllabus.models import Exam, Task

SCHEDULER = Scheduler(desired_retention=0.9, enable_fuzzing=False)


def review_cards_update(*, candidate_id: int, outcomes: list[tuple], now: datetime | None = None) -> int:
    """After scoring, from (item family, answered right) pairs: missed items get (or restart) a review card;
    items answered right move their card on.

    FSRS at 90% target retention decides when each comes back. One read and one upsert, so two attempts of the
    same candidate scored at once cannot collide on the unique (candidate, family) key.
    """
    return review_cards_update_many(outcomes=[(candidate_id, outcomes)], now=now)


def review_cards_update_many(*, outcomes: list[tuple[int, list[tuple]]], now: datetime | None = None) -> int:
    """``review_cards_update`` for the attempts of a scoring batch, ``(candidate id, outcomes)`` in the order they
    were scored (a candidate's later attempt sees the cards their earlier one left): one read and one upsert for
    all. Returns the number of cards written."""
    now = now or timezone.now()
    cards = _review_cards_read({(candidate_id, family) for candidate_id, pairs in outcomes for family, _ in pairs})
    changed: dict = {}
    fresh = None  # a new card missed now: the same card for every family but its id, so reviewed once
    for candidate_id, pairs in outcomes:
        for family, correct in pairs:
            key = (candidate_id, family)
            existing = changed.get(key) or cards.get(key)
            if correct and existing is None:
                continue  # nothing to review
            card_id = family.int % 2**62  # explicit: fsrs otherwise derives one from the clock and sleeps 1 ms
            if existing is None:
                if fresh is None:
                    fresh, _ = SCHEDULER.review_card(Card(card_id=card_id), Rating.Again, now)
                    fresh = (fresh.to_dict(), fresh.due)
                changed[key] = ({**fresh[0], "card_id": card_id}, 1, fresh[1])
                continue
            card, _ = SCHEDULER.review_card(Card.from_dict(existing[0]), Rating.Good if correct else Rating.Again, now)
            changed[key] = (card.to_dict(), existing[1] + (0 if correct else 1), card.due)
    _review_cards_upsert(changed)
    return len(changed)


# The cards of exactly the (candidate, family) pairs given, in one statement with two array parameters.
_CARDS_READ = """
SELECT c.candidate_id, c.family, c.card, c.lapses
FROM scoring_reviewcard c
JOIN unnest(%(candidates)s::bigint[], %(families)s::uuid[]) AS p(candidate_id, family)
    ON c.candidate_id = p.candidate_id AND c.family = p.family
"""


def _review_cards_read(pairs: set[tuple[int, object]]) -> dict[tuple, tuple[dict, int]]:
    if not pairs:
        return {}
    if connection.vendor == "postgresql":
        candidates, families = zip(*pairs, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(_CARDS_READ, {"candidates": sql_array(candidates), "families": sql_array(families)})
            rows = cursor.fetchall()
        # Django reads jsonb as text (its JSONField decodes it), so does this plain cursor
        return {(c, f): (json.loads(card) if isinstance(card, str) else card, lapses) for c, f, card, lapses in rows}
    by_candidate: dict[int, list] = defaultdict(list)
    for candidate_id, family in pairs:
        by_candidate[candidate_id].append(family)
    return {
        (candidate_id, family): (card, lapses)
        for candidate_id, families in by_candidate.items()
        for family, card, lapses in ReviewCard.objects.filter(
            candidate_id=candidate_id, family__in=families
        ).values_list("family", "card", "lapses")
    }


# One statement with one JSON parameter. Django's bulk_create(update_conflicts=True) does the same upsert, but
# it sends every column as an array that psycopg quotes element by element in Python: with about fifty cards
# per attempt that was a third of the scoring's CPU.
_CARDS_UPSERT = """
INSERT INTO scoring_reviewcard (candidate_id, family, card, due, lapses)
SELECT r.candidate, r.family, r.card, r.due, r.lapses
FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS r(candidate bigint, family uuid, card jsonb, due timestamptz, lapses smallint)
ON CONFLICT (candidate_id, family) DO UPDATE SET card = excluded.card, due = excluded.due, lapses = excluded.lapses
"""


def _review_cards_upsert(changed: dict) -> None:
    """Write ``changed`` ((candidate id, family) to (card, lapses, due)); each pair appears once."""
    if not changed:
        return
    if connection.vendor == "postgresql":
        rows = [
            {"candidate": candidate_id, "family": str(family), "card": card, "due": due.isoformat(), "lapses": lapses}
            for (candidate_id, family), (card, lapses, due) in changed.items()
        ]
        with connection.cursor() as cursor:
            cursor.execute(_CARDS_UPSERT, {"rows": json.dumps(rows)})
        return
    ReviewCard.objects.bulk_create(  # SQLite (make run): the ORM's upsert
        [
            ReviewCard(candidate_id=candidate_id, family=family, card=card, due=due, lapses=lapses)
            for (candidate_id, family), (card, lapses, due) in changed.items()
        ],
        update_conflicts=True,
        unique_fields=["candidate", "family"],
        update_fields=["card", "due", "lapses"],
    )


def review_cards_due(*, candidate, exam: Exam, now: datetime | None = None) -> QuerySet[ReviewCard]:
    """Cards due now for items this exam version can deliver (a card follows the item, whichever version the
    candidate met it in; one that only the other version uses waits for that version)."""
    live = questions_of_exam(exam=exam).filter(status=QuestionStatus.PUBLISHED).values("family")
    return ReviewCard.objects.filter(candidate=candidate, due__lte=now or timezone.now(), family__in=live)


def review_due_families(*, candidate, exam: Exam, now: datetime | None = None, limit: int = 50) -> list:
    return list(
        review_cards_due(candidate=candidate, exam=exam, now=now)
        .order_by("due")
        .values_list("family", flat=True)[:limit]
    )


@dataclass
class TaskMastery:
    code: str
    title: str
    correct: int
    total: int
    low: int
    high: int
    target: int
    classification: str
    chance: float | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


@dataclass
class Readiness:
    theta: float
    se: float
    scaled: int
    pass_probability: float
    responses: int
    cut_theta: float  # the version's θ_c the pass probability was computed against
    band_low: int = 0
    band_high: int = 0

    @property
    def chance_shown(self) -> bool:
        return self.responses >= MIN_ITEMS_FOR_CHANCE


@dataclass
class MockScore:
    """A mock exam's result with its band (± 1 standard error) on the reporting scale."""

    result: AttemptResult
    band_low: int
    band_high: int


@dataclass
class Progress:
    history: list[MockScore]
    mastery: list[TaskMastery]
    readiness: Readiness | None
    due: int
    rules: dict[str, list[StudyRule]] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    history_chart: charts.LineChart | None = None


def score_band(*, result: AttemptResult, exam: Exam) -> tuple[int, int]:
    """The score's band, ``θ̂ ± 1 SE`` (about two chances in three) mapped through the exam's scale with the
    attempt's own cut, so it is clipped to the scale and stays lopsided where the scale is."""
    scale = irt.Scale(cut=result.cut_theta, low=exam.scale_min, high=exam.scale_max, passing=exam.passing_score)
    return scale.band(result.theta, result.theta_se)


def _when(moment: datetime, pattern: str) -> str:
    return dateformat.format(timezone.localtime(moment), pattern)


def score_trend_marks(passing: int, *, band: bool = False) -> dict:
    """What every chart of mock scores over time shares: the pass line, a marker shape for passed and below, and
    the legend saying so (with the ± 1 SE band when the chart draws one)."""
    legend = [
        charts.legend_marker(f"Passed ({passing} or more)", kind="pass", shape="circle"),
        charts.legend_marker("Below the pass mark", kind="fail", shape="diamond"),
        *([charts.legend_band("Score band (± 1 standard error)")] if band else []),
        charts.legend_reference(f"Pass mark {passing}"),
    ]
    return {
        "references": [(passing, f"Pass mark {passing}")],
        "shapes": {"pass": "circle", "fail": "diamond"},
        "legend": legend,
    }


def score_history_chart(*, history: list[MockScore], exam: Exam) -> charts.LineChart:
    """The progress page's line chart: mock scores oldest to newest, each with its band (± 1 standard error),
    and the pass mark.

    Passes are circles and scores below the pass mark diamonds, so the verdict never rests on colour alone.
    """
    passing = exam.passing_score
    dates = [score.result.attempt.started_at for score in history]
    one_year = len({timezone.localtime(moment).year for moment in dates}) <= 1
    data = []
    for score, moment in zip(history, dates, strict=True):
        result = score.result
        verdict = "passed" if result.passed else f"below the pass mark of {passing}"
        data.append(
            charts.LineDatum(
                value=result.scaled_score,
                label=_when(moment, "j M" if one_year else "j M Y"),
                title=(
                    f"{_when(moment, 'j M Y, H:i')}: {result.scaled_score} "
                    f"(band {score.band_low}–{score.band_high}), {verdict}"
                ),
                kind="pass" if result.passed else "fail",
                band=(score.band_low, score.band_high),
            )
        )
    if not history:
        description = "No mock exams yet."
    else:
        latest = history[-1]
        standing = "at or above" if latest.result.passed else "below"
        summary = (
            f"Latest score {latest.result.scaled_score} (band {latest.band_low}–{latest.band_high}), "
            f"{standing} the pass mark of {passing}."
        )
        if len(history) == 1:
            description = f"One mock exam, on {_when(dates[0], 'j M Y')}. {summary}"
        else:
            scores = [score.result.scaled_score for score in history]
            description = (
                f"{len(history)} mock exams from {_when(dates[0], 'j M Y')} to {_when(dates[-1], 'j M Y')}. "
                f"{summary} Highest {max(scores)}, lowest {min(scores)}."
            )
        description += " The table below lists every score."
    return charts.line_chart(
        id="score-history",
        title=f"Scaled scores of your mock exams, oldest to newest, on the {exam.scale_min}–{exam.scale_max} scale",
        description=description,
        data=data,
        y_low=exam.scale_min,
        y_high=exam.scale_max,
        **score_trend_marks(passing, band=True),
    )


# Below this many scored items, a chance of passing would rest mostly on the prior: it is not shown.
MIN_ITEMS_FOR_CHANCE = 20


@dataclass(frozen=True)
class FirstAnswer:
    exam_id: int
    submitted_at: datetime | None
    question_id: int
    task_id: int
    correct: bool


def first_answers(*, candidate) -> list[FirstAnswer]:
    """Each item family's first answer by the candidate, over all their scored attempts, when it was scored.

    Only a first answer was given with the key unseen: review and due sets repeat items whose keys the
    candidate has been shown, and a retaken mock may repeat a family. Counting those would measure memory of
    the key, so they are left out (not down-weighted). One query; readiness and mastery filter the result.
    """
    seen: set = set()
    rows = []
    answers = (
        AttemptItem.objects.filter(attempt__candidate=candidate, attempt__state=AttemptState.SCORED)
        .order_by("attempt__started_at", "position")
        .values_list(
            "question__family",
            "attempt__exam_id",
            "attempt__submitted_at",
            "question_id",
            "task_id",
            "is_correct",
            "scored",
        )
    )
    for family, exam_id, submitted_at, question_id, task_id, correct, scored in answers:
        if family in seen:
            continue
        seen.add(family)
        if scored:
            rows.append(FirstAnswer(exam_id, submitted_at, question_id, task_id, bool(correct)))
    return rows


def _questions(rows: list[FirstAnswer]) -> list[Question]:
    by_id = questions_with_parts(
        Question.objects.filter(pk__in={row.question_id for row in rows}), objectives=False
    ).in_bulk()
    return [by_id[row.question_id] for row in rows]


def readiness_for(
    *, candidate, exam: Exam, before: datetime | None = None, answers: list[FirstAnswer] | None = None
) -> Readiness | None:
    """EAP over the first answers the candidate gave in this version's scored attempts (submitted before
    ``before`` when given), on the version's own scale and cut. ``answers``: ``first_answers`` if already read."""
    answers = first_answers(candidate=candidate) if answers is None else answers
    rows = [
        row
        for row in answers
        if row.exam_id == exam.pk and (before is None or (row.submitted_at is not None and row.submitted_at < before))
    ]
    if not rows:
        return None
    items = item_model(exam=exam).items(_questions(rows))
    estimate = irt.eap(np.array([row.correct for row in rows], dtype=float), items)
    cut = exam_cut_theta(exam=exam)
    scale = irt.Scale(cut=cut, low=exam.scale_min, high=exam.scale_max, passing=exam.passing_score)
    return Readiness(
        estimate.theta,
        estimate.se,
        scale.scaled(estimate.theta),
        irt.pass_probability(estimate.theta, estimate.se, cut),
        len(rows),
        cut,
        *scale.band(estimate.theta, estimate.se),
    )


def mastery_for(*, exam: Exam, tasks: list[Task], answers: list[FirstAnswer]) -> list[TaskMastery]:
    """Each task's sub-score from the candidate's first answers in it, shrunk toward what the rest of their
    answers say, and classified about the cut: the per-task report of a form (``services.breakdown_report``)
    over all the candidate's first answers. Evidence on a task of the version this one replaces counts for the
    task that continues it."""
    carried = {task.continues_id: task.pk for task in tasks if task.continues_id}
    by_pk = {task.pk: task for task in tasks}
    rows = [
        (row, task_id)
        for row in answers
        if (task_id := row.task_id if row.exam_id == exam.pk else carried.get(row.task_id)) in by_pk
    ]
    reported: dict[str, dict] = {}
    if rows:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for index, (_, task_id) in enumerate(rows):
            groups[(by_pk[task_id].code, by_pk[task_id].title)].append(index)
        x = np.array([row.correct for row, _ in rows], dtype=float)
        items = item_model(exam=exam).items(_questions([row for row, _ in rows]))
        reported = {row["code"]: row for row in breakdown_report(groups, x, items, exam_cut_theta(exam=exam))}
    mastery = []
    for task in tasks:
        row = reported.get(task.code)
        if row is None:
            mastery.append(TaskMastery(task.code, task.title, 0, 0, 0, 100, 0, Classification.UNSURE))
            continue
        mastery.append(
            TaskMastery(
                task.code,
                task.title,
                row["correct"],
                row["total"],
                row["low"],
                row["high"],
                row["target"],
                row["classification"],
                row["chance"],
            )
        )
    return mastery


def progress_for(*, candidate, exam: Exam) -> Progress:
    """Everything the progress page shows, pooled over all the candidate's finished attempts."""
    finished = Attempt.objects.filter(candidate=candidate, exam=exam, state=AttemptState.SCORED)
    history = [
        MockScore(result, *score_band(result=result, exam=exam))
        for result in AttemptResult.objects.filter(attempt__in=finished, attempt__mode=AttemptMode.MOCK)
        .select_related("attempt")
        .order_by("attempt__started_at")
    ]
    tasks = list(Task.objects.filter(domain__exam=exam).order_by("code"))
    answers = first_answers(candidate=candidate)
    mastery = mastery_for(exam=exam, tasks=tasks, answers=answers)
    readiness = readiness_for(candidate=candidate, exam=exam, answers=answers)
    rules: dict[str, list[StudyRule]] = defaultdict(list)
    for rule in StudyRule.objects.filter(candidate=candidate, task__domain__exam=exam).select_related("task"):
        rules[rule.task.code].append(rule)
    due = review_cards_due(candidate=candidate, exam=exam).count()
    chart = score_history_chart(history=history, exam=exam) if history else None
    return Progress(history, mastery, readiness, due, dict(rules), tasks, chart)


def missed_task_codes(*, attempt: Attempt) -> list[str]:
    """Tasks in which the attempt missed at least one item: where the candidate should write rules."""
    return sorted(
        set(AttemptItem.objects.filter(attempt=attempt, is_correct=False).values_list("task__code", flat=True)),
        key=lambda code: [int(part) for part in code.split(".")],
    )


@transaction.atomic
def study_rule_save(*, candidate, task: Task, text: str, rule_id: int | None = None) -> StudyRule:
    text = " ".join(text.split())
    if not text:
        raise ValueError("A rule needs some text.")
    if rule_id is not None:
        rule = StudyRule.objects.select_for_update().get(pk=rule_id, candidate=candidate)
        rule.text, rule.task = text[:240], task
        rule.save()
        return rule
    return StudyRule.objects.create(candidate=candidate, task=task, text=text[:240])


def study_rules_markdown(*, candidate, exam: Exam) -> str:
    """The rules notebook as Markdown, one section per task."""
    lines = [f"# My {exam.code} rules", ""]
    current = None
    for rule in StudyRule.objects.filter(candidate=candidate, task__domain__exam=exam).select_related("task"):
        if rule.task.code != current:
            current = rule.task.code
            lines += ["", f"## {rule.task.code} {rule.task.title}", ""]
        lines.append(f"- {rule.text}")
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"
