"""``bank_lint``: the checks a program can make on a whole bank, beyond the per-item rules.

Two modes share the blueprint checks and their messages. ``bank_lint`` works on parsed bank files and a syllabus
file, so it runs without a database, in CI and before a load. ``bank_lint_exam`` checks the bank in the database
as one exam version sees it: items written for it and items placed in it (carried over), each under its task and
skills in that version, against that version's blueprint and targets (``EXAM_TARGETS``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from itertools import combinations, pairwise
from pathlib import Path
from statistics import median

import yaml
from django.db.models import Count, F, Q

from apps.questions.interchange.base import normalised_key
from apps.questions.interchange.native import ParsedItem, parse_bank
from apps.questions.models import DELIVERABLE_STATUSES, Placement, Question, QuestionStatus
from apps.questions.placements import skill_coverage
from apps.questions.rules import MATCHING, MULTIPLE, ORDERING, SINGLE, choose_count, code_key, normalise
from apps.questions.selectors import questions_of_exam
from apps.syllabus.models import Exam, Task

TYPES = (SINGLE, MULTIPLE, ORDERING, MATCHING)


@dataclass(frozen=True)
class LintTargets:
    """What a bank must hold. The defaults are MLA-C01's, which the shipped bank meets; ``EXAM_TARGETS`` has
    each exam version's."""

    min_published: int = 400
    min_pretest: int = 45
    min_pretest_per_domain: int = 5
    share_tolerance: float = 2.0
    min_per_task: int = 25
    min_per_skill: int = 1
    min_multiple: float = 0.20
    min_ordering: float = 0.05
    min_matching: float = 0.05
    min_case_studies: int = 6
    case_items: tuple[int, int] = (3, 4)
    key_position_tolerance: float = 5.0
    difficulty_targets: tuple[tuple[str, float], ...] = (("easy", 25.0), ("medium", 50.0), ("hard", 25.0))
    difficulty_tolerance: float = 10.0
    near_duplicate: float = 0.6
    stem_chars: tuple[int, int] = (60, 2000)
    option_chars: int = 400
    key_length_ratio: float = 2.5


EXAM_TARGETS: dict[str, LintTargets] = {
    "MLA-C01": LintTargets(),
    "MLA-C02": LintTargets(
        min_published=500,
        min_pretest=60,
        min_per_skill=3,
        min_multiple=0.25,
        min_ordering=0.0,
        min_matching=0.0,
        min_case_studies=0,
        share_tolerance=2.0,
    ),
}
"""Each exam version's targets, by code, for ``bank_lint --exam``. MLA-C01's are the defaults, which its shipped
bank meets. MLA-C02's are its content plan's: a larger bank with at least three published items on each of its
skills, single and multiple response only, so no ordering, matching or case-study minimums. A version not listed
gets the defaults less the minimums for what its forms do not use (``lint_targets``)."""


def lint_targets(exam: Exam) -> LintTargets:
    """The targets for ``exam``: its row of ``EXAM_TARGETS``, or defaults fitted to its format."""
    if exam.code in EXAM_TARGETS:
        return EXAM_TARGETS[exam.code]
    defaults = LintTargets()
    return replace(
        defaults,
        min_multiple=defaults.min_multiple if exam.takes(MULTIPLE) else 0.0,
        min_ordering=defaults.min_ordering if exam.takes(ORDERING) else 0.0,
        min_matching=defaults.min_matching if exam.takes(MATCHING) else 0.0,
        min_case_studies=defaults.min_case_studies if exam.case_studies_per_form else 0,
    )


@dataclass
class LintReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    table: str = ""
    published: int = 0
    pretest: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Located:
    file: str
    item: ParsedItem

    @property
    def where(self) -> str:
        return f"{self.file}:{self.item.line} ({self.item.ref})"


def _shingles(text: str) -> set[tuple[str, str]]:
    words = normalise(text).split()
    return set(pairwise(words))


