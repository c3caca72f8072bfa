"""Authoring rules for questions, as pure functions over plain drafts.

One rule set serves the admin, the REST API, the importers, the fixture loader and ``bank_lint``, so an item
that one door refuses is refused by every door. Drafts carry no database objects; the callers that know the
syllabus check task and objective codes against it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlparse

SINGLE = "single"
MULTIPLE = "multiple"
ORDERING = "ordering"
MATCHING = "matching"
TYPES = (SINGLE, MULTIPLE, ORDERING, MATCHING)

DIFFICULTIES = ("easy", "medium", "hard")

SINGLE_OPTIONS = (3, 6)
MULTIPLE_OPTIONS = (5, 8)
ORDERING_STEPS = (3, 5)
MATCHING_PROMPTS = (3, 7)
STEM_MAX = 6000
OPTION_MAX = 1000

BANNED_OPTIONS = ("all of the above", "none of the above", "both a and b", "all of these", "none of these")

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}
_CHOOSE_RE = re.compile(r"\bchoose\s+(two|three|four|five|[2-5])\b", re.IGNORECASE)


@dataclass(frozen=True)
class RuleError:
    """A broken rule, with the field it concerns (``stem``, ``options[2].rationale``, ...).

    ``completeness`` rules (rationales, explanation, option counts, "(Choose two.)" wording...) may be broken by
    a draft, such as one just imported from another system; review and publication need every rule. The
    structural ones (a key, distinct non-empty options) hold for every saved item.
    """

    field: str
    message: str
    completeness: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class ChoiceDraft:
    text: str
    rationale: str = ""
    correct: bool = False


@dataclass
class StepDraft:
    """One step of an ordering item; drafts list steps in their correct order."""

    text: str
    rationale: str = ""


@dataclass
class PairDraft:
    """A matching prompt and its correct response. ``prompt=None`` is a response that matches nothing."""

    prompt: str | None
    response: str
    rationale: str = ""


@dataclass
class QuestionDraft:
    type: str
    stem: str
    explanation: str = ""
    task: str = ""
    objectives: list[str] = field(default_factory=list)
    difficulty: str = "medium"
    angoff: float | None = None
    references: list[str] = field(default_factory=list)
    status: str = "draft"
    concept: str = ""  # items sharing a concept test the same thing: a form holds at most one of them
    # Where an imported item came from (not content: a candidate never sees these).
    name: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    choices: list[ChoiceDraft] = field(default_factory=list)
    steps: list[StepDraft] = field(default_factory=list)
    pairs: list[PairDraft] = field(default_factory=list)


def choose_count(stem: str) -> int | None:
    """The N of a stem's "(Choose N.)" instruction, or None when the stem has none."""
    match = _CHOOSE_RE.search(stem or "")
    return _NUMBER_WORDS[match.group(1).lower()] if match else None


def code_key(code: str) -> tuple[int, ...]:
    """Syllabus order for task and objective codes: 1.1.2 before 1.1.10."""
    return tuple(int(part) if part.isdigit() else -1 for part in code.split("."))


# Symbols that change what a text says ("3 + 2" is not "3 - 2", "a < b" is not "a > b"); other punctuation and
# spacing do not. Dashes and minus signs are one symbol; a hyphen inside a word is a space ("cost-effective").
_MEANING_SYMBOLS = "+-*/=<>[](){}%^|&~#$≤≥≠±×÷√∑∞"
_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-"})
_WORD_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
# Ideographs and kana are written without spaces: each is a token of its own, so two texts that share a phrase
# share tokens (near-duplicate checks) as they do in spaced scripts.
_IDEOGRAPH = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_IDEOGRAPH}]|\d+(?:\.\d+)+|[^\W_{_IDEOGRAPH}]+|[{re.escape(_MEANING_SYMBOLS)}]")
_LOOSE_RE = re.compile(rf"[{_IDEOGRAPH}]|[^\W_{_IDEOGRAPH}]+")


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold().translate(_DASHES)
    return _WORD_HYPHEN_RE.sub(" ", text)


def normalise(text: str) -> str:
    """The key used for duplicate and repeat checks: Unicode NFKC and case folding, then the words of every
    script, numbers (with their decimal points) and the symbols that change meaning, each as a token. Spacing,
    case and other punctuation do not count."""
    return " ".join(_TOKEN_RE.findall(_folded(text)))


def normalise_loose(text: str) -> str:
    """Words and numbers only, symbols dropped: two texts equal here but not under ``normalise`` differ only in
    symbols, which is worth a warning (a near duplicate), never a silent skip."""
    return " ".join(_LOOSE_RE.findall(_folded(text)))


def _check_range(errors: list[RuleError], name: str, count: int, bounds: tuple[int, int], what: str) -> None:
    low, high = bounds
    if not low <= count <= high:
        # Fewer than two parts is no question at all; outside the house range is a draft to finish.
        errors.append(RuleError(name, f"needs {low} to {high} {what}, has {count}.", completeness=count >= 2))


