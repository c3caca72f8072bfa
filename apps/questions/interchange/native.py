"""The native bank format: the shipped fixtures (YAML) and the lossless interchange format (JSON).

A document is a mapping::

    format: mla-bank          # optional in fixtures
    task: "1.1"               # default task for items that do not name one
    items: [ITEM, ...]
    case_studies:
      - {ref, title, scenario, items: [ITEM, ...]}

and an ITEM is ``{ref, type, status, difficulty, angoff, task, objectives, stem, explanation, references}``
plus ``options`` (single/multiple: ``{text, correct, rationale}``), ``steps`` (ordering, in the correct order:
``{text, rationale}``) or ``pairs`` (matching: ``{prompt, response, rationale}``, ``prompt: null`` for a response
that matches nothing). JSON is valid YAML, so one parser reads both, and every error carries its line.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apps.questions.rules import (
    MATCHING,
    MULTIPLE,
    ORDERING,
    SINGLE,
    ChoiceDraft,
    PairDraft,
    QuestionDraft,
    StepDraft,
    validate_question,
)

STATUSES = ("draft", "in_review", "published", "pretest", "retired")
ITEM_KEYS = {
    "ref",
    "type",
    "status",
    "difficulty",
    "angoff",
    "task",
    "objectives",
    "stem",
    "explanation",
    "references",
    "options",
    "steps",
    "pairs",
    "version",
    "title",
}
CASE_KEYS = {"ref", "title", "scenario", "items", "task"}


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line each mapping starts on, so errors can name it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class ParseError:
    line: int | None
    message: str
    ref: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        who = f" ({self.ref})" if self.ref else ""
        return f"{where}{who}: {self.message}"


@dataclass
class ParsedCase:
    ref: str
    title: str
    scenario: str
    line: int


@dataclass
class ParsedItem:
    ref: str
    line: int
    draft: QuestionDraft
    case_ref: str = ""
    case_order: int = 0
    version: int | None = None


@dataclass
class ParsedBank:
    items: list[ParsedItem] = field(default_factory=list)
    cases: list[ParsedCase] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _item(raw: Any, default_task: str, bank: ParsedBank, case_ref: str = "", case_order: int = 0) -> None:
    if not isinstance(raw, dict):
        bank.errors.append(ParseError(None, f"an item must be a mapping, got {type(raw).__name__}."))
        return
    line = raw.pop("__line__", 0)
    ref = _text(raw.get("ref"))
    unknown = sorted(set(raw) - ITEM_KEYS)
    if unknown:
        bank.errors.append(ParseError(line, f"unknown field(s) {', '.join(unknown)}.", ref))
    status = _text(raw.get("status")) or "draft"
    if status not in STATUSES:
        bank.errors.append(ParseError(line, f"status {status!r} is not one of {', '.join(STATUSES)}.", ref))
    try:
        angoff = None if raw.get("angoff") is None else float(raw["angoff"])
    except (TypeError, ValueError):
        bank.errors.append(ParseError(line, f"angoff {raw.get('angoff')!r} is not a number.", ref))
        angoff = None
    draft = QuestionDraft(
        type=_text(raw.get("type")),
        stem=_text(raw.get("stem")),
        explanation=_text(raw.get("explanation")),
        task=_text(raw.get("task")) or default_task,
        objectives=[_text(code) for code in _list(raw.get("objectives"))],
        difficulty=_text(raw.get("difficulty")) or "medium",
        angoff=angoff,
        references=[_text(url) for url in _list(raw.get("references"))],
        status=status,
    )
    for raw_option in _list(raw.get("options")):
        option = raw_option if isinstance(raw_option, dict) else {"text": raw_option}
        draft.choices.append(
            ChoiceDraft(_text(option.get("text")), _text(option.get("rationale")), option.get("correct") is True)
        )
    for raw_step in _list(raw.get("steps")):
        step = raw_step if isinstance(raw_step, dict) else {"text": raw_step}
        draft.steps.append(StepDraft(_text(step.get("text")), _text(step.get("rationale"))))
    for raw_pair in _list(raw.get("pairs")):
        pair = raw_pair if isinstance(raw_pair, dict) else {"response": raw_pair}
        prompt = _text(pair.get("prompt")) or None
        draft.pairs.append(PairDraft(prompt, _text(pair.get("response")), _text(pair.get("rationale"))))
    for error in validate_question(draft):
        bank.errors.append(ParseError(line, str(error), ref))
    version = raw.get("version")
    bank.items.append(ParsedItem(ref, line, draft, case_ref, case_order, version if isinstance(version, int) else None))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_bank(text: str) -> ParsedBank:
    """Parse a native document. Never raises on bad input: problems come back in ``errors`` with lines."""
    bank = ParsedBank()
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        bank.errors.append(ParseError(mark.line + 1 if mark else None, f"not valid YAML/JSON: {exc}"))
        return bank
    if not isinstance(document, dict):
        bank.errors.append(ParseError(None, "the document must be a mapping with an 'items' list."))
        return bank
    default_task = _text(document.get("task"))
    for raw in _list(document.get("items")):
        _item(raw, default_task, bank)
    for raw_case in _list(document.get("case_studies")):
        if not isinstance(raw_case, dict):
            bank.errors.append(ParseError(None, "a case study must be a mapping."))
            continue
        line = raw_case.pop("__line__", 0)
        ref = _text(raw_case.get("ref"))
        unknown = sorted(set(raw_case) - CASE_KEYS)
        if unknown:
            bank.errors.append(ParseError(line, f"unknown case-study field(s) {', '.join(unknown)}.", ref))
        if not ref:
            bank.errors.append(ParseError(line, "a case study needs a ref."))
        if not _text(raw_case.get("scenario")):
            bank.errors.append(ParseError(line, "a case study needs a scenario.", ref))
        items = _list(raw_case.get("items"))
        if not 2 <= len(items) <= 6:
            bank.errors.append(ParseError(line, f"a case study needs 2 to 6 items, has {len(items)}.", ref))
        bank.cases.append(ParsedCase(ref, _text(raw_case.get("title")), _text(raw_case.get("scenario")), line))
        case_task = _text(raw_case.get("task")) or default_task
        for order, raw in enumerate(items, start=1):
            _item(raw, case_task, bank, case_ref=ref, case_order=order)
    refs = Counter(item.ref for item in bank.items if item.ref)
    for item in bank.items:
        if refs[item.ref] > 1 and item.version is None:
            bank.errors.append(ParseError(item.line, f"ref {item.ref!r} is used more than once.", item.ref))
    return bank


def summarise(bank: ParsedBank) -> str:
    """A short human summary used by the checker: counts by status, type, difficulty, objectives, key spread."""
    lines = []
    by = Counter((item.draft.status, item.draft.type) for item in bank.items)
    lines.append("status/type: " + ", ".join(f"{s}/{t}={n}" for (s, t), n in sorted(by.items())))
    lines.append("difficulty: " + str(dict(Counter(item.draft.difficulty for item in bank.items))))
    positions = Counter(
        "ABCDEF"[[c.correct for c in item.draft.choices].index(True)]
        for item in bank.items
        if item.draft.type == SINGLE and any(c.correct for c in item.draft.choices)
    )
    lines.append("single-answer key positions: " + str(dict(sorted(positions.items()))))
    objectives = Counter(code for item in bank.items for code in item.draft.objectives)
    lines.append("objectives covered: " + ", ".join(f"{k}:{v}" for k, v in sorted(objectives.items(), key=_code)))
    lines.append(f"case studies: {len(bank.cases)}")
    kinds = Counter(item.draft.type for item in bank.items if item.draft.status == "published")
    total = sum(kinds.values()) or 1
    lines.append(
        "published mix: "
        + ", ".join(f"{t} {kinds[t]} ({100 * kinds[t] / total:.0f}%)" for t in (SINGLE, MULTIPLE, ORDERING, MATCHING))
    )
    return "\n".join(lines)


def _code(pair: tuple[str, int]) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in pair[0].split("."))


def main(paths: list[str]) -> int:
    """``python -m apps.questions.interchange.native FILE...``: check files without a database."""
    failed = False
    for path in paths:
        bank = parse_bank(Path(path).read_text(encoding="utf-8"))
        print(f"== {path}: {len(bank.items)} items")
        for error in bank.errors:
            failed = True
            print(f"{path}:{error}")
        print(summarise(bank))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