def bank_lint(*, bank_files: list[Path], syllabus_file: Path, targets: LintTargets | None = None) -> LintReport:
    """Check a bank against the blueprint; every failure names the file, line and item, or the count that is off."""
    targets = targets or LintTargets()
    report = LintReport()
    syllabus = yaml.safe_load(syllabus_file.read_text(encoding="utf-8"))
    weights = {str(d["number"]): d["weight"] for d in syllabus["domains"]}
    tasks = {str(t["code"]): (str(d["number"]), t) for d in syllabus["domains"] for t in d["tasks"]}
    objectives = {f"{code}.{n}" for code, (_, t) in tasks.items() for n in range(1, len(t["objectives"]) + 1)}

    items: list[_Located] = []
    cases: dict[str, int] = Counter()
    for path in bank_files:
        bank = parse_bank(path.read_text(encoding="utf-8"))
        report.errors.extend(f"{path.name}:{error}" for error in bank.errors)
        items.extend(_Located(path.name, item) for item in bank.items)
        for item in bank.items:
            if item.case_ref:
                cases[item.case_ref] += 1

    refs = Counter(located.item.ref for located in items)
    for ref, count in refs.items():
        if count > 1:
            report.errors.append(f"ref {ref!r} appears {count} times across the bank.")

    published = [x for x in items if x.item.draft.status == "published"]
    pretest = [x for x in items if x.item.draft.status == "pretest"]
    report.published, report.pretest = len(published), len(pretest)
    _check_item_shapes(items, targets, report)
    _check_counts(published, pretest, weights, tasks, objectives, targets, report)
    _check_mix(published, cases, targets, report)
    _check_duplicates(items, targets, report)
    report.table = _coverage_table(published, pretest, tasks)
    return report


def _check_item_shapes(items: list[_Located], targets: LintTargets, report: LintReport) -> None:
    stems = [len(x.item.draft.stem) for x in items] or [0]
    low, high = targets.stem_chars
    for located in items:
        draft = located.item.draft
        if draft.type == SINGLE and len(draft.choices) != 4:
            report.errors.append(f"{located.where}: single answer needs 4 options, has {len(draft.choices)}.")
        if draft.type == MULTIPLE:
            if not 5 <= len(draft.choices) <= 6:
                report.errors.append(f"{located.where}: multiple response needs 5-6 options, has {len(draft.choices)}.")
            if choose_count(draft.stem) not in (2, 3) or not re.search(r"\(Choose (two|three)\.\)", draft.stem):
                report.errors.append(
                    f'{located.where}: multiple response stems say "(Choose two.)" or "(Choose three.)".'
                )
        if not draft.references:
            report.errors.append(f"{located.where}: needs at least one reference link.")
        if draft.angoff is None:
            report.errors.append(f"{located.where}: needs an Angoff rating.")
        if not low <= len(draft.stem) <= high:
            report.errors.append(
                f"{located.where}: stem is {len(draft.stem)} characters; expected {low}-{high} "
                f"(bank median {median(stems):.0f})."
            )
        texts = [c.text for c in draft.choices] + [s.text for s in draft.steps]
        texts += [p.prompt or "" for p in draft.pairs] + [p.response for p in draft.pairs]
        for text in texts:
            if len(text) > targets.option_chars:
                report.errors.append(f"{located.where}: an option is {len(text)} characters; keep options short.")
        keys = [len(c.text) for c in draft.choices if c.correct]
        others = [len(c.text) for c in draft.choices if not c.correct]
        if keys and others and min(keys) > targets.key_length_ratio * (sum(others) / len(others)):
            report.errors.append(f"{located.where}: the key is far longer than the distractors, a giveaway.")


