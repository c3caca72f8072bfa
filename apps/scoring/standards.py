"""Standard setting by a modified-Angoff panel: how an exam version gets its cut.

A **study** draws one base form of the version (its scored items, by the same assembly as a full mock). Each
rater (an instructor) judges every item: the probability ``p`` that a *minimally competent* candidate answers it
correctly, between 0.05 and 0.95. After round 1 the facilitator opens round 2 with impact data (the share of
recent candidates the round-1 cut would pass, each item's spread of ratings and, where known, its observed
facility); raters may revise. Adoption takes each rater's final rating per item (round 2, else round 1), needs at
least ``PANEL_MIN_RATERS`` raters who rated the whole form, and records

- the raw cut ``Σ_i p̄_i`` (p̄_i the panel's mean final rating of item i),
- the θ cut solving the test characteristic curve ``Σ_i P_i(θ_c) = Σ_i p̄_i`` on the base form,
- its spread: the SD of the raters' individual θ cuts and the standard error ``SD / √R``.

Scoring then solves the same curve on the base form with the *current* item parameters, so a recalibration
moves θ_c but keeps the panel's raw cut. Without an adopted study the version keeps the provisional cut from
the authors' own ratings (``services._exam_cut_theta``).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from apps.exams.assembly import FormAssemblyError, form_assemble
from apps.exams.models import AttemptMode, AttemptState
from apps.questions.models import Question
from apps.questions.selectors import questions_with_parts
from apps.scoring import irt
from apps.scoring.models import (
    RATING_MAX,
    RATING_MIN,
    AttemptResult,
    CalibrationRun,
    ItemStatistic,
    RecordedCut,
    StandardSettingStudy,
    StudyItem,
    StudyRating,
    StudyState,
)
from apps.scoring.services import exam_cut_forget, exam_cut_theta, item_model
from apps.syllabus.models import Exam

PANEL_MIN_RATERS = 3
IMPACT_DAYS = 180
# The reporting scale maps θ = -3 and +3 to its ends; a cut near them would squeeze one side of the scale flat.
CUT_LIMIT = 2.5
PANEL = "panel"
PROVISIONAL = "provisional"


class StandardSettingError(Exception):
    """The step cannot be taken; the message says why and what is missing."""


class RatingsInvalidError(StandardSettingError):
    """Some ratings on a sheet are not acceptable: ``errors`` maps a question id (None: the whole sheet) to why."""

    def __init__(self, errors: dict[int | None, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- item parameters: the one place that reads them ------------------------------------------------------------


def _cut_solve(questions: list[Question], exam: Exam, ratings: np.ndarray) -> float:
    """θ_c solving ``Σ P_i(θ_c) = Σ p_i`` over ``questions`` with the version's current item model (3PL: the
    calibrated parameters, else the difficulty prior with its spread)."""
    return irt.cut_theta(item_model(exam=exam).items(questions), ratings, bounds=(-6.0, 6.0))


# --- reads ------------------------------------------------------------------------------------------------------


def study_questions(*, study: StandardSettingStudy) -> list[Question]:
    """The base form's questions in form order."""
    ids = list(study.items.order_by("position").values_list("question_id", flat=True))
    questions = questions_with_parts(Question.objects.filter(pk__in=ids), objectives=False).in_bulk()
    return [questions[pk] for pk in ids]


def latest_cut(*, exam: Exam) -> RecordedCut | None:
    return RecordedCut.objects.filter(exam=exam).select_related("study").order_by("-decided_at", "-pk").first()


def cut_source(*, exam: Exam) -> tuple[str, StandardSettingStudy | None]:
    """Where the version's cut comes from: ``("panel", study)`` once a study is adopted, else
    ``("provisional", None)`` (the authors' own ratings, a provisional seed)."""
    cut = latest_cut(exam=exam)
    return (PANEL, cut.study) if cut is not None else (PROVISIONAL, None)