def _check_texts(errors: list[RuleError], name: str, texts: list[str], what: str) -> None:
    seen: dict[str, int] = {}
    for index, text in enumerate(texts):
        if not (text or "").strip():
            errors.append(RuleError(f"{name}[{index + 1}].text", f"{what} {index + 1} has no text."))
            continue
        if len(text) > OPTION_MAX:
            errors.append(
                RuleError(f"{name}[{index + 1}].text", f"is longer than {OPTION_MAX} characters.", completeness=True)
            )
        key = normalise(text)
        if key in seen:
            errors.append(RuleError(f"{name}[{index + 1}].text", f"repeats {what.lower()} {seen[key] + 1} ({text!r})."))
        else:
            seen[key] = index
        if key in BANNED_OPTIONS:
            errors.append(
                RuleError(
                    f"{name}[{index + 1}].text",
                    f"{text!r} is not allowed; write a real alternative.",
                    completeness=True,
                )
            )


def _check_rationales(errors: list[RuleError], name: str, rationales: list[str], what: str) -> None:
    for index, rationale in enumerate(rationales):
        if not (rationale or "").strip():
            errors.append(
                RuleError(
                    f"{name}[{index + 1}].rationale",
                    f"{what} {index + 1} needs a rationale saying why it is right or wrong.",
                    completeness=True,
                )
            )


def _check_choices(draft: QuestionDraft, errors: list[RuleError]) -> None:
    choices = draft.choices
    keys = sum(1 for choice in choices if choice.correct)
    stated = choose_count(draft.stem)
    _check_texts(errors, "options", [c.text for c in choices], "Option")
    _check_rationales(errors, "options", [c.rationale for c in choices], "Option")
    if draft.type == SINGLE:
        _check_range(errors, "options", len(choices), SINGLE_OPTIONS, "options")
        if keys != 1:
            errors.append(RuleError("options", f"a single-answer item needs exactly one correct option, has {keys}."))
        if stated is not None:
            errors.append(
                RuleError(
                    "stem",
                    f'says "Choose {stated}" but this is a single-answer item; use multiple response.',
                    completeness=True,
                )
            )
        return
    _check_range(errors, "options", len(choices), MULTIPLE_OPTIONS, "options")
    if keys < 2:
        errors.append(RuleError("options", f"a multiple-response item needs at least two correct options, has {keys}."))
    elif keys >= len(choices):
        errors.append(RuleError("options", "every option is marked correct; at least one must be wrong."))
    if stated is None:
        errors.append(
            RuleError("stem", f'must say how many to pick, e.g. "(Choose {_word(keys)}.)".', completeness=True)
        )
    elif keys and stated != keys:
        errors.append(
            RuleError(
                "stem", f'says "Choose {_word(stated)}" but {keys} options are marked correct.', completeness=True
            )
        )


def _word(number: int) -> str:
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(number, str(number))


def _check_steps(draft: QuestionDraft, errors: list[RuleError]) -> None:
    _check_range(errors, "steps", len(draft.steps), ORDERING_STEPS, "steps")
    _check_texts(errors, "steps", [s.text for s in draft.steps], "Step")
    _check_rationales(errors, "steps", [s.rationale for s in draft.steps], "Step")


def _check_pairs(draft: QuestionDraft, errors: list[RuleError]) -> None:
    prompts = [pair for pair in draft.pairs if (pair.prompt or "").strip()]
    _check_range(errors, "pairs", len(prompts), MATCHING_PROMPTS, "prompts")
    _check_texts(errors, "pairs", [p.prompt or "" for p in prompts], "Prompt")
    for index, pair in enumerate(draft.pairs):
        if not (pair.response or "").strip():
            errors.append(RuleError(f"pairs[{index + 1}].response", f"Pair {index + 1} has no response."))
    _check_rationales(errors, "pairs", [p.rationale for p in draft.pairs], "Pair")
    responses = {normalise(pair.response) for pair in draft.pairs if pair.response}
    if prompts and len(responses) < 2:
        errors.append(RuleError("pairs", "a matching item needs at least two different responses."))
    unused = [normalise(p.response) for p in draft.pairs if not (p.prompt or "").strip()]
    used = {normalise(p.response) for p in prompts}
    for index, key in enumerate(unused):
        if key in used:
            errors.append(RuleError("pairs", f"unused response {index + 1} is also the answer to a prompt; remove it."))


def _check_references(draft: QuestionDraft, errors: list[RuleError]) -> None:
    for index, url in enumerate(draft.references):
        parsed = urlparse(url.strip())
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            errors.append(RuleError(f"references[{index + 1}]", f"{url!r} is not an http(s) link.", completeness=True))


CONCEPT_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


