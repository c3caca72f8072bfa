"""``bank_lint``: the checks a program can make on a whole bank, beyond the per-item rules.

Works on parsed bank files and a syllabus file, so it runs without a database, in CI and before a load.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from pathlib import Path
from statistics import median

import yaml

from apps.questions.interchange.native import ParsedItem, parse_bank
from apps.questions.rules import MATCHING, MULTIPLE, ORDERING, SINGLE, choose_count, normalise

TYPES = (SINGLE, MULTIPLE, ORDERING, MATCHING)


@dataclass(frozen=True)
class LintTargets:
    min_published: int = 400
    min_pretest: int = 45
    min_pretest_per_domain: int = 5
    share_tolerance: float = 2.0
    min_per_task: int = 25
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


@dataclass
class LintReport:
    errors: list[str] = field(default_factory=list)
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
    for domain, weight in weights.items():
        share = 100 * per_domain[domain] / len(published) if published else 0
        if abs(share - weight) > targets.share_tolerance:
            report.errors.append(
                f"domain {domain}: {share:.1f}% of published items; the blueprint says {weight}% "
                f"(±{targets.share_tolerance:g})."
            )
        if pretest_domain[domain] < targets.min_pretest_per_domain:
            report.errors.append(
                f"domain {domain}: {pretest_domain[domain]} pretest items; needs {targets.min_pretest_per_domain}."
            )
    per_task = Counter(x.item.draft.task for x in published)
    for code in tasks:
        if per_task[code] < targets.min_per_task:
            report.errors.append(f"task {code}: {per_task[code]} published items; needs {targets.min_per_task}.")
    unknown = {x.item.draft.task for x in published} - set(tasks)
    for code in sorted(unknown):
        report.errors.append(f"task {code}: not in the syllabus.")
    covered = {code for x in published for code in x.item.draft.objectives}
    for code in sorted(objectives - covered, key=lambda c: [int(p) for p in c.split(".")]):
        report.errors.append(f"objective {code}: no published item.")
    for code in sorted(covered - objectives):
        report.errors.append(f"objective {code}: not in the syllabus.")


def _check_mix(published, cases, targets, report) -> None:
    total = len(published) or 1
    kinds = Counter(x.item.draft.type for x in published)
    for kind, minimum in (
        (MULTIPLE, targets.min_multiple),
        (ORDERING, targets.min_ordering),
        (MATCHING, targets.min_matching),
    ):
        if kinds[kind] / total < minimum:
            report.errors.append(
                f"type mix: {kind} is {100 * kinds[kind] / total:.1f}% of published items; needs {100 * minimum:g}%."
            )
    low, high = targets.case_items
    good_cases = [ref for ref, count in cases.items() if low <= count <= high]
    for ref, count in cases.items():
        if not low <= count <= high:
            report.errors.append(f"case study {ref}: {count} items; needs {low}-{high}.")
    if len(good_cases) < targets.min_case_studies:
        report.errors.append(f"case studies: {len(good_cases)}; needs at least {targets.min_case_studies}.")
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
    difficulty = Counter(x.item.draft.difficulty for x in published)
    for level, target in targets.difficulty_targets:
        share = 100 * difficulty[level] / total
        if abs(share - target) > targets.difficulty_tolerance:
            report.errors.append(f"difficulty {level}: {share:.1f}% of published items; aim for about {target:g}%.")


def _check_duplicates(items: list[_Located], targets: LintTargets, report: LintReport) -> None:
    """Near-duplicate stems: Jaccard similarity of word bigrams, compared within a task and across the bank by
    an inverted index, so the cost stays near-linear in the bank's size."""
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
            report.errors.append(
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