def panel_cut_theta(*, cut: RecordedCut) -> float:
    """The adopted panel's θ_c on the current item parameters of its base form, cached until one of those
    items is recalibrated or changed."""
    questions = study_questions(study=cut.study)
    stamps = Question.objects.filter(pk__in=[q.pk for q in questions]).aggregate(
        changed=Max("updated_at"), calibrated=Max("irt__calibrated_at"), n=Count("irt")
    )
    stamps["run"] = CalibrationRun.objects.filter(exam_id=cut.exam_id).aggregate(at=Max("ran_at"))["at"]
    key = f"scoring:cut:{cut.exam_id}:panel:{cut.pk}:{stamps['n']}:" + ":".join(
        str(stamps[name].timestamp()) if stamps[name] else "0" for name in ("changed", "calibrated", "run")
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    ratings = np.array([cut.item_means[str(question.pk)] for question in questions], dtype=float)
    value = _cut_solve(questions, cut.exam, ratings)
    cache.set(key, value, 3600)
    return value


@dataclass(frozen=True)
class Spread:
    n: int
    low: float
    mean: float
    high: float


def _spread(values: list[float]) -> Spread | None:
    return Spread(len(values), min(values), sum(values) / len(values), max(values)) if values else None


@dataclass
class SheetRow:
    item: StudyItem
    question: Question
    value: float | None  # the rater's rating in the open round
    round_one: float | None  # the rater's own round-1 rating
    panel_round_one: Spread | None  # shown in round 2 only
    facility: float | None  # observed, where the item has statistics


def rating_sheet(*, study: StandardSettingStudy, rater) -> list[SheetRow]:
    """The rater's sheet for the open round: every base-form item with its content, the rater's ratings and, in
    round 2, the panel's round-1 spread and the observed facility."""
    items = list(study.items.select_related("task").order_by("position"))
    questions = questions_with_parts(objectives=False).in_bulk([item.question_id for item in items])
    own: dict[tuple[int, int], float] = {
        (question_id, round_): value
        for question_id, round_, value in StudyRating.objects.filter(study=study, rater=rater).values_list(
            "question_id", "round", "value"
        )
    }
    second = study.state == StudyState.ROUND_2
    panel = _ratings_by_item(study=study, round_=1) if second else {}
    facility = _facilities([item.question_id for item in items]) if second else {}
    current = study.round or 2
    return [
        SheetRow(
            item=item,
            question=questions[item.question_id],
            value=own.get((item.question_id, current)),
            round_one=own.get((item.question_id, 1)),
            panel_round_one=_spread(panel.get(item.question_id, [])),
            facility=facility.get(item.question_id),
        )
        for item in items
    ]


def _ratings_by_item(*, study: StandardSettingStudy, round_: int) -> dict[int, list[float]]:
    values: dict[int, list[float]] = defaultdict(list)
    for question_id, value in StudyRating.objects.filter(study=study, round=round_).values_list("question_id", "value"):
        values[question_id].append(value)
    return values


def _facilities(question_ids: list[int]) -> dict[int, float]:
    return dict(ItemStatistic.objects.filter(question_id__in=question_ids).values_list("question_id", "facility"))


def _final_ratings(*, study: StandardSettingStudy) -> dict[int, dict[int, float]]:
    """rater id → question id → final rating: round 2 where the rater gave one, else round 1."""
    final: dict[int, dict[int, float]] = defaultdict(dict)
    for rater_id, question_id, value in (
        StudyRating.objects.filter(study=study).order_by("round").values_list("rater_id", "question_id", "value")
    ):
        final[rater_id][question_id] = value  # round 2 comes after round 1 and wins
    return final


@dataclass(frozen=True)
class Impact:
    """How recent candidates would fare at a cut: their latest scored mock of the version in the window."""

    candidates: int
    passing: int
    days: int

    @property
    def share(self) -> float | None:
        return self.passing / self.candidates if self.candidates else None


def recent_thetas(*, exam: Exam, now: datetime | None = None, days: int = IMPACT_DAYS) -> list[float]:
    """θ̂ of each candidate's latest scored full mock of the version submitted in the last ``days`` days."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        AttemptResult.objects.filter(
            attempt__exam=exam,
            attempt__mode=AttemptMode.MOCK,
            attempt__state=AttemptState.SCORED,
            attempt__submitted_at__gte=since,
        )
        .order_by("attempt__candidate_id", "-attempt__submitted_at", "-attempt_id")
        .values_list("attempt__candidate_id", "theta")
    )
    latest: dict[int, float] = {}
    for candidate_id, theta in rows:
        latest.setdefault(candidate_id, theta)
    return list(latest.values())


def impact_at(*, thetas: list[float], cut: float, days: int = IMPACT_DAYS) -> Impact:
    """Candidates at or above the cut pass: the same rule as a scaled score of at least the passing score."""
    return Impact(candidates=len(thetas), passing=sum(theta >= cut for theta in thetas), days=days)


@dataclass(frozen=True)
class RoundOneCut:
    raw: float
    theta: float
    items: int
    impact: Impact


@dataclass
class RaterProgress:
    rater_id: int
    name: str
    round_one: int
    round_two: int
    final: int  # items with a final rating (round 2, else round 1)


@dataclass
class SummaryRow:
    item: StudyItem
    round_one: Spread | None
    round_two: Spread | None
    final: Spread | None  # over the raters counted at adoption
    facility: float | None
    responses: int | None


@dataclass
class RoundSummary:
    study: StandardSettingStudy
    rows: list[SummaryRow]
    raters: list[RaterProgress]
    items: int
    round_one: RoundOneCut | None = None  # when every item has a round-1 rating
    current_theta: float = 0.0
    current_source: str = PROVISIONAL
    current_study: StandardSettingStudy | None = None
    current_impact: Impact | None = None
    missing_round_one: list[int] = field(default_factory=list)  # positions without any round-1 rating
    adoption_problems: list[str] = field(default_factory=list)


def round_summary(*, study: StandardSettingStudy, now: datetime | None = None) -> RoundSummary:
    """The facilitator's view of a study: each item's ratings per round, each rater's progress, the round-1
    panel cut with its impact on recent candidates, and what adoption still needs."""
    items = list(study.items.select_related("question", "task").order_by("position"))
    questions = [item.question for item in items]
    rows_by_round = {1: _ratings_by_item(study=study, round_=1), 2: _ratings_by_item(study=study, round_=2)}
    final = _final_ratings(study=study)
    complete = {rater: ratings for rater, ratings in final.items() if len(ratings) == len(items)}
    statistics = {
        row[0]: row[1:]
        for row in ItemStatistic.objects.filter(question__in=questions).values_list(
            "question_id", "facility", "responses"
        )
    }
    rows = [
        SummaryRow(
            item=item,
            round_one=_spread(rows_by_round[1].get(item.question_id, [])),
            round_two=_spread(rows_by_round[2].get(item.question_id, [])),
            final=_spread([ratings[item.question_id] for ratings in complete.values()]),
            facility=statistics.get(item.question_id, (None, None))[0],
            responses=statistics.get(item.question_id, (None, None))[1],
        )
        for item in items
    ]
    counts: dict[tuple[int, int], int] = {
        (rater, round_): n
        for rater, round_, n in StudyRating.objects.filter(study=study)
        .values_list("rater_id", "round")
        .annotate(n=Count("id"))
        .values_list("rater_id", "round", "n")
    }
    users = get_user_model().objects.in_bulk(list(final))
    raters = sorted(
        (
            RaterProgress(
                rater_id=rater,
                name=_name(users[rater]),
                round_one=counts.get((rater, 1), 0),
                round_two=counts.get((rater, 2), 0),
                final=len(ratings),
            )
            for rater, ratings in final.items()
        ),
        key=lambda progress: progress.name.lower(),
    )
    summary = RoundSummary(study=study, rows=rows, raters=raters, items=len(items))
    thetas = recent_thetas(exam=study.exam, now=now)
    summary.current_theta = exam_cut_theta(exam=study.exam)
    summary.current_source, summary.current_study = cut_source(exam=study.exam)
    summary.current_impact = impact_at(thetas=thetas, cut=summary.current_theta)
    summary.missing_round_one = [row.item.position for row in rows if row.round_one is None]
    summary.round_one = round_one_cut(study=study, thetas=thetas)
    summary.adoption_problems = _adoption_problems(study=study, items=items, final=final, users=users)
    return summary


def round_one_cut(
    *, study: StandardSettingStudy, now: datetime | None = None, thetas: list[float] | None = None
) -> RoundOneCut | None:
    """The round-1 panel cut (from the mean round-1 rating of each item) and its impact on recent candidates, as
    raters see it in round 2; None while some item has no round-1 rating."""
    questions = study_questions(study=study)
    by_item = _ratings_by_item(study=study, round_=1)
    if not questions or any(not by_item.get(question.pk) for question in questions):
        return None
    means = np.array([np.mean(by_item[question.pk]) for question in questions], dtype=float)
    theta = _cut_solve(questions, study.exam, means)
    return RoundOneCut(
        raw=float(means.sum()),
        theta=theta,
        items=len(questions),
        impact=impact_at(thetas=recent_thetas(exam=study.exam, now=now) if thetas is None else thetas, cut=theta),
    )


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _positions(positions: list[int]) -> str:
    shown = ", ".join(str(p) for p in positions[:10])
    return shown + (f" and {len(positions) - 10} more" if len(positions) > 10 else "")


def _adoption_problems(
    *, study: StandardSettingStudy, items: list[StudyItem], final: dict[int, dict[int, float]], users: dict
) -> list[str]:
    """What stands between the study and adoption, in words a facilitator can act on (empty: ready)."""
    problems = []
    if study.state == StudyState.ROUND_1:
        problems.append("Round 2 is not open yet: raters see the impact data and may revise in round 2.")
    elif not study.is_open:
        problems.append(f"The study is {study.get_state_display().lower()}.")
    complete = [rater for rater, ratings in final.items() if len(ratings) == len(items)]
    if len(complete) < PANEL_MIN_RATERS:
        names = ", ".join(sorted(_name(users[rater]) for rater in complete)) or "none"
        problems.append(
            f"Adoption needs at least {PANEL_MIN_RATERS} raters who rated all {len(items)} items; "
            f"{len(complete)} {'has' if len(complete) == 1 else 'have'} ({names})."
        )
        for rater, ratings in sorted(final.items(), key=lambda kv: _name(users[kv[0]]).lower()):
            missing = [item.position for item in items if item.question_id not in ratings]
            if missing:
                problems.append(
                    f"{_name(users[rater])} has not rated item{'s' if len(missing) > 1 else ''} {_positions(missing)}."
                )
    return problems


# --- writes -----------------------------------------------------------------------------------------------------


def study_create(*, exam: Exam, name: str, created_by, rng: random.Random | None = None) -> StandardSettingStudy:
    """A new study in round 1 with a base form: the scored items of one form drawn as for a full mock.

    Assembly reads the facilitator's own recent attempts only to prefer unseen items, as for any form."""
    name = name.strip()
    if not name:
        raise StandardSettingError("Name the study, e.g. “MLA-C02 panel, spring”.")
    try:
        planned = form_assemble(exam=exam, candidate=created_by, rng=rng or random.Random())
    except FormAssemblyError as error:
        raise StandardSettingError(f"No base form can be drawn for {exam.code}: {error}") from error
    scored = [item.question for item in planned if item.scored]
    with transaction.atomic():
        study = StandardSettingStudy.objects.create(exam=exam, name=name, created_by=created_by)
        StudyItem.objects.bulk_create(
            StudyItem(study=study, position=position, question_id=question.pk, task_id=question.task_id)
            for position, question in enumerate(scored, start=1)
        )
    return study


def study_ratings_save(*, study: StandardSettingStudy, rater, round_: int, values: dict[int, float | None]) -> int:
    """Save a rater's sheet for the open round: a value sets the rating of that item, None clears it (so a sheet
    can be saved part-filled and finished later). All or nothing: any unacceptable value saves none. Returns
    how many items the rater has rated in this round."""
    if not getattr(rater, "is_staff", False):
        raise StandardSettingError("Only staff members sit on a standard-setting panel.")
    with transaction.atomic():
        locked = StandardSettingStudy.objects.select_for_update().get(pk=study.pk)
        if not locked.is_open:
            raise RatingsInvalidError({None: f"The study is {locked.get_state_display().lower()}: ratings are closed."})
        if locked.round != round_:
            raise RatingsInvalidError(
                {
                    None: f"Round {locked.round} has opened since this sheet was loaded; nothing was saved. "
                    "Reload the sheet and enter your ratings again."
                }
            )
        positions = dict(locked.items.values_list("question_id", "position"))
        errors: dict[int | None, str] = {}
        for question_id, value in values.items():
            if question_id not in positions:
                errors[question_id] = f"Item id {question_id} is not on this study's base form."
            elif value is not None and not (RATING_MIN <= value <= RATING_MAX and math.isfinite(value)):
                errors[question_id] = (
                    f"Item {positions[question_id]}: enter a probability from {RATING_MIN} to {RATING_MAX}."
                )
        if errors:
            raise RatingsInvalidError(errors)
        cleared = [question_id for question_id, value in values.items() if value is None]
        StudyRating.objects.filter(study=locked, rater=rater, round=round_, question_id__in=cleared).delete()
        StudyRating.objects.bulk_create(
            [
                StudyRating(study=locked, rater=rater, question_id=question_id, round=round_, value=value)
                for question_id, value in values.items()
                if value is not None
            ],
            update_conflicts=True,
            unique_fields=["study", "rater", "question", "round"],
            update_fields=["value", "rated_at"],
        )
        return StudyRating.objects.filter(study=locked, rater=rater, round=round_).count()


def study_round_two_open(*, study: StandardSettingStudy, by) -> StandardSettingStudy:
    """Close round 1 and open round 2; needs a round-1 rating for every item, so the impact data exists."""
    with transaction.atomic():
        locked = StandardSettingStudy.objects.select_for_update().get(pk=study.pk)
        if locked.state != StudyState.ROUND_1:
            raise StandardSettingError(f"Round 2 can only follow round 1; the study is {locked.get_state_display()}.")
        rated = set(StudyRating.objects.filter(study=locked, round=1).values_list("question_id", flat=True))
        missing = [
            position
            for question_id, position in locked.items.values_list("question_id", "position")
            if question_id not in rated
        ]
        if missing:
            raise StandardSettingError(
                f"Every item needs at least one round-1 rating before round 2 opens (for the impact data); "
                f"item{'s' if len(missing) > 1 else ''} {_positions(sorted(missing))} "
                f"{'have' if len(missing) > 1 else 'has'} none."
            )
        locked.state = StudyState.ROUND_2
        locked.round_two_opened_at = timezone.now()
        locked.save(update_fields=["state", "round_two_opened_at"])
    return locked


def study_abandon(*, study: StandardSettingStudy, by) -> StandardSettingStudy:
    """Stop an open study; its ratings are kept for the record and the cut does not change."""
    with transaction.atomic():
        locked = StandardSettingStudy.objects.select_for_update().get(pk=study.pk)
        if not locked.is_open:
            raise StandardSettingError(f"The study is already {locked.get_state_display().lower()}.")
        locked.state = StudyState.ABANDONED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["state", "closed_at"])
    return locked