def _check_counts(published, pretest, weights, tasks, objectives, targets, report) -> None:  # noqa: PLR0917
    if len(published) < targets.min_published:
        report.errors.append(f"bank: {len(published)} published items; needs at least {targets.min_published}.")
    if len(pretest) < targets.min_pretest:
        report.errors.append(f"bank: {len(pretest)} pretest items; needs at least {targets.min_pretest}.")
    domain_of = {code: domain for code, (domain, _) in tasks.items()}
    per_domain = Counter(domain_of.get(x.item.draft.task) for x in published)
    pretest_domain = Counter(domain_of.get(x.item.draft.task) for x in pretest)
    report.errors.extend(_domain_errors(weights, per_domain, pretest_domain, len(published), targets))
    report.errors.extend(_task_errors(Counter(x.item.draft.task for x in published), tasks, targets))
    unknown = {x.item.draft.task for x in published} - set(tasks)
    for code in sorted(unknown):
        report.errors.append(f"task {code}: not in the syllabus.")
    covered = {code for x in published for code in x.item.draft.objectives}
    for code in sorted(objectives - covered, key=lambda c: [int(p) for p in c.split(".")]):
        report.errors.append(f"objective {code}: no published item.")
    for code in sorted(covered - objectives):
        report.errors.append(f"objective {code}: not in the syllabus.")


def _check_mix(published, cases, targets, report) -> None:
    kinds = Counter(x.item.draft.type for x in published)
    minimums = ((MULTIPLE, targets.min_multiple), (ORDERING, targets.min_ordering), (MATCHING, targets.min_matching))
    report.errors.extend(_type_mix_errors(kinds, len(published), minimums))
    report.errors.extend(_case_study_errors(cases, targets))
    singles = [x for x in published if x.item.draft.type == SINGLE]
    positions = Counter(
        [c.correct for c in x.item.draft.choices].index(True)
        for x in singles
        if any(c.correct for c in x.item.draft.choices)
    )
    for index in range(4):
        share = 100 * positions[index] / len(singles) if singles else 25
        if abs(share - 25) > targets.key_position_tolerance:
            report.errors.append(
                f"key position {'ABCD'[index]}: holds {share:.1f}% of single-answer keys; needs 25% "
                f"(±{targets.key_position_tolerance:g})."
            )
    report.errors.extend(
        _difficulty_errors(Counter(x.item.draft.difficulty for x in published), len(published), targets)
    )


def _check_duplicates(items: list[_Located], targets: LintTargets, report: LintReport) -> None:
    """Duplicates (the importers' rule: stem, options and keys equal after normalisation) are errors.

    Near-duplicate stems are warnings naming both items: Jaccard similarity of word bigrams, compared across the
    bank by an inverted index, so the cost stays near-linear in the bank's size.
    """
    first: dict[str, _Located] = {}
    for located in items:
        key = f"{located.item.case_ref}|{normalised_key(located.item.draft)}"
        if key in first:
            report.errors.append(f"{located.where}: duplicate of {first[key].where} (same stem, options and key).")
        else:
            first[key] = located
    shingles = [_shingles(x.item.draft.stem) for x in items]
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for position, grams in enumerate(shingles):
        for gram in grams:
            index[gram].append(position)
    shared: Counter[tuple[int, int]] = Counter()
    for postings in index.values():
        if len(postings) > 50:  # a phrase every stem uses says nothing
            continue
        for pair in combinations(postings, 2):
            shared[pair] += 1
    for (a, b), common in shared.items():
        union = len(shingles[a] | shingles[b]) or 1
        if common / union >= targets.near_duplicate:
            report.warnings.append(
                f"{items[b].where}: stem is a near-duplicate of {items[a].where} ({100 * common / union:.0f}% alike)."
            )


def _coverage_table(published, pretest, tasks) -> str:
    counts = Counter((x.item.draft.task, x.item.draft.type) for x in published)
    pre = Counter(x.item.draft.task for x in pretest)
    header = f"{'domain':<7}{'task':<6}" + "".join(f"{kind:>10}" for kind in TYPES) + f"{'total':>8}{'pretest':>9}"
    lines = [header, "-" * len(header)]
    for code, (domain, _) in tasks.items():
        row = [counts[(code, kind)] for kind in TYPES]
        lines.append(f"{domain:<7}{code:<6}" + "".join(f"{n:>10}" for n in row) + f"{sum(row):>8}{pre[code]:>9}")
    totals = [sum(counts[(code, kind)] for code in tasks) for kind in TYPES]
    lines.append("-" * len(header))
    lines.append(f"{'all':<13}" + "".join(f"{n:>10}" for n in totals) + f"{sum(totals):>8}{sum(pre.values()):>9}")
    return "\n".join(lines)


