"""Building forms: which items an attempt gets, in what order.

A full mock draws its scored items to the blueprint (domain counts proportional to weights, spread evenly over
each domain's tasks), adds unscored pretest items, keeps case studies together and prefers items the candidate
has not seen recently. It carries exactly ``exam.case_studies_per_form`` case studies whenever the bank has that
many eligible ones (every item of the case published) that fit the blueprint: they are placed first, chosen at
random among those seen least recently, and their items count toward their domain's and task's quotas, so the
domain counts stay exact. With fewer eligible ones the form carries what fits (possibly none); 0 means never a
case study. Practice and review sets use the same pieces.

Forms of an exam version draw the items written for it and those placed in it (carried over from the version it
replaces), of the item types its blueprint lists, each counted under its task in that version.

Keys never cross between a running mock and a set that shows them: practice and review sets leave out every
item family of the candidate's unfinished mocks, and a new mock leaves out those of the candidate's unfinished
practice and review sets (whatever their feedback setting, since submitting one shows its keys too).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TypeVar

from apps.exams.models import FULL_EXAM_MODES, AttemptItem, AttemptMode, AttemptState
from apps.exams.selectors import attempt_families_unfinished
from apps.questions.models import DELIVERABLE_STATUSES, Question, QuestionStatus
from apps.questions.selectors import questions_placed
from apps.syllabus.models import Exam

K = TypeVar("K")
RECENT_ATTEMPTS = 10


class FormAssemblyError(Exception):
    """The bank cannot supply what the form needs; the message says what is missing."""


IN_RUNNING_MOCK = "in your unfinished mock exam; finish it first."


def largest_remainder(total: int, weights: dict[K, float]) -> dict[K, int]:
    """Split ``total`` into whole numbers proportional to ``weights`` (Hamilton's method)."""
    weight_sum = sum(weights.values())
    if total <= 0 or weight_sum <= 0:
        return dict.fromkeys(weights, 0)
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    leftovers = sorted(exact, key=lambda key: (exact[key] - counts[key], weights[key]), reverse=True)
    for key in leftovers[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


@dataclass
class Unit:
    """Items that travel together: one standalone item, or all items of a case study."""

    questions: list[Question]
    seen: int = 0
    sort_key: float = 0.0

    @property
    def tasks(self) -> Counter[int]:
        return Counter(question.task_id for question in self.questions)

    @property
    def domain_id(self) -> int:
        return Counter(question.task.domain_id for question in self.questions).most_common(1)[0][0]

    @property
    def is_case(self) -> bool:
        return self.questions[0].case_study_id is not None

    @property
    def concepts(self) -> set[str]:
        return {question.concept for question in self.questions if question.concept}


@dataclass
class PlannedItem:
    question: Question
    scored: bool


@dataclass
class _Pool:
    units_by_domain: dict[int, list[Unit]] = field(default_factory=lambda: defaultdict(list))


def recently_seen_families(*, candidate, exam: Exam) -> Counter:
    """How often each item family appeared in the candidate's recent attempts."""
    recent = list(candidate.attempts.filter(exam=exam).values_list("id", flat=True)[:RECENT_ATTEMPTS])
    return Counter(AttemptItem.objects.filter(attempt_id__in=recent).values_list("question__family", flat=True))


def _held(unit: Unit, held: dict) -> bool:
    return any(question.family in held for question in unit.questions)


def _sets_named(holders: set[tuple[int, str]]) -> tuple[str, str]:
    """How a message names the unfinished sets (attempt id, mode) that hold items, and refers back to them."""
    kinds = " and ".join(sorted({mode for _, mode in holders}))  # "practice", "review", "practice and review"
    if len(holders) == 1:
        return f"{kinds} set", "that set"
    count = "" if " and " in kinds else f"{len(holders)} "
    return f"{count}{kinds} sets", "those sets"


def _units(questions: list[Question], seen: Counter, rng: random.Random) -> list[Unit]:
    cases: dict[int, list[Question]] = defaultdict(list)
    units: list[Unit] = []
    for question in questions:
        if question.case_study_id:
            cases[question.case_study_id].append(question)
        else:
            units.append(Unit([question]))
    for members in cases.values():
        units.append(Unit(sorted(members, key=lambda q: (q.case_order, q.pk))))
    for unit in units:
        unit.seen = sum(seen[question.family] for question in unit.questions)
        unit.sort_key = rng.random()
    # Unseen first; within the same exposure, random.
    units.sort(key=lambda unit: (unit.seen > 0, unit.seen, unit.sort_key))
    return units


def _fill(units: list[Unit], quota: int, task_quota: dict[int, int], concepts: set[str] | None = None) -> list[Unit]:
    """Greedy fill: take units that fit the remaining task quotas, then relax task quotas to fill the total.

    ``concepts`` are those already on the form (updated in place): a unit testing one of them is skipped, so no
    two items on a form test the same concept, unless the bank cannot fill the quota any other way."""
    concepts = set() if concepts is None else concepts
    chosen: list[Unit] = []
    remaining = dict(task_quota)
    taken = 0
    for strict, distinct in ((True, True), (False, True), (False, False)):
        for unit in units:
            if unit in chosen or taken + len(unit.questions) > quota:
                continue
            if strict and any(remaining.get(task, 0) < n for task, n in unit.tasks.items()):
                continue
            if distinct and unit.concepts & concepts:
                continue
            chosen.append(unit)
            concepts |= unit.concepts
            taken += len(unit.questions)
            for task, n in unit.tasks.items():
                remaining[task] = remaining.get(task, 0) - n
            if taken == quota:
                return chosen
    return chosen


def _complete_cases(exam: Exam) -> set[int]:
    """Case studies whose every item (family) has a published version: only those go on a mock whole."""
    families: dict[int, dict] = defaultdict(dict)
    rows = (
        Question.objects.filter(task__domain__exam=exam, case_study__isnull=False)
        .exclude(status=QuestionStatus.RETIRED)
        .values_list("case_study_id", "family", "status")
    )
    for case_id, family, status in rows:
        published = families[case_id].get(family, False)
        families[case_id][family] = published or status == QuestionStatus.PUBLISHED
    return {case_id for case_id, members in families.items() if all(members.values())}


def _cases_pick(cases: list[Unit], count: int, domain_quota: dict[int, int], standalone: dict[int, int]) -> list[Unit]:
    """Up to ``count`` case studies, in the order given (least seen first, random among equals), each taken only
    if its items fit the room left in their domains and the domain's standalone items can fill the rest."""
    room = dict(domain_quota)
    picked: list[Unit] = []
    for unit in cases:
        if len(picked) >= count:
            break
        need = Counter(question.task.domain_id for question in unit.questions)
        fits = all(n <= room.get(domain, 0) <= standalone.get(domain, 0) + n for domain, n in need.items())
        if fits:
            picked.append(unit)
            for domain, n in need.items():
                room[domain] -= n
    return picked


def _less(task_quota: dict[int, int], taken: Counter, total: int) -> dict[int, int]:
    """Task quotas after ``taken`` items are already placed, trimmed (largest first) to add up to ``total``."""
    quota = {task: max(0, n - taken[task]) for task, n in task_quota.items()}
    while sum(quota.values()) > total:
        quota[max(quota, key=lambda task: quota[task])] -= 1
    return quota


def _deliverable(exam: Exam, *, published_only: bool = False, task_ids=None, families=None) -> list[Question]:
    """The items the version can deliver, each with its task in this version (its own or a placement's)."""
    statuses = [QuestionStatus.PUBLISHED] if published_only else DELIVERABLE_STATUSES
    return questions_placed(exam=exam, statuses=statuses, task_ids=task_ids, families=families)


def _task_quota(domain_quota: int, task_ids: list[int], available: Counter) -> dict[int, int]:
    """Spread a domain's quota evenly over its tasks, moving what a thin task cannot supply to the others."""
    quota = largest_remainder(domain_quota, dict.fromkeys(task_ids, 1.0))
    for _ in range(len(task_ids)):
        short = {task: quota[task] - available[task] for task in task_ids if quota[task] > available[task]}
        if not short:
            break
        spare = [task for task in task_ids if quota[task] < available[task]]
        if not spare:
            break
        for task, missing in short.items():
            quota[task] -= missing
        extra = largest_remainder(sum(short.values()), dict.fromkeys(spare, 1.0))
        for task, n in extra.items():
            quota[task] += n
    return quota


def form_assemble(*, exam: Exam, candidate, rng: random.Random, scored_count: int | None = None) -> list[PlannedItem]:
    """A full mock: ``exam.scored_count`` scored items (or ``scored_count``, for a beta form) to the blueprint
    plus up to ``exam.unscored_count`` pretest items, order shuffled with case-study items kept together.

    ``exam.case_studies_per_form`` case studies are placed first (see the module docstring), then each domain's
    remaining quota is filled with standalone items spread over its tasks.
    """
    seen = recently_seen_families(candidate=candidate, exam=exam)
    held = attempt_families_unfinished(candidate=candidate, modes=[AttemptMode.PRACTICE, AttemptMode.REVIEW])
    questions = list(_deliverable(exam))
    published = [q for q in questions if q.status == QuestionStatus.PUBLISHED]
    pretest = [q for q in questions if q.status == QuestionStatus.PRETEST and q.case_study_id is None]

    domains = {domain.id: domain for domain in exam.domains.prefetch_related("tasks")}
    scored_count = exam.scored_count if scored_count is None else scored_count
    domain_quota = largest_remainder(scored_count, {d.id: float(d.weight) for d in domains.values()})
    held_in_domain: dict[int, list[Question]] = defaultdict(list)
    for question in published:
        if question.family in held:
            held_in_domain[question.task.domain_id].append(question)
    units = [unit for unit in _units(published, seen, rng) if not _held(unit, held)]
    standalone_by_domain: dict[int, list[Unit]] = defaultdict(list)
    for unit in units:
        if not unit.is_case:
            standalone_by_domain[unit.domain_id].append(unit)
    complete = _complete_cases(exam) if exam.case_studies_per_form else set()
    eligible = [unit for unit in units if unit.is_case and unit.questions[0].case_study_id in complete]
    cases = _cases_pick(
        eligible,
        exam.case_studies_per_form,
        domain_quota,
        {domain_id: sum(len(u.questions) for u in found) for domain_id, found in standalone_by_domain.items()},
    )
    in_cases = Counter(question.task_id for unit in cases for question in unit.questions)

    chosen: list[Unit] = list(cases)
    concepts: set[str] = set().union(*(unit.concepts for unit in cases))
    for domain_id, quota in domain_quota.items():
        standalone = standalone_by_domain[domain_id]
        task_ids = [task.id for task in domains[domain_id].tasks.all()]
        placed = sum(in_cases[task] for task in task_ids)
        available = Counter(q.task_id for unit in standalone for q in unit.questions) + in_cases
        task_quota = _less(_task_quota(quota, task_ids, available), in_cases, quota - placed)
        picked = _fill(standalone, quota - placed, task_quota, concepts)
        got = placed + sum(len(unit.questions) for unit in picked)
        if got < quota:
            number = domains[domain_id].number
            held_here = held_in_domain[domain_id]
            if held_here:
                sets, those = _sets_named({held[question.family] for question in held_here})
                raise FormAssemblyError(
                    f"Domain {number} needs {quota} published items for a full mock; the bank can supply {got} "
                    f"now, as {len(held_here)} more are in your unfinished {sets}, which would show their keys. "
                    f"Finish or submit {those} first, then start the mock."
                )
            raise FormAssemblyError(
                f"Domain {number} needs {quota} published items for a full mock; the bank can supply {got}."
            )
        chosen.extend(picked)

    pretest_units = [unit for unit in _units(pretest, seen, rng) if not _held(unit, held)]
    pretest_units.sort(key=lambda unit: bool(unit.concepts & concepts))  # a concept already on the form last
    pretest_quota = largest_remainder(
        min(exam.unscored_count, len(pretest_units)), {d.id: float(d.weight) for d in domains.values()}
    )
    pretest_chosen: list[Unit] = []
    for domain_id, quota in pretest_quota.items():
        pretest_chosen.extend([u for u in pretest_units if u.domain_id == domain_id][:quota])
    for unit in pretest_units:  # a thin domain's share goes to the others
        if len(pretest_chosen) >= min(exam.unscored_count, len(pretest_units)):
            break
        if unit not in pretest_chosen:
            pretest_chosen.append(unit)

    ordered = [(unit, True) for unit in chosen] + [(unit, False) for unit in pretest_chosen]
    rng.shuffle(ordered)
    return [PlannedItem(question, scored) for unit, scored in ordered for question in unit.questions]


def practice_assemble(
    *, exam: Exam, candidate, task_ids: list[int], count: int, rng: random.Random
) -> list[PlannedItem]:
    """A practice set over the chosen tasks: evenly spread, unseen items first, case studies kept together,
    nothing from the candidate's unfinished mocks."""
    seen = recently_seen_families(candidate=candidate, exam=exam)
    held = attempt_families_unfinished(candidate=candidate, modes=FULL_EXAM_MODES)
    questions = _deliverable(exam, published_only=True, task_ids=task_ids)
    if not questions:
        raise FormAssemblyError("The chosen tasks have no published items yet.")
    units = [unit for unit in _units(questions, seen, rng) if not _held(unit, held)]
    free = [question for unit in units for question in unit.questions]
    if not free:
        raise FormAssemblyError(
            f"The chosen tasks have no items left to practise: the remaining items of these tasks are {IN_RUNNING_MOCK}"
        )
    available = Counter(q.task_id for q in free)
    count = min(count, len(free))
    picked = _fill(units, count, _task_quota(count, list(task_ids), available))
    rng.shuffle(picked)
    return [PlannedItem(question, True) for unit in picked for question in unit.questions]


def review_assemble(*, candidate, exam: Exam, count: int, families: list | None = None) -> list[PlannedItem]:
    """Items the candidate got wrong or flagged in finished attempts, most recent first, as their live version;
    or, with ``families``, exactly those items (the spaced-repetition queue). Items of the candidate's
    unfinished mocks are left out."""
    due = families is not None
    if families is None:
        rows = (
            AttemptItem.objects.filter(
                attempt__candidate=candidate,
                attempt__exam=exam,
                attempt__state__in=[AttemptState.SUBMITTED, AttemptState.SCORED],
            )
            .exclude(is_correct=True, flagged=False)
            .order_by("-attempt__started_at", "position")
            .values_list("question__family", flat=True)
        )
        families = list(dict.fromkeys(rows))  # first occurrence, most recent first
    live = {q.family: q for q in _deliverable(exam, published_only=True, families=families)}
    wanted = [live[family] for family in families if family in live]
    held = attempt_families_unfinished(candidate=candidate, modes=FULL_EXAM_MODES) if wanted else {}
    picked = [question for question in wanted if question.family not in held][:count]
    if picked:
        return [PlannedItem(question, True) for question in picked]
    if wanted:
        what = "the items due for review" if due else "the items you missed or flagged"
        raise FormAssemblyError(f"Nothing to review right now: {what} are {IN_RUNNING_MOCK}")
    if due:
        raise FormAssemblyError("No items are due for review.")
    raise FormAssemblyError("Nothing to review yet: finish an attempt first, and missed or flagged items appear here.")
