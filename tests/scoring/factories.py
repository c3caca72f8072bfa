"""Scored mock attempts with answers of a chosen quality, for item statistics tests."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model

from apps.exams.models import AttemptItem
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.models import Question
from apps.questions.selectors import match_responses, questions_with_parts
from apps.scoring.services import attempt_score_compute
from apps.scoring.simulation import answer_simulate
from apps.syllabus.models import Task
from tests.questions.factories import QuestionFactory


def answer_for(question: Question, *, right: bool) -> dict:
    """A canonical answer that is right, or wrong, for the question."""
    if question.type in ("single", "multiple"):
        keys = [c.pk for c in question.choices.all() if c.is_correct]
        wrong = [c.pk for c in question.choices.all() if not c.is_correct]
        return {"choices": keys if right else [wrong[0]]}
    if question.type == "ordering":
        positions = {str(s.pk): s.position for s in question.steps.all()}
        if not right:
            first, second = list(positions)[:2]
            positions[first], positions[second] = positions[second], positions[first]
        return {"positions": positions}
    responses = match_responses(question)
    matches = {str(p.pk): responses.index(p.response) + 1 for p in question.pairs.all() if p.prompt}
    if not right:
        first = next(iter(matches))
        matches[first] = (matches[first] % len(responses)) + 1
    return {"matches": matches}


def scored_mock(*, exam, candidate, ability: float, seed: int, always_right: set[int] = frozenset()):
    """A mock where the candidate gets each item right with probability ``ability`` (or always)."""
    rng = random.Random(seed)
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=seed)
    items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question"))
    for item in items:
        right = item.question_id in always_right or rng.random() < ability
        item.answer = answer_for(item.question, right=right)
    AttemptItem.objects.bulk_update(items, ["answer"])
    attempt_submit(attempt=attempt)
    return attempt


@dataclass
class TrueItem:
    """What the simulation knows and the statistics must find out: 3PL parameters and each distractor's pull."""

    a: float
    b: float
    c: float
    pull: np.ndarray  # relative pull of the distractors on a wrong answer, in authoring order
    miskeyed: bool = False  # the stored key is wrong: candidates who know the answer pick the first distractor

    def right(self, theta: float, rng: np.random.Generator) -> bool:
        return bool(rng.random() < self.c + (1 - self.c) / (1 + np.exp(-self.a * (theta - self.b))))


def _answer(question: Question, item: TrueItem, theta: float, rng: np.random.Generator) -> dict:
    if rng.random() < 0.01:  # now and then a candidate leaves an item blank
        return {}
    knows = item.right(theta, rng)
    if not item.miskeyed:
        return answer_simulate(question, right=knows, rng=rng, weights=item.pull)
    options = list(question.choices.all())
    true_answer = next(choice for choice in options if not choice.is_correct)
    if knows:
        return {"choices": [true_answer.pk]}
    others = [choice.pk for choice in options if choice.pk != true_answer.pk]  # the stored key among them
    return {"choices": [others[int(rng.integers(len(others)))]]}


def bank_simulate(*, exam, candidates: int, seed: int = 2026) -> tuple[int, int]:
    """96 single-answer items (72 published, 24 pretest) answered by ``candidates`` simulated candidates on their
    first mock, through the real path: forms assembled by the exams app, stored answers, submission and marking.
    One published item is miskeyed and one has a distractor nobody finds plausible; returns their ids."""
    for task in Task.objects.filter(domain__exam=exam).order_by("code"):
        for n in range(8):
            status = "pretest" if n >= 6 else "published"
            QuestionFactory(exam=exam, task=task.code, type="single", status=status, stem=f"{task.code} item {n}?")
    questions = questions_with_parts().in_bulk(Question.objects.values_list("pk", flat=True))
    rng = np.random.default_rng(seed)
    truth = {
        pk: TrueItem(
            a=float(rng.lognormal(0, 0.3)),
            b=float(rng.normal(0, 1)),
            c=float(rng.uniform(0.15, 0.25)),
            pull=rng.permutation(rng.dirichlet([18.0, 12.0, 9.0])),  # about 45%, 30% and 25% of wrong answers
        )
        for pk in sorted(questions)
    }
    published = sorted(pk for pk, q in questions.items() if q.status == "published")
    miskeyed, dead = published[5], published[40]
    truth[miskeyed].miskeyed = True
    truth[dead].pull = np.array([0.6, 0.4, 0.0])
    users = get_user_model()
    for n, theta in enumerate(rng.normal(0, 1, candidates)):
        attempt = attempt_start_mock(candidate=users.objects.create_user(f"sim{n}"), exam=exam, seed=n)
        items = list(AttemptItem.objects.filter(attempt=attempt))
        for item in items:
            item.answer = _answer(questions[item.question_id], truth[item.question_id], theta, rng) or None
        AttemptItem.objects.bulk_update(items, ["answer"])
        attempt_submit(attempt=attempt)
        attempt_score_compute(attempt_id=attempt.pk)  # what the queued task does (idempotent)
    return miskeyed, dead