def validate_question(draft: QuestionDraft) -> list[RuleError]:
    """Every authoring rule that can be checked without the database, in the order an author would fix them."""
    errors: list[RuleError] = []
    if draft.type not in TYPES:
        return [RuleError("type", f"{draft.type!r} is not one of {', '.join(TYPES)}.")]
    stem = (draft.stem or "").strip()
    if not stem:
        errors.append(RuleError("stem", "is required."))
    elif len(stem) > STEM_MAX:
        errors.append(RuleError("stem", f"is longer than {STEM_MAX} characters."))
    if not (draft.explanation or "").strip():
        errors.append(
            RuleError(
                "explanation", "is required: say why the key is right and what rule to remember.", completeness=True
            )
        )
    if draft.difficulty not in DIFFICULTIES:
        errors.append(RuleError("difficulty", f"{draft.difficulty!r} is not one of {', '.join(DIFFICULTIES)}."))
    if draft.angoff is not None and not 0 < draft.angoff < 1:
        errors.append(RuleError("angoff", f"must be a probability between 0 and 1, got {draft.angoff}."))
    if draft.concept and not CONCEPT_RE.fullmatch(draft.concept):
        errors.append(
            RuleError("concept", f"{draft.concept!r} must be lower-case letters, digits and hyphens, up to 60.")
        )
    if draft.task and not draft.objectives:
        errors.append(RuleError("objectives", "pick at least one objective of the item's task.", completeness=True))
    for code in draft.objectives:
        if draft.task and not code.startswith(f"{draft.task}."):
            errors.append(RuleError("objectives", f"objective {code} is not part of task {draft.task}."))
    _check_references(draft, errors)

    wrong_parts = {
        SINGLE: ("steps", "pairs"),
        MULTIPLE: ("steps", "pairs"),
        ORDERING: ("choices", "pairs"),
        MATCHING: ("choices", "steps"),
    }[draft.type]
    for part in wrong_parts:
        if getattr(draft, part):
            label = "options" if part == "choices" else part
            errors.append(RuleError(label, f"a {draft.type} item has no {label}; remove them."))
    if draft.type in {SINGLE, MULTIPLE}:
        _check_choices(draft, errors)
    elif draft.type == ORDERING:
        _check_steps(draft, errors)
    else:
        _check_pairs(draft, errors)
    return errors


def publication_errors(draft: QuestionDraft) -> list[RuleError]:
    """What publishing (or pretesting) needs on top of every authoring rule: a link for further reading."""
    if draft.references:
        return []
    return [RuleError("references", "add at least one documentation link before publishing.")]


_ITEM = {
    SINGLE: "A single-answer item",
    MULTIPLE: "A multiple-response item",
    ORDERING: "An ordering item",
    MATCHING: "A matching item",
}
_FIELD_SUBJECTS = {
    "stem": "The stem",
    "explanation": "The explanation",
    "task": "The task",
    "objectives": "Objectives",
    "references": "References",
    "difficulty": "Difficulty",
    "angoff": "The Angoff rating",
    "concept": "The concept",
    "type": "The type",
    "status": "The status",
}
_PART_SUBJECTS = {"options": "Option", "steps": "Step", "pairs": "Pair", "references": "Reference link"}
_FIELD_RE = re.compile(r"^(?P<name>\w+)(?:\[(?P<index>\d+)\](?:\.(?P<sub>\w+))?)?$")
# Messages that start with a verb read as "<subject> <message>"; the others are sentences of their own.
_VERB_FIRST = re.compile(r"^(is|are|must|says|needs|repeats|has)\b")


def option_letter(number: int) -> str:
    """1 → A: the letter an option has on the candidate's screen; authors read options as letters too."""
    return chr(ord("A") + number - 1) if 1 <= number <= 26 else str(number)


def split_field(path: str) -> tuple[str, int | None, str]:
    """``options[2].rationale`` → ("options", 2, "rationale"); ``stem`` → ("stem", None, "")."""
    match = _FIELD_RE.match(path)
    if match is None:
        return path, None, ""
    index = match.group("index")
    return match.group("name"), int(index) if index else None, match.group("sub") or ""


def plain_message(error: RuleError, *, item_type: str = "") -> str:
    """A rule error as one sentence an author can act on, without internal paths: ``options[2].rationale:
    Option 2 needs a rationale…`` reads "Option B needs a rationale…". Refs and quoted text keep their case."""
    name, index, _sub = split_field(error.field)
    message = error.message
    if index is not None and name in _PART_SUBJECTS:
        label = option_letter(index) if name == "options" else str(index)
        subject = f"{_PART_SUBJECTS[name]} {label}"
        if name == "options":
            # The rules number options; the admin letters them as a candidate would see them.
            message = re.sub(r"^Option (\d+)", lambda m: f"Option {option_letter(int(m.group(1)))}", message)
            message = re.sub(r"\boption (\d+)\b", lambda m: f"option {option_letter(int(m.group(1)))}", message)
        if re.match(rf"^{_PART_SUBJECTS[name]} \w+\b", message):
            return message
    elif name in {"options", "steps", "pairs"}:
        subject = _ITEM.get(item_type, "The item")
    else:
        subject = _FIELD_SUBJECTS.get(name, name.capitalize())
    if _VERB_FIRST.match(message):
        return f"{subject} {message}"
    if message[:1] in {"'", '"'}:
        return f"{subject}: {message}"
    return message[:1].upper() + message[1:]
