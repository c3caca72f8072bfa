"""The native bank format: the shipped fixtures (YAML) and the lossless interchange format (JSON).

A document is a mapping::

    format: mla-bank          # optional in fixtures
    task: "1.1"               # default task for items that do not name one
    items: [ITEM, ...]
    case_studies:
      - {ref, title, scenario, items: [ITEM, ...]}

and an ITEM is ``{ref, type, status, difficulty, angoff, task, objectives, stem, explanation, references}``,
optionally ``concept`` (a slug: items sharing one are never on the same mock form) and where the item came from
(``name``, ``category`` path and ``tags`` of its source bank), plus ``options``
(single/multiple: ``{text, correct, rationale}``), ``steps`` (ordering, in the correct order: ``{text,
rationale}``) or ``pairs`` (matching: ``{prompt, response, rationale}``, ``prompt: null`` for a response that
matches nothing). JSON is valid YAML, so one parser reads both, and every error carries its line.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apps.questions.interchange.base import (
    Case,
    DecodeError,
    ExportResult,
    Item,
    MediaFile,
    MediaSink,
    ParseResult,
    decode,
)
from apps.questions.rules import (
    MATCHING,
    MULTIPLE,
    ORDERING,
    SINGLE,
    ChoiceDraft,
    PairDraft,
    QuestionDraft,
    StepDraft,
    code_key,
    validate_question,
)

STATUSES = ("draft", "in_review", "published", "pretest", "retired")
ITEM_KEYS = {
    "media",
    "ref",
    "type",
    "status",
    "difficulty",
    "angoff",
    "concept",
    "name",
    "category",
    "tags",
    "task",
    "objectives",
    "stem",
    "explanation",
    "references",
    "options",
    "steps",
    "pairs",
    "version",
    "family",
    "title",
}
CASE_KEYS = {"ref", "title", "scenario", "items", "task"}
DOCUMENT_KEYS = {"format", "format_version", "exam", "task", "items", "case_studies"}
FORMAT_VERSION = 1


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line each mapping starts on, so errors can name it.

    It refuses aliases: a few nested anchors can stand for billions of nodes (the YAML "billion laughs"), and
    neither the JSON interchange format nor the bank needs them.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


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
    family: str = ""
    media: list[Any] = field(default_factory=list)  # the JSON's records; the interchange parser checks them


@dataclass
class ParsedBank:
    items: list[ParsedItem] = field(default_factory=list)
    cases: list[ParsedCase] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _item(
    raw: Any, default_task: str, bank: ParsedBank, case_ref: str = "", case_order: int = 0, *, validate: bool = True
) -> None:
    if not isinstance(raw, dict):
        bank.errors.append(ParseError(None, f"an item must be a mapping, got {type(raw).__name__}."))
        return
    line = raw.pop("__line__", 0)
    ref = _text(raw.get("ref"))
    unknown = sorted(str(key) for key in set(raw) - ITEM_KEYS)
    if unknown:
        bank.errors.append(ParseError(line, f"unknown field(s) {', '.join(unknown)}.", ref))
    for key in (
        "ref",
        "type",
        "status",
        "difficulty",
        "concept",
        "name",
        "category",
        "task",
        "stem",
        "explanation",
        "title",
    ):
        if isinstance(raw.get(key), dict | list):
            bank.errors.append(ParseError(line, f"{key} must be text, not a {type(raw[key]).__name__}.", ref))
    status = _text(raw.get("status")) or "draft"
    if status not in STATUSES:
        bank.errors.append(ParseError(line, f"status {status!r} is not one of {', '.join(STATUSES)}.", ref))
    try:
        angoff = None if raw.get("angoff") is None else float(raw["angoff"])
    except (TypeError, ValueError, OverflowError):
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
        concept=_text(raw.get("concept")),
        name=_text(raw.get("name")),
        category=_text(raw.get("category")),
        tags=[_text(tag) for tag in _list(raw.get("tags")) if _text(tag)],
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
    if validate:
        for error in validate_question(draft):
            bank.errors.append(ParseError(line, str(error), ref))
    version = raw.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        bank.errors.append(ParseError(line, f"version {version!r} is not a positive whole number.", ref))
        version = None
    family = _text(raw.get("family"))
    if family:
        try:
            family = str(uuid.UUID(family))
        except ValueError:
            bank.errors.append(ParseError(line, f"family {family!r} is not a UUID.", ref))
            family = ""
    if draft.type not in {SINGLE, MULTIPLE, ORDERING, MATCHING}:
        bank.errors.append(
            ParseError(line, f"type {draft.type!r} is not one of single, multiple, ordering, matching.", ref)
        )
    media = _list(raw.get("media"))
    bank.items.append(ParsedItem(ref, line, draft, case_ref, case_order, version, family, media))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_bank(text: str, *, validate: bool = True) -> ParsedBank:
    """Parse a native document. Never raises on bad input: problems come back in ``errors`` with lines.

    ``validate`` applies every authoring rule (the shipped bank must meet them); the importer leaves that to
    the import service, which lets drafts be incomplete.
    """
    bank = ParsedBank()
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except RecursionError:
        bank.errors.append(ParseError(None, "the document nests too deeply."))
        return bank
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        bank.errors.append(ParseError(mark.line + 1 if mark else None, f"not valid YAML/JSON: {exc}"))
        return bank
    if not isinstance(document, dict):
        bank.errors.append(ParseError(None, "the document must be a mapping with an 'items' list."))
        return bank
    document.pop("__line__", None)
    unknown = sorted(str(key) for key in set(document) - DOCUMENT_KEYS)
    if unknown:
        bank.errors.append(ParseError(1, f"unknown top-level field(s) {', '.join(unknown)}."))
    default_task = _text(document.get("task"))
    for raw in _list(document.get("items")):
        _item(raw, default_task, bank, validate=validate)
    for raw_case in _list(document.get("case_studies")):
        if not isinstance(raw_case, dict):
            bank.errors.append(ParseError(None, "a case study must be a mapping."))
            continue
        line = raw_case.pop("__line__", 0)
        ref = _text(raw_case.get("ref"))
        unknown = sorted(str(key) for key in set(raw_case) - CASE_KEYS)
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
            _item(raw, case_task, bank, case_ref=ref, case_order=order, validate=validate)
    versions = Counter((item.ref, item.version) for item in bank.items if item.ref and item.version)
    for item in bank.items:
        if item.ref and item.version and versions[(item.ref, item.version)] > 1:
            bank.errors.append(ParseError(item.line, f"version {item.version} of {item.ref} appears twice.", item.ref))
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
    lines.append(
        "objectives covered: "
        + ", ".join(f"{k}:{v}" for k, v in sorted(objectives.items(), key=lambda pair: code_key(pair[0])))
    )
    lines.append(f"case studies: {len(bank.cases)}")
    kinds = Counter(item.draft.type for item in bank.items if item.draft.status == "published")
    total = sum(kinds.values()) or 1
    lines.append(
        "published mix: "
        + ", ".join(f"{t} {kinds[t]} ({100 * kinds[t] / total:.0f}%)" for t in (SINGLE, MULTIPLE, ORDERING, MATCHING))
    )
    return "\n".join(lines)


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


# --- interchange: the lossless JSON format -------------------------------------------------------------------


def parse(data: bytes, *, name: str = "upload") -> ParseResult:
    """A native JSON (or YAML) document as an interchange result; the import service applies the rules."""
    result = ParseResult(format="native")
    try:
        text = decode(data)
    except DecodeError as exc:
        result.error("file", str(exc))
        return result
    bank = parse_bank(text, validate=False)
    for error in bank.errors:
        result.error(
            f"line {error.line}" if error.line else "file",
            f"{error.ref}: {error.message}" if error.ref else error.message,
        )
    result.cases = [Case(case.ref, case.title, case.scenario, f"line {case.line}") for case in bank.cases]
    result.items = [
        Item(
            draft=item.draft,
            location=f"line {item.line}",
            ref=item.ref,
            version=item.version,
            family=item.family,
            case_ref=item.case_ref,
            case_order=item.case_order,
            media=_media_read(item, result),
        )
        for item in bank.items
    ]
    return result


def _media_read(item: ParsedItem, result: ParseResult) -> dict[str, MediaFile]:
    """An item's ``media`` records (``{"file": "<id>/<name>", "base64": ...}``) as files its texts refer to;
    a malformed, refused or oversized one is a warning, and the text keeps its reference."""
    if not item.media:
        return {}
    where = f"line {item.line}"
    sink = MediaSink()
    for record in item.media:
        file = record.get("file") if isinstance(record, dict) else None
        encoded = record.get("base64") if isinstance(record, dict) else None
        if not isinstance(file, str) or not file or not isinstance(encoded, str):
            result.warn(where, f"{item.ref}: a media record needs a file name and base64 content; ignored.")
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            result.warn(where, f"{item.ref}: media file {file} is not valid base64; not imported.")
            continue
        sink.add(file.rsplit("/", 1)[-1], data, key=file)
    for problem in sink.problems:
        result.warn(where, f"{item.ref}: {problem}")
    return sink.files


def _item_document(item: Item) -> dict[str, Any]:
    draft = item.draft
    document: dict[str, Any] = {
        "ref": item.ref,
        "family": item.family,
        "version": item.version,
        "type": draft.type,
        "status": draft.status,
        "task": draft.task,
        "objectives": draft.objectives,
        "difficulty": draft.difficulty,
        "angoff": draft.angoff,
        **({"concept": draft.concept} if draft.concept else {}),
        **({"name": draft.name} if draft.name else {}),
        **({"category": draft.category} if draft.category else {}),
        **({"tags": draft.tags} if draft.tags else {}),
        "stem": draft.stem,
        "explanation": draft.explanation,
        "references": draft.references,
    }
    if item.media:  # the files travel inside the document, so it stays one self-contained file
        document["media"] = [
            {"file": key, "content_type": file.content_type, "base64": base64.b64encode(file.data).decode("ascii")}
            for key, file in item.media.items()
        ]
    if draft.type in {SINGLE, MULTIPLE}:
        document["options"] = [{"text": c.text, "correct": c.correct, "rationale": c.rationale} for c in draft.choices]
    elif draft.type == ORDERING:
        document["steps"] = [{"text": s.text, "rationale": s.rationale} for s in draft.steps]
    else:
        document["pairs"] = [
            {"prompt": p.prompt, "response": p.response, "rationale": p.rationale} for p in draft.pairs
        ]
    return {key: value for key, value in document.items() if value not in (None, "")}


def export(items: list[Item], cases: list[Case], *, exam: str | None = None) -> ExportResult:
    """Every field of every item, case studies with their items in order: nothing is lost."""
    by_case: dict[str, list[Item]] = {}
    loose = []
    for item in items:
        if item.case_ref:
            by_case.setdefault(item.case_ref, []).append(item)
        else:
            loose.append(item)
    document = {
        "format": "mla-bank",
        "format_version": FORMAT_VERSION,
        **({"exam": exam} if exam else {}),
        "items": [_item_document(item) for item in loose],
        "case_studies": [
            {
                "ref": case.ref,
                "title": case.title,
                "scenario": case.scenario,
                "items": [
                    _item_document(item) for item in sorted(by_case.get(case.ref, []), key=lambda i: i.case_order)
                ],
            }
            for case in cases
        ],
    }
    data = json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"
    return ExportResult(data=data, filename="questions.mla.json", content_type="application/json")