# Checks both modes make, on counts; the messages are the same whichever mode found the problem.


def _domain_errors(weights, published, pretest, total: int, targets: LintTargets) -> list[str]:
    """Each domain's share of the published items against its weight, and its pretest items; keys are numbers
    as strings."""
    errors = []
    for domain, weight in weights.items():
        share = 100 * published[domain] / total if total else 0
        if abs(share - weight) > targets.share_tolerance:
            errors.append(
                f"domain {domain}: {share:.1f}% of published items; the blueprint says {weight}% "
                f"(±{targets.share_tolerance:g})."
            )
        if pretest[domain] < targets.min_pretest_per_domain:
            errors.append(f"domain {domain}: {pretest[domain]} pretest items; needs {targets.min_pretest_per_domain}.")
    return errors


def _task_errors(published, codes, targets: LintTargets) -> list[str]:
    return [
        f"task {code}: {published[code]} published items; needs {targets.min_per_task}."
        for code in codes
        if published[code] < targets.min_per_task
    ]


def _type_mix_errors(kinds, total: int, minimums) -> list[str]:
    total = total or 1
    return [
        f"type mix: {kind} is {100 * kinds[kind] / total:.1f}% of published items; needs {100 * minimum:g}%."
        for kind, minimum in minimums
        if kinds[kind] / total < minimum
    ]


def _case_study_errors(cases, targets: LintTargets) -> list[str]:
    """Case studies of the wrong size, and too few of the right one; ``cases`` maps a case study to its items."""
    low, high = targets.case_items
    errors = [
        f"case study {ref}: {count} items; needs {low}-{high}."
        for ref, count in cases.items()
        if not low <= count <= high
    ]
    complete = sum(1 for count in cases.values() if low <= count <= high)
    if complete < targets.min_case_studies:
        errors.append(f"case studies: {complete}; needs at least {targets.min_case_studies}.")
    return errors


def _difficulty_errors(levels, total: int, targets: LintTargets) -> list[str]:
    total = total or 1
    return [
        f"difficulty {level}: {100 * levels[level] / total:.1f}% of published items; aim for about {target:g}%."
        for level, target in targets.difficulty_targets
        if abs(100 * levels[level] / total - target) > targets.difficulty_tolerance
    ]


# The bank in the database, as one exam version sees it.


@dataclass
class DomainLint:
    number: int
    title: str
    weight: int
    published: int = 0
    pretest: int = 0
    share: float = 0.0


@dataclass
class TaskLint:
    code: str
    domain: int
    published: int = 0
    pretest: int = 0
    by_type: Counter = field(default_factory=Counter)


