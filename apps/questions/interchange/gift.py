"""Moodle's GIFT text format: import and export.

GIFT is a plain-text format: questions are separated by blank lines, ``// ...`` lines are comments, a question
is ``::title::text{answers}``. This module reads it the way Moodle's own importer (qformat_gift) does, and is
stricter where Moodle silently guesses, because a wrong guess imports a wrong key.

Supported constructs and what they become:

- ``$CATEGORY: path``: when the last path segment is a task code (``1.2``, ``MLA-C01/1.2``,
  ``$course$/top/Domain 1/1.2``) it sets ``draft.task`` for the questions that follow; any other category
  clears it (one warning per file: those items are queued for an instructor).
- ``::title::`` becomes ``Item.ref`` (cut to 40 characters, with a warning).
- Multiple choice ``{=right ~wrong}``: exactly one ``=`` (or exactly one positive ``~%w%`` weight) is a
  single-answer item; several positive weights (``~%50%``) are a multiple-response item whose keys are the
  options with weight > 0. Unequal positive weights, several ``=``, and partial credit on a wrong option are
  imported with warnings, because our scoring is all-or-nothing.
- ``#feedback`` after an option is its rationale; ``####feedback`` is the general feedback (explanation).
- Matching ``{=prompt -> response ...}``; ``= -> response`` is a response that matches nothing.
- True/false ``{T}``, ``{TRUE}``, ``{F}``, ``{FALSE}`` with optional ``#if-wrong#if-right`` feedback becomes a
  single-answer item with the options "True" and "False".
- Missing-word questions (text after the answer block) get the stem ``before _____ after``.
- Escapes ``\\~ \\= \\# \\{ \\} \\: \\\\`` and ``\\n``; ``-\\>`` is a literal arrow (our addition, so a matching prompt
  can contain one). Text formats ``[markdown]`` (kept), ``[html]`` (through ``html_to_markdown``; images
  pasted as ``data:`` URIs are imported, references to files are reported: GIFT cannot carry files),
  ``[plain]`` (Markdown characters escaped) and ``[moodle]``/none (HTML if it has tags, else kept as text) at
  the start of the question text, an option or a feedback.

Skipped, with the reason: essay ``{}`` (needs a human marker), numerical ``{#...}`` and short answer (typed
answers, where our items are choices), and descriptions (text with no answer block) unless our metadata
marks them as a case-study scenario.

Malformed questions (unclosed ``{`` or ``::title``, a stray ``}``, a second answer block, an empty option,
``->`` pairs mixed with ``~`` options, no correct option, a matching question without pairs...) are errors that
name the line where the question starts and, when known, the line of the bad token.

Our metadata travels in a comment directly before the question, which Moodle ignores::

    // mla: {"ref": "t12-004", "task": "1.2", "objectives": ["1.2.3"], "difficulty": "hard"}

It holds ``base.item_meta`` plus GIFT-only extras: ``"type": "ordering"`` (GIFT has no ordering questions, so an
ordering item is written as a matching question whose prompts are the positions ``1``, ``2``, ...),
``"rationales"`` (the per-pair or per-step rationales, which GIFT cannot hold), and ``"case_study"`` +
``"title"`` on a description, which then is the scenario of a case study.

Export writes one question per block: the ``// mla:`` line, ``::ref::`` (``q-<n>`` for an item without a ref,
whose metadata then says ``"ref": ""`` so the import does not invent one), ``[markdown]`` and the text with every
special escaped and newlines written as ``\\n`` (a blank line would end the question). Single answer is
``=``/``~``; multiple response uses Moodle's fractions, ``~%50%``/``~%33.33333%`` for the k keys and ``~%-100%``
for the others; then ``#rationale`` per option and ``####explanation``. ``$CATEGORY: MLA-C01/<task>`` is
written whenever the task changes, and a case study's scenario is a description just before its first item.
What Moodle cannot hold (an item family, matching responses over 255 characters, structurally broken items)
is listed in ``ExportResult.losses``.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field

from apps.questions.interchange.base import (
    MOODLE_CONTEXT_RE,
    Case,
    DecodeError,
    ExportResult,
    Item,
    MediaSink,
    ParseResult,
    Problem,
    apply_meta,
    decode,
    html_to_markdown,
    item_meta,
)
from apps.questions.rules import (
    MATCHING,
    MULTIPLE,
    ORDERING,
    SINGLE,
    TYPES,
    ChoiceDraft,
    PairDraft,
    QuestionDraft,
    StepDraft,
)

FORMAT = "gift"
FILENAME = "questions.gift.txt"
CONTENT_TYPE = "text/plain; charset=utf-8"
REF_MAX = 40
ROOT_CATEGORY = "MLA-C01"
META_PREFIX = "// mla:"
MOODLE_RESPONSE_MAX = 255  # qtype_match stores a response (answertext) in a 255-character column


# Escaped characters are replaced by placeholders before the structure is read (as Moodle does), so that every
# ``{ } = ~ # :`` left in the text is structural. The placeholders are lone surrogates, which decoded text can
# never contain, so no input is mistaken for one. ``-\>`` is our escape for a literal arrow.
def _placeholder(char: str) -> str:
    return chr(0xDC00 + ord(char))


_ESCAPES = {char: _placeholder(char) for char in "\\~=#{}:"} | {"n": _placeholder("\n")}
_ARROW_GT = _placeholder(">")
_BLANK = _placeholder("_")
_UNMASK = str.maketrans({_placeholder(char): char for char in "\\~=#{}:\n>"})

_TASK_RE = re.compile(r"^\d+\.\d+$")
_FORMAT_RE = re.compile(r"^\[(html|moodle|plain|markdown)\]")
_WEIGHT_RE = re.compile(r"^\s*%\s*(-?\d{1,3}(?:\.\d*)?)\s*%")
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_MARKDOWN_SPECIALS_RE = re.compile(r"([\\`*_\[\]<>#|])")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_EXTRA_META = ("type", "rationales", "case_study", "title")

SKIP_ESSAY = "essay questions are not supported: they need a human marker."
SKIP_NUMERICAL = "numerical questions are not supported: the answer is a typed number, not a choice of options."
SKIP_SHORT = "short-answer questions are not supported: the answer is typed text, not a choice of options."
SKIP_DESCRIPTION = "a description (text with no answer block) is not a question."


def _mask(line: str) -> str:
    """Replace escape sequences with placeholders; the result has one character per visible character."""
    out: list[str] = []
    index, length = 0, len(line)
    while index < length:
        char = line[index]
        if char == "\\" and index + 1 < length:
            following = line[index + 1]
            if following in _ESCAPES:
                out.append(_ESCAPES[following])
                index += 2
                continue
            if following == ">" and out and out[-1] == "-":
                out.append(_ARROW_GT)
                index += 2
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _unmask(text: str) -> str:
    return text.translate(_UNMASK)


def _escape_markdown(text: str) -> str:
    """Plain text into Markdown: characters Markdown would interpret are backslash-escaped."""
    return _MARKDOWN_SPECIALS_RE.sub(r"\\\1", text)


@dataclass
class _Source:
    """The masked text of one question and the file line of every offset in it."""

    text: str
    starts: list[int]
    numbers: list[int]

    @classmethod
    def build(cls, lines: list[tuple[int, str]]) -> _Source:
        starts, numbers, parts, offset = [], [], [], 0
        for number, line in lines:
            masked = _mask(line)
            starts.append(offset)
            numbers.append(number)
            parts.append(masked)
            offset += len(masked) + 1
        return cls("\n".join(parts), starts, numbers)

    def line(self, offset: int) -> int:
        return self.numbers[max(bisect.bisect_right(self.starts, offset) - 1, 0)]


class _MalformedError(Exception):
    """A question that cannot be read; carries the message (which names the bad token's line)."""


@dataclass
class _Segment:
    """One option of an answer block: its marker (``=``/``~``), its raw masked body, and where it starts."""

    marker: str
    body: str
    offset: int


@dataclass
class _Question:
    """What one block yields while it is being read: the texts are converted, images collected."""

    source: _Source
    location: str
    fmt: str = "moodle"
    images: list[str] = field(default_factory=list)
    media: MediaSink = field(default_factory=MediaSink)  # images pasted as data: URIs in [html] text


class _Parser:
    def __init__(self, result: ParseResult) -> None:
        self.result = result
        self.task = ""
        self.category_path = ""
        self.warned_category = False

    # -- blocks ---------------------------------------------------------------------------------------------
    def run(self, text: str) -> None:
        block: list[tuple[int, str]] = []
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for number, line in enumerate(lines, start=1):
            if line.strip():
                block.append((number, line))
            elif block:
                self.block(block)
                block = []
        if block:
            self.block(block)

    def block(self, lines: list[tuple[int, str]]) -> None:
        """One blank-line separated block: comments, maybe a category, maybe a question."""
        meta_lines: list[tuple[int, str]] = []
        body: list[tuple[int, str]] = []
        for number, line in lines:
            stripped = line.strip()
            if not body and stripped.startswith("$CATEGORY:"):
                self.category(number, stripped)
                continue
            if stripped.startswith("//"):
                if stripped.startswith(META_PREFIX):
                    if body:
                        self.result.warn(
                            f"line {number}", "mla metadata inside a question is ignored; put it directly before it."
                        )
                    else:
                        meta_lines.append((number, stripped[len(META_PREFIX) :]))
                continue
            body.append((number, line))
        if not body:
            for number, _ in meta_lines:
                self.result.warn(f"line {number}", "mla metadata is not followed by a question; ignored.")
            return
        meta = self.read_meta(meta_lines)
        location = f"line {body[0][0]}"
        try:
            self.question(_Question(_Source.build(body), location), meta)
        except _MalformedError as exc:
            self.result.error(location, str(exc))

    def category(self, number: int, line: str) -> None:
        """Moodle writes ``$CATEGORY:`` as a block of its own; we also accept a question right after it."""
        path = MOODLE_CONTEXT_RE.sub("", line[len("$CATEGORY:") :].strip()).rstrip("/")
        segments = [segment.strip() for segment in path.split("/")]
        last = segments[-1]
        ours = segments[0] == ROOT_CATEGORY and len(segments) <= 2  # what our exporter writes says nothing more
        self.category_path = "" if ours else path[:500]
        if _TASK_RE.match(last):
            self.task = last
            return
        self.task = ""
        if last != ROOT_CATEGORY and not self.warned_category:
            self.warned_category = True
            self.result.warn(
                f"line {number}",
                f"category {path!r} does not end in a task code such as 1.2; its questions (and those of other "
                "such categories) keep it as their category and get the task a category→task map gives it, or "
                "none.",
            )

    def read_meta(self, meta_lines: list[tuple[int, str]]) -> dict[str, object]:
        merged: dict[str, object] = {}
        for number, raw in meta_lines:
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):
                self.result.warn(f"line {number}", "mla metadata is not valid JSON; ignored.")
                continue
            if not isinstance(value, dict):
                self.result.warn(f"line {number}", "mla metadata is not a JSON object; ignored.")
                continue
            merged.update(value)
        return merged

    # -- one question ---------------------------------------------------------------------------------------
    def question(self, q: _Question, meta: dict[str, object]) -> None:
        source = q.source
        text = source.text
        start = len(text) - len(text.lstrip())
        title, position = "", start
        if text.startswith("::", start):
            end = text.find("::", start + 2)
            if end < 0:
                raise _MalformedError(
                    f"the title opened with '::' on line {source.line(start)} is never closed with '::' "
                    "(escape a literal colon as \\:)."
                )
            title = _unmask(text[start + 2 : end]).strip()
            position = end + 2
        opening, closing = text.find("{", position), text.find("}", position)
        if opening < 0 and closing < 0:
            self.description(q, text[position:], meta)
            return
        if closing >= 0 and (opening < 0 or closing < opening):
            raise _MalformedError(f"stray '}}' on line {source.line(closing)} (escape a literal brace as \\}}).")
        if closing < 0:
            raise _MalformedError(
                f"the answer block opened with '{{' on line {source.line(opening)} is never closed; a blank line "
                "ends a question, so a block cannot contain one."
            )
        nested = text.find("{", opening + 1, closing)
        if nested >= 0:
            raise _MalformedError(
                f"'{{' on line {source.line(nested)} inside the answer block opened on line "
                f"{source.line(opening)} (escape a literal brace as \\{{)."
            )
        after = text[closing + 1 :]
        for char, what in (("{", "a second answer block starts"), ("}", "stray '}'")):
            extra = after.find(char)
            if extra >= 0:
                raise _MalformedError(
                    f"{what} on line {source.line(closing + 1 + extra)}: GIFT allows one answer block per "
                    f"question (escape literal braces as \\{{ and \\}})."
                )
        stem_text = text[position:opening] + (_BLANK + after if after.strip() else "")
        q.fmt, stem_body = _split_format(stem_text.strip(), "moodle")
        stem = self.convert(q, stem_body, q.fmt, marked=True)
        draft = self.answers(q, text[opening + 1 : closing], opening + 1, stem)
        if draft is None:
            return
        item = Item(draft=draft, location=q.location, ref=title[:REF_MAX].strip(), media=q.media.files)
        draft.category = self.category_path
        draft.name = title if title != item.ref else ""
        if len(title) > REF_MAX:
            self.result.warn(
                q.location, f"title {title!r} is longer than {REF_MAX} characters; the ref is cut to {item.ref!r}."
            )
        self.apply(item, meta)
        self.report_images(q)
        self.result.items.append(item)

    def report_images(self, q: _Question) -> None:
        for image in q.images:
            label = image.replace("@@PLUGINFILE@@/", "") or "without a source"
            self.result.warn(
                q.location, f"image {label} is not imported: GIFT cannot carry files (only data: URIs in [html] text)."
            )
        for problem in q.media.problems:
            self.result.warn(q.location, problem)

    def description(self, q: _Question, body: str, meta: dict[str, object]) -> None:
        """Text with no answer block: a case-study scenario if our metadata says so, else skipped."""
        ref = meta.get("case_study")
        if not isinstance(ref, str) or not ref.strip():
            if "case_study" in meta:
                self.result.warn(q.location, "mla metadata 'case_study' must be the case study's ref; ignored.")
            self.result.skip(q.location, SKIP_DESCRIPTION)
            return
        q.fmt, body = _split_format(body.strip(), "moodle")
        q.media.enabled = False  # a case study's scenario carries no files
        scenario = self.convert(q, body, q.fmt, marked=True)
        if not scenario:
            raise _MalformedError(f"case study {ref!r} has no scenario text.")
        case_title = meta.get("title", "")
        if not isinstance(case_title, str):
            self.result.warn(q.location, "mla metadata 'title' must be text; ignored.")
            case_title = ""
        for key in sorted(set(meta) - {"case_study", "title"}):
            self.result.warn(q.location, f"mla metadata field {key!r} does not apply to a case study; ignored.")
        self.result.cases.append(
            Case(ref=ref.strip()[:REF_MAX], title=case_title, scenario=scenario, location=q.location)
        )
        self.report_images(q)

    def answers(self, q: _Question, block: str, offset: int, stem: str) -> QuestionDraft | None:
        """Decide the question kind from the answer block, in Moodle's order, and read it."""
        explanation = ""
        separator = block.rfind("####")
        if separator >= 0:
            explanation = self.convert(q, block[separator + 4 :], q.fmt)
            block = block[:separator]
        content = block.strip()
        if not content:
            self.result.skip(q.location, SKIP_ESSAY)
            return None
        if content.startswith("#"):
            self.result.skip(q.location, SKIP_NUMERICAL)
            return None
        if "~" in content:
            draft = self.multiple_choice(q, block, offset, stem)
        elif "->" in content:
            draft = self.matching(q, block, offset, stem)
        else:
            verdict = content.split("#", 1)[0].strip()
            if verdict not in _TRUE_FALSE:
                if any(not _unmask(part).strip() for part in content.split("=")[1:]):
                    raise _MalformedError(f"an answer on line {q.source.line(offset)} is empty.")
                self.result.skip(q.location, SKIP_SHORT)
                return None
            draft = self.true_false(q, content, stem)
        draft.explanation = explanation
        draft.task = self.task
        return draft

    def segments(self, q: _Question, block: str, offset: int, markers: str) -> list[_Segment]:
        """Split an answer block at its option markers; text before the first marker is malformed."""
        positions = [index for index, char in enumerate(block) if char in markers]
        leading = block[: positions[0]] if positions else block
        if leading.strip():
            line = q.source.line(offset + len(leading) - len(leading.lstrip()))
            raise _MalformedError(
                f"text {_unmask(leading.strip())[:40]!r} on line {line} comes before the first "
                f"option; every option starts with {' or '.join(repr(m) for m in markers)}."
            )
        segments = []
        for number, position in enumerate(positions):
            end = positions[number + 1] if number + 1 < len(positions) else len(block)
            segments.append(_Segment(block[position], block[position + 1 : end], offset + position))
        return segments

    def multiple_choice(self, q: _Question, block: str, offset: int, stem: str) -> QuestionDraft:
        segments = self.segments(q, block, offset, "=~")
        self.check_not_matching(q, segments)
        choices: list[ChoiceDraft] = []
        weights: list[float] = []
        for number, segment in enumerate(segments, start=1):
            body = segment.body
            weight = 100.0 if segment.marker == "=" else 0.0
            match = _WEIGHT_RE.match(body)
            if match:
                weight = float(match.group(1))
                body = body[match.end() :]
            text, _, feedback = body.partition("#")
            option = self.convert(q, text, q.fmt)
            if not option:
                raise _MalformedError(f"option {number} on line {q.source.line(segment.offset)} has no text.")
            choices.append(ChoiceDraft(option, self.convert(q, feedback, q.fmt) if feedback else ""))
            weights.append(weight)
        return QuestionDraft(type=self.key_choices(q, segments, choices, weights), stem=stem, choices=choices)

    def check_not_matching(self, q: _Question, segments: list[_Segment]) -> None:
        """``{=a -> 1 =b -> 2 ~3}`` is a matching question written wrongly, not options with arrows in them."""
        arrows = ["->" in segment.body.partition("#")[0] for segment in segments]
        equals = [index for index, segment in enumerate(segments) if segment.marker == "="]
        if len(equals) >= 2 and all(arrows[index] for index in equals) and not all(arrows):
            plain = segments[arrows.index(False)]
            raise _MalformedError(
                f"'->' pairs are mixed with an option without '->' on line {q.source.line(plain.offset)}: a "
                "matching question has only '=prompt -> response' answers (write a distractor as '= -> text'; "
                "escape a literal arrow in an option as -\\>)."
            )

    def key_choices(
        self, q: _Question, segments: list[_Segment], choices: list[ChoiceDraft], weights: list[float]
    ) -> str:
        """Mark the keys and pick single or multiple, warning where Moodle's scoring cannot be kept."""
        positive = [index for index, weight in enumerate(weights) if weight > 0]
        if not positive:
            raise _MalformedError(
                f"no correct option in the answer block on line {q.source.line(segments[0].offset)}: mark the "
                "key with '=' or give it a positive weight such as ~%50%."
            )
        equals = [index for index in positive if segments[index].marker == "="]
        if len(equals) == 1:
            keys = equals
            for index in positive:
                if index not in keys:
                    self.result.warn(
                        q.location,
                        f"option {index + 1} ({choices[index].text[:40]!r}) had partial credit "
                        f"({_weight(weights[index])}%); partial credit is dropped and it is imported as wrong.",
                    )
        else:
            keys = positive
            if len(equals) > 1:
                self.result.warn(
                    q.location,
                    f"{len(equals)} options are marked '=': imported as a multiple-response question with all of "
                    "them correct.",
                )
        for index in keys:
            choices[index].correct = True
        key_weights = {round(weights[index], 2) for index in keys}
        if len(key_weights) > 1 or (len(keys) == 1 and weights[keys[0]] != 100):
            self.result.warn(
                q.location,
                "the correct options have weights "
                + ", ".join(f"{_weight(weights[index])}%" for index in keys)
                + "; partial credit replaced by all-or-nothing scoring.",
            )
        return SINGLE if len(keys) == 1 else MULTIPLE

    def matching(self, q: _Question, block: str, offset: int, stem: str) -> QuestionDraft:
        segments = self.segments(q, block, offset, "=")
        pairs: list[PairDraft] = []
        for number, segment in enumerate(segments, start=1):
            line = q.source.line(segment.offset)
            if "->" not in segment.body:
                raise _MalformedError(
                    f"answer {number} on line {line} has no '->': '->' pairs cannot be mixed with other answers "
                    "in a matching question."
                )
            left, _, right = segment.body.partition("->")
            prompt = self.convert(q, left, q.fmt) or None
            # Moodle shows responses as plain text in a menu: no format marker, kept as written.
            response = _unmask(right).strip()
            if not response:
                raise _MalformedError(f"pair {number} on line {line} has no response after '->'.")
            pairs.append(PairDraft(prompt, response))
        if not any(pair.prompt for pair in pairs):
            raise _MalformedError(
                f"the matching block on line {q.source.line(offset)} has no pairs: write '=prompt -> response'."
            )
        return QuestionDraft(type=MATCHING, stem=stem, pairs=pairs)

    def true_false(self, q: _Question, content: str, stem: str) -> QuestionDraft:
        verdict, *feedback = content.split("#", 2)
        wrong = self.convert(q, feedback[0], q.fmt) if feedback else ""
        right = self.convert(q, feedback[1], q.fmt) if len(feedback) > 1 else ""
        true = _TRUE_FALSE[verdict.strip()]
        choices = [
            ChoiceDraft("True", right if true else wrong, correct=true),
            ChoiceDraft("False", wrong if true else right, correct=not true),
        ]
        return QuestionDraft(type=SINGLE, stem=stem, choices=choices)

    # -- texts and metadata ---------------------------------------------------------------------------------
    def convert(self, q: _Question, masked: str, default: str, *, marked: bool = False) -> str:
        """A masked text to Markdown, honouring its own ``[format]`` marker (unless the caller read it)."""
        fmt, text = (default, masked.strip()) if marked else _split_format(masked.strip(), default)
        text = _unmask(text)
        if fmt == "html" or (fmt == "moodle" and _TAG_RE.search(text)):
            text, images = html_to_markdown(text, q.media)
            q.images.extend(images)
        elif fmt == "plain":
            text = _escape_markdown(text)
        return text.replace(_BLANK, "_____").strip()

    def apply(self, item: Item, meta: dict[str, object]) -> None:
        """Our metadata: the shared fields through base.apply_meta, then the GIFT-only extras."""
        location = item.location
        if not meta:
            return
        extras = {key: meta[key] for key in _EXTRA_META if key in meta}
        shared = {key: value for key, value in meta.items() if key not in extras}
        if shared:
            apply_meta(item, shared, self.result, location)
        draft = item.draft
        kind = extras.get("type")
        if kind == ORDERING and draft.type == MATCHING:
            self.to_ordering(item)
        elif kind is not None and kind != draft.type:
            self.result.warn(location, f"mla metadata type {kind!r} does not fit this {draft.type} question; ignored.")
        if "rationales" in extras:
            self.rationales(item, extras["rationales"])
        for key in ("case_study", "title"):
            if key in extras:
                self.result.warn(location, f"mla metadata field {key!r} belongs on a case-study description; ignored.")

    def to_ordering(self, item: Item) -> None:
        """Our exports write an ordering item as matching pairs ``1 -> first step``; turn them back."""
        draft = item.draft
        positions = [pair.prompt or "" for pair in draft.pairs]
        expected = [str(number) for number in range(1, len(positions) + 1)]
        if sorted(positions, key=lambda p: (len(p), p)) != expected:
            self.result.warn(
                item.location,
                "mla metadata says ordering, but the prompts are not the positions 1, 2, 3...; imported as matching.",
            )
            return
        ordered = sorted(draft.pairs, key=lambda pair: int(pair.prompt or 0))
        draft.type, draft.pairs = ORDERING, []
        draft.steps = [StepDraft(pair.response) for pair in ordered]

    def rationales(self, item: Item, value: object) -> None:
        parts: list[StepDraft] | list[PairDraft] = item.draft.steps if item.draft.type == ORDERING else item.draft.pairs
        if item.draft.type not in {ORDERING, MATCHING}:
            self.result.warn(item.location, "mla metadata 'rationales' is only for matching and ordering; ignored.")
        elif (
            not isinstance(value, list) or not all(isinstance(text, str) for text in value) or len(value) != len(parts)
        ):
            self.result.warn(item.location, f"mla metadata 'rationales' must be a list of {len(parts)} texts; ignored.")
        else:
            for part, rationale in zip(parts, value, strict=True):
                part.rationale = rationale