def study_adopt(*, study: StandardSettingStudy, by, now: datetime | None = None) -> RecordedCut:
    """Adopt the panel's cut and record it (modified Angoff).

    Each rater's final rating of an item is their round-2 rating, else their round-1 rating; the panel is the
    raters with a final rating for every item (at least ``PANEL_MIN_RATERS``). With p̄_i the panel's mean:
    raw cut ``Σ p̄_i``; θ_c solves ``Σ P_i(θ_c) = Σ p̄_i``; each rater's own θ cut solves the same curve with
    their ratings, and the spread is their SD (n − 1) with standard error ``SD / √R``. A θ_c outside
    ±``CUT_LIMIT`` logits is refused.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = StandardSettingStudy.objects.select_for_update().select_related("exam").get(pk=study.pk)
        if locked.state != StudyState.ROUND_2:
            raise StandardSettingError(
                "Open round 2 first: raters see the impact data and may revise before the cut is adopted."
                if locked.state == StudyState.ROUND_1
                else f"The study is {locked.get_state_display().lower()}; it cannot be adopted."
            )
        items = list(locked.items.select_related("question").order_by("position"))
        questions = [item.question for item in items]
        final = _final_ratings(study=locked)
        users = get_user_model().objects.in_bulk(list(final))
        complete = {rater: ratings for rater, ratings in final.items() if len(ratings) == len(items)}
        if not items or len(complete) < PANEL_MIN_RATERS:
            raise StandardSettingError(
                " ".join(_adoption_problems(study=locked, items=items, final=final, users=users))
            )
        matrix = np.array([[ratings[q.pk] for q in questions] for ratings in complete.values()], dtype=float)
        means = matrix.mean(axis=0)
        theta = _cut_solve(questions, locked.exam, means)
        if not -CUT_LIMIT <= theta <= CUT_LIMIT:
            raise StandardSettingError(
                f"The panel's cut is θ = {theta:+.2f} logits (raw cut {means.sum():.1f} of {len(items)}), outside "
                f"the accepted range of ±{CUT_LIMIT}: the reporting scale maps θ = −3 and +3 to its ends, so such "
                "a cut would squash one side of it. Not adopted; review the ratings of the extreme items."
            )
        rater_cuts = [
            {
                "rater": rater,
                "name": _name(users[rater]),
                "raw": float(row.sum()),
                "theta": _cut_solve(questions, locked.exam, row),
            }
            for rater, row in zip(complete, matrix, strict=True)
        ]
        own = np.array([entry["theta"] for entry in rater_cuts])
        sd = float(own.std(ddof=1))
        cut = RecordedCut.objects.create(
            exam=locked.exam,
            study=locked,
            method=PANEL,
            theta=theta,
            raw_cut=float(means.sum()),
            items=len(items),
            raters=len(complete),
            spread_sd=sd,
            spread_se=sd / math.sqrt(len(complete)),
            item_means={str(q.pk): float(mean) for q, mean in zip(questions, means, strict=True)},
            rater_cuts=rater_cuts,
            decided_at=now,
            decided_by=by,
        )
        locked.state = StudyState.ADOPTED
        locked.adopted_at = locked.closed_at = now
        locked.adopted_by = by
        locked.save(update_fields=["state", "adopted_at", "adopted_by", "closed_at"])
        exam_id = locked.exam_id
        # The shared cache key names the latest cut, so it changes by itself; this worker's minute-long copy
        # is dropped here (other workers pick the new cut up within that minute).
        transaction.on_commit(lambda: exam_cut_forget(exam_id=exam_id))
    return cut