@dataclass
class ExamLintReport:
    """What ``bank_lint_exam`` found. ``skills`` holds the published items per skill code, in syllabus order."""

    exam: Exam
    targets: LintTargets
    domains: list[DomainLint] = field(default_factory=list)
    tasks: list[TaskLint] = field(default_factory=list)
    skills: dict[str, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    published: int = 0
    pretest: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def skills_uncovered(self) -> list[str]:
        """Skills with no published item at all."""
        return [code for code, count in self.skills.items() if not count]

    @property
    def skills_below_minimum(self) -> list[str]:
        """Skills with fewer published items than the version's minimum (the uncovered ones among them)."""
        return [code for code, count in self.skills.items() if count < self.targets.min_per_skill]

    def as_dict(self) -> dict:
        return {
            "exam": self.exam.code,
            "ok": self.ok,
            "published": self.published,
            "pretest": self.pretest,
            "by_domain": {
                str(d.number): {
                    "published": d.published,
                    "pretest": d.pretest,
                    "share": round(d.share, 1),
                    "weight": d.weight,
                }
                for d in self.domains
            },
            "by_task": {t.code: {"published": t.published, "pretest": t.pretest} for t in self.tasks},
            "types": self.types,
            "skills_total": len(self.skills),
            "min_per_skill": self.targets.min_per_skill,
            "skills_uncovered": self.skills_uncovered,
            "skills_below_minimum": self.skills_below_minimum,
            "errors": self.errors,
        }

    @property
    def table(self) -> str:
        """Published items per task and type, pretest items, and each domain's share against its weight."""
        kinds = list(self.types)
        header = f"{'domain':<7}{'task':<6}" + "".join(f"{kind:>10}" for kind in kinds)
        header += f"{'total':>8}{'pretest':>9}{'share':>8}{'weight':>8}"
        rule = "-" * len(header)
        lines = [header, rule]
        for domain in self.domains:
            for task in (t for t in self.tasks if t.domain == domain.number):
                counts = "".join(f"{task.by_type[kind]:>10}" for kind in kinds)
                lines.append(f"{domain.number:<7}{task.code:<6}{counts}{task.published:>8}{task.pretest:>9}")
            lines.append(
                f"{domain.number:<7}{'all':<6}{'':>{10 * len(kinds)}}{domain.published:>8}{domain.pretest:>9}"
                f"{domain.share:>7.1f}%{domain.weight:>7}%"
            )
        lines.append(rule)
        totals = "".join(f"{self.types[kind]:>10}" for kind in kinds)
        lines.append(f"{'all':<13}{totals}{self.published:>8}{self.pretest:>9}")
        skills = f"\nskills: {len(self.skills)}; {len(self.skills_uncovered)} with no published item"
        if self.targets.min_per_skill > 1:
            skills += f", {len(self.skills_below_minimum)} with fewer than {self.targets.min_per_skill}"
        lines.append(skills + ".")
        return "\n".join(lines)


def _label(ref: str, version: int, pk: int) -> str:
    return f"item {ref or f'#{pk}'} v{version}"


def bank_lint_exam(*, exam: Exam, targets: LintTargets | None = None) -> ExamLintReport:
    """Check the bank in the database against ``exam``'s blueprint, as its forms would draw from it.

    An item counts under its task and skills in this version: its own when written for it, its placement's when
    carried over from another. Only the versions the exam can use count (``questions_of_exam``), published or
    pretest. Items written for or placed in it of a type its forms do not use are errors of their own, since
    ``questions_of_exam`` leaves them out. A fixed number of aggregate queries, whatever the bank's size.
    """
    targets = targets or lint_targets(exam)
    report = ExamLintReport(exam=exam, targets=targets)
    live = sorted(DELIVERABLE_STATUSES)
    usable = questions_of_exam(exam=exam).filter(status__in=live)

    tasks = sorted(
        Task.objects.filter(domain__exam=exam).select_related("domain"),
        key=lambda task: (task.domain.number, code_key(task.code)),
    )
    domains: dict[int, DomainLint] = {}
    by_task: dict[int, TaskLint] = {}
    for task in tasks:
        domain = task.domain
        domains.setdefault(domain.number, DomainLint(domain.number, domain.title, domain.weight))
        by_task[task.pk] = TaskLint(task.code, domain.number)

    # One row per (task in this version, type, status, difficulty): the home items, then the carried-over ones.
    home = (
        usable.filter(task__domain__exam=exam).values("task_id", "type", "status", "difficulty").annotate(n=Count("id"))
    )
    placed = (
        Placement.objects.filter(exam=exam, question__in=usable)
        .exclude(question__task__domain__exam=exam)
        .values("task_id", type=F("question__type"), status=F("question__status"), difficulty=F("question__difficulty"))
        .annotate(n=Count("id"))
    )
    kinds: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for row in [*home, *placed]:
        task = by_task[row["task_id"]]
        if row["status"] == QuestionStatus.PRETEST:
            task.pretest += row["n"]
            continue
        task.published += row["n"]
        task.by_type[row["type"]] += row["n"]
        kinds[row["type"]] += row["n"]
        levels[row["difficulty"]] += row["n"]
    for task in by_task.values():
        domains[task.domain].published += task.published
        domains[task.domain].pretest += task.pretest
    report.published = sum(task.published for task in by_task.values())
    report.pretest = sum(task.pretest for task in by_task.values())
    for domain in domains.values():
        domain.share = 100 * domain.published / report.published if report.published else 0.0
    report.domains = sorted(domains.values(), key=lambda domain: domain.number)
    report.tasks = list(by_task.values())
    report.types = {kind: kinds[kind] for kind in TYPES if exam.takes(kind)}
    report.skills = {skill.code: skill.published for skill in skill_coverage(exam=exam)}

    errors = report.errors
    if report.published < targets.min_published:
        errors.append(f"bank: {report.published} published items; needs at least {targets.min_published}.")
    if report.pretest < targets.min_pretest:
        errors.append(f"bank: {report.pretest} pretest items; needs at least {targets.min_pretest}.")
    weights = {str(domain.number): domain.weight for domain in report.domains}
    errors.extend(
        _domain_errors(
            weights,
            Counter({str(d.number): d.published for d in report.domains}),
            Counter({str(d.number): d.pretest for d in report.domains}),
            report.published,
            targets,
        )
    )
    errors.extend(
        _task_errors(Counter({t.code: t.published for t in report.tasks}), [t.code for t in report.tasks], targets)
    )
    for code, count in report.skills.items():
        if count < targets.min_per_skill:
            found = "no published item" if not count else f"{count} published item{'s' if count > 1 else ''}"
            needs = "" if targets.min_per_skill == 1 else f"; needs {targets.min_per_skill}"
            errors.append(f"skill {code}: {found}{needs}.")
    errors.extend(_type_errors(exam, live))
    minimums = [
        (kind, minimum)
        for kind, minimum in (
            (MULTIPLE, targets.min_multiple),
            (ORDERING, targets.min_ordering),
            (MATCHING, targets.min_matching),
        )
        if exam.takes(kind)
    ]
    errors.extend(_type_mix_errors(kinds, report.published, minimums))
    errors.extend(_exam_case_study_errors(exam, usable, targets))
    errors.extend(_difficulty_errors(levels, report.published, targets))
    for ref, version, pk, angoff, references in (
        usable.filter(Q(angoff__isnull=True) | ~Q(references__regex=r"\S"))
        .order_by("ref", "pk")
        .values_list("ref", "version", "pk", "angoff", "references")
    ):
        if angoff is None:
            errors.append(f"{_label(ref, version, pk)}: needs an Angoff rating.")
        if not references.strip():
            errors.append(f"{_label(ref, version, pk)}: needs at least one reference link.")
    return report


def _type_errors(exam: Exam, statuses: list[str]) -> list[str]:
    """Items written for or placed in ``exam`` of a type its forms do not use: they would never be drawn."""
    allowed = [kind for kind in TYPES if exam.takes(kind)]
    wrong = (
        Question.objects.filter(Q(task__domain__exam=exam) | Q(placements__exam=exam), status__in=statuses)
        .exclude(type__in=allowed)
        .order_by("ref", "pk")
        .values_list("ref", "version", "pk", "type")
        .distinct()
    )
    return [
        f"{_label(ref, version, pk)}: {exam.code} forms do not use {kind} items." for ref, version, pk, kind in wrong
    ]


def _exam_case_study_errors(exam: Exam, usable, targets: LintTargets) -> list[str]:
    """Case studies the version can use, counted in items (one per family); none at all when its forms carry none."""
    rows = (
        usable.filter(case_study__isnull=False)
        .values("case_study_id", "case_study__ref")
        .annotate(n=Count("family", distinct=True))
        .order_by("case_study__ref", "case_study_id")
    )
    cases = {row["case_study__ref"] or f"#{row['case_study_id']}": row["n"] for row in rows}
    if not exam.case_studies_per_form:
        return [
            f"case study {ref}: {exam.code} forms carry no case studies, yet {count} of its items are in the bank."
            for ref, count in cases.items()
        ]
    return _case_study_errors(cases, targets)