def _split_format(text: str, default: str) -> tuple[str, str]:
    match = _FORMAT_RE.match(text)
    if match:
        return match.group(1), text[match.end() :]
    return default, text


def _weight(value: float) -> str:
    """A weight as Moodle writes it: 50, 33.33333, -100."""
    return f"{value:.5f}".rstrip("0").rstrip(".")


def parse(data: bytes, *, name: str = "upload") -> ParseResult:
    """Read a GIFT file. Never raises: every problem is an error, skip or warning naming its line."""
    result = ParseResult(format=FORMAT)
    try:
        text = decode(data)
    except DecodeError as exc:
        result.error("file", str(exc))
        return result
    try:
        _Parser(result).run(text)
    except Exception as exc:  # the contract is "never raises": a bug must not become a 500
        result.error("file", f"internal error while reading {name}: {type(exc).__name__}: {exc}")
    return result


# -- export -----------------------------------------------------------------------------------------------------
def _escape(text: str, *, arrows: bool = True, marker: bool = True) -> str:
    """Text for a GIFT field: specials escaped, newlines as \\n, and a ``[markdown]`` marker where a leading
    ``[`` or ``%`` would otherwise be read as a format marker or a weight."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    out = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        out = out.replace(char, "\\" + char)
    out = out.replace("\n", "\\n")
    if arrows:
        out = out.replace("->", "-\\>")
    if marker and out[:1] in {"[", "%"}:
        out = "[markdown]" + out
    return out


def _choice_lines(draft: QuestionDraft) -> list[str]:
    keys = sum(1 for choice in draft.choices if choice.correct)
    lines = []
    for choice in draft.choices:
        if draft.type == SINGLE:
            marker = "=" if choice.correct else "~"
        else:
            marker = f"~%{_weight(100 / keys)}%" if choice.correct else "~%-100%"
        feedback = f"#{_escape(choice.rationale)}" if choice.rationale else ""
        lines.append(f"\t{marker}{_escape(choice.text)}{feedback}")
    return lines


def _pair_lines(prompts: list[str], responses: list[str]) -> list[str]:
    return [
        f"\t={_escape(prompt)} -> {_escape(response, arrows=False, marker=False)}"
        for prompt, response in zip(prompts, responses, strict=True)
    ]


def _question(item: Item, number: int, losses: list[Problem]) -> list[str]:
    draft = item.draft
    label = f"item {item.ref or number}"
    meta = item_meta(item)
    if not item.ref:
        meta = {"ref": "", **meta}
    rationales: list[str] = []
    if draft.type in {SINGLE, MULTIPLE}:
        body = _choice_lines(draft)
        if not draft.choices:
            losses.append(Problem(label, "has no options; GIFT would read it as an essay question."))
        elif not any(choice.correct for choice in draft.choices):
            losses.append(Problem(label, "has no correct option; GIFT importers will refuse it."))
        elif draft.type == SINGLE and all(choice.correct for choice in draft.choices):
            losses.append(Problem(label, "has no wrong option; GIFT would read it as a short-answer question."))
    elif draft.type == MATCHING:
        body = _pair_lines([pair.prompt or "" for pair in draft.pairs], [pair.response for pair in draft.pairs])
        rationales = [pair.rationale for pair in draft.pairs]
    else:
        meta["type"] = ORDERING
        body = _pair_lines([str(n) for n in range(1, len(draft.steps) + 1)], [step.text for step in draft.steps])
        rationales = [step.rationale for step in draft.steps]
    responses = [pair.response for pair in draft.pairs] + [step.text for step in draft.steps]
    if any(len(response) > MOODLE_RESPONSE_MAX for response in responses):
        losses.append(
            Problem(
                label,
                f"a response or step is longer than {MOODLE_RESPONSE_MAX} characters, the most a Moodle matching "
                "response holds; Moodle will refuse or cut it (our importer reads it whole).",
            )
        )
    if draft.type in {MATCHING, ORDERING} and not body:
        losses.append(Problem(label, "has no pairs or steps; GIFT would read it as an essay question."))
    if any(rationales):
        meta["rationales"] = rationales
    if item.family:
        # One message for every item (without its family id), so the export page groups the losses by reason.
        losses.append(Problem(label, "the item family (which versions belong together) has no place in GIFT."))
    title = _escape(item.ref or f"q-{number}", marker=False)
    lines = [f"{META_PREFIX} {json.dumps(meta, ensure_ascii=False)}"]
    lines.append(f"::{title}::[markdown]{_escape(draft.stem, marker=False)}{{")
    lines += body
    if draft.explanation:
        lines.append(f"\t####{_escape(draft.explanation)}")
    lines.append("}")
    return lines


def _case(case: Case) -> list[str]:
    meta = {"case_study": case.ref, "title": case.title}
    return [
        f"{META_PREFIX} {json.dumps(meta, ensure_ascii=False)}",
        f"::{_escape(case.ref, marker=False)}::[markdown]{_escape(case.scenario, marker=False)}",
    ]


def export(items: list[Item], cases: list[Case]) -> ExportResult:
    """Write items and case studies as GIFT that Moodle imports and our parser reads back losslessly.

    Each case study's scenario is written as a description just before its first item; the task is written as
    a ``$CATEGORY: MLA-C01/<task>`` line whenever it changes.
    """
    losses: list[Problem] = []
    blocks: list[list[str]] = [
        ["// MLA practice-exam questions in GIFT. '// mla:' lines carry metadata that Moodle ignores."]
    ]
    by_ref = {case.ref: case for case in cases}
    written: set[str] = set()
    category = ""
    for number, item in enumerate(items, start=1):
        if item.draft.type not in TYPES:
            losses.append(Problem(f"item {item.ref or number}", f"type {item.draft.type!r} cannot be written."))
            continue
        if item.case_ref in by_ref and item.case_ref not in written:
            written.add(item.case_ref)
            blocks.append(_case(by_ref[item.case_ref]))
        if (item.draft.category or item.draft.task) != category:
            category = item.draft.category or item.draft.task
            own = f"{ROOT_CATEGORY}/{item.draft.task}" if item.draft.task else ROOT_CATEGORY
            blocks.append([f"$CATEGORY: {item.draft.category or own}"])
        blocks.append(_question(item, number, losses))
        if item.media:
            losses.append(
                Problem(
                    f"item {item.ref or number}",
                    "images and audio are not carried: GIFT has no place for files (export as Moodle XML or QTI).",
                )
            )
    for case in cases:
        if case.ref not in written:
            written.add(case.ref)
            blocks.append(_case(case))
    data = "\n\n".join("\n".join(block) for block in blocks) + "\n"
    return ExportResult(data=data.encode("utf-8"), filename=FILENAME, content_type=CONTENT_TYPE, losses=losses)
