"""What every interchange format shares: the parsed result, the export result, decoding and HTML conversion.

A format module offers ``parse(data: bytes, *, name: str) -> ParseResult`` and, when it can be written,
``export(items, cases) -> ExportResult``. Parsers are pure: they never touch the database and never raise on
bad input; every problem comes back as a ``Problem`` that names where it is (``line 40`` or an XML element
path such as ``quiz/question[3]/answer[2]``). The import service (``apps.questions.interchange.importing``)
checks the result against the syllabus and the bank and writes it in one transaction.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote

from apps.questions.rules import QuestionDraft, normalise


@dataclass(frozen=True)
class Problem:
    """Something about one place in a file: an error, a skipped question, or a warning."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass
class Item:
    """One question as a format carries it. ``draft.task`` is empty when the file does not say."""

    draft: QuestionDraft
    location: str = ""
    ref: str = ""
    version: int | None = None
    family: str = ""
    case_ref: str = ""
    case_order: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Case:
    """A case study: a scenario shared by several items (``Item.case_ref`` points at ``ref``)."""

    ref: str
    title: str
    scenario: str
    location: str = ""


@dataclass
class ParseResult:
    """What a parser found. Any ``errors`` mean nothing from the file may be imported."""

    format: str
    items: list[Item] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, location: str, message: str) -> None:
        self.errors.append(Problem(location, message))

    def skip(self, location: str, message: str) -> None:
        self.skipped.append(Problem(location, message))

    def warn(self, location: str, message: str) -> None:
        self.warnings.append(Problem(location, message))


@dataclass
class ExportResult:
    """A written file and what the format could not carry, item by item (``losses``)."""

    data: bytes
    filename: str
    content_type: str
    losses: list[Problem] = field(default_factory=list)


class DecodeError(ValueError):
    """The bytes are not text in an encoding we accept."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 (with BOM, or detected from its zero bytes).

    Written here rather than with a guessing library (charset-normalizer) because a guess that turns a
    Windows-1252 file into plausible mojibake is worse than a clear refusal the author can act on.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _no_nul(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise DecodeError(f"byte {exc.start}: not valid {encoding.upper()} after a UTF BOM.") from exc
    if len(data) >= 4 and len(data) % 2 == 0:
        # UTF-16 without a BOM: ASCII text has a zero in every other byte.
        even, odd = data[0::2], data[1::2]
        if odd.count(0) > len(odd) * 0.4 and even.count(0) == 0:
            return _decode_as(data, "utf-16-le")
        if even.count(0) > len(even) * 0.4 and odd.count(0) == 0:
            return _decode_as(data, "utf-16-be")
    return _decode_as(data, "utf-8")


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        return _no_nul(data.decode(encoding))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DecodeError(
            f"line {line}, byte {exc.start}: the file is not {encoding.upper()} text. "
            "Save it as UTF-8 (or UTF-16) and upload it again."
        ) from exc


def _no_nul(text: str) -> str:
    index = text.find("\x00")
    if index >= 0:
        line = text.count("\n", 0, index) + 1
        raise DecodeError(f"line {line}: the file contains a NUL character; it looks binary, not text.")
    return text


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


class _HtmlToMarkdown(HTMLParser):
    """A small HTML → Markdown converter for the HTML that quiz tools write (p, br, b, i, code, lists, links).

    Written on the standard library's tokenizer: the converters on PyPI pull in BeautifulSoup and still need
    our handling of embedded images, which we cannot import and must report.
    """

    _INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.images: list[str] = []
        self.lists: list[list[int | None]] = []
        self.links: list[str | None] = []
        self.skip_depth = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in {"script", "style", "head", "title"}:
            self.skip_depth += 1
        elif tag in {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr"}:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("  \n")
        elif tag in self._INLINE and not self.pre:
            self.out.append(self._INLINE[tag])
        elif tag == "pre":
            self.pre += 1
            self.out.append("\n\n```\n")
        elif tag in {"ul", "ol"}:
            self.lists.append([1 if tag == "ol" else None])
            self.out.append("\n")
        elif tag == "li":
            marker = "- "
            if self.lists and self.lists[-1][0] is not None:
                number = self.lists[-1][0]
                marker = f"{number}. "
                self.lists[-1][0] = number + 1
            # Indent nested lists, but not without bound: 40,000 nested lists would make the output quadratic.
            depth = min(max(len(self.lists) - 1, 0), _LIST_DEPTH_MAX)
            self.out.append("\n" + "  " * depth + marker)
        elif tag == "a":
            href = attributes.get("href") or ""
            if href.startswith(("http://", "https://")):
                self.links.append(href)
                self.out.append("[")
            else:
                self.links.append(None)
        elif tag == "img":
            source = attributes.get("src") or ""
            label = unquote(source.replace("@@PLUGINFILE@@/", "")) or attributes.get("alt") or "image"
            self.images.append(source)
            self.out.append(f"[image not imported: {label}]")
        elif tag in {"td", "th"}:
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head", "title"}:
            self.skip_depth = max(self.skip_depth - 1, 0)
        elif tag in {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr"}:
            self.out.append("\n\n")
        elif tag in self._INLINE and not self.pre:
            self.out.append(self._INLINE[tag])
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
            self.out.append("\n```\n\n")
        elif tag in {"ul", "ol"}:
            if self.lists:
                self.lists.pop()
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.out.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


_LIST_DEPTH_MAX = 8
_UNCLOSED_TAGS_MAX = 20


def _defuse_unclosed_tags(markup: str) -> str:
    """Escape the ``<`` of tags that never close, when there are many of them.

    Python 3.11's HTMLParser rescans the rest of the text for every unclosed ``<tag``, so a few kilobytes of
    ``<a <a <a`` take seconds and a megabyte takes hours. Such text is not HTML anyone wrote; a handful of stray
    ``<`` in real text is left to the parser.
    """
    parts = markup.split("<")
    if sum(1 for part in parts[1:] if ">" not in part) <= _UNCLOSED_TAGS_MAX:
        return markup
    return parts[0] + "".join(("<" if ">" in part else "&lt;") + part for part in parts[1:])


def html_to_markdown(markup: str) -> tuple[str, list[str]]:
    """Markdown for an HTML fragment, and the sources of images it referred to (which are not imported).

    Safe on hostile input: time and output stay linear in the input's size.
    """
    parser = _HtmlToMarkdown()
    parser.feed(_defuse_unclosed_tags(markup or ""))
    parser.close()
    text = "".join(parser.out)
    lines = [line.rstrip() if not line.endswith("  ") else line for line in text.split("\n")]
    lines = [line if line.startswith("  ") else line.lstrip(" ") for line in lines]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip(), parser.images


# The context a Moodle category path starts with ("$course$/top/", "$system$/top/", "$module$/"): where the bank
# lived in Moodle, not part of the category's own path.
MOODLE_CONTEXT_RE = re.compile(r"^\$[a-z]+\$/(top(/|$))?")

_TAG_START_RE = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_RE = re.compile(r"&(?=#?\w+;)")


def plain_to_markdown(text: str) -> str:
    """Plain text (Aiken) kept literal once stored as Markdown: what looks like an HTML tag or entity is
    backslash-escaped, so ``<html class="cool">`` shows as written instead of being sanitised away. Other
    Markdown punctuation is left alone: Markdown leaves ``2 * 3 * 4`` and ``snake_case`` as they are."""
    return _ENTITY_RE.sub(r"\\&", _TAG_START_RE.sub(r"\\<", text))


def plain_to_html(text: str) -> str:
    """Escape plain text for an HTML context (exporters that must write HTML)."""
    return html.escape(text, quote=False)


def normalised_key(draft: QuestionDraft, *, keys: bool = True, normaliser=normalise) -> str:
    """The duplicate-detection key: normalised stem and options, steps or pairs (order of options ignored).

    With ``keys`` the key also says which options are right, so two items that differ only in their key are
    not duplicates (one of them is probably miskeyed: the importer warns). Steps are in their correct order
    and pairs are their own key, so those carry their key either way.
    """
    parts = sorted(("*" if keys and choice.correct else "") + normaliser(choice.text) for choice in draft.choices)
    parts += [normaliser(step.text) for step in draft.steps]
    parts += sorted(f"{normaliser(pair.prompt or '')}->{normaliser(pair.response)}" for pair in draft.pairs)
    return normaliser(draft.stem) + "|" + "|".join(parts)


# Our fields that other formats have no place for travel in a small metadata record: a GIFT comment, Moodle
# XML tags, a QTI manifest entry. Tools that do not know it ignore it; our importers read it back.
META_FIELDS = (
    *("ref", "version", "task", "objectives", "difficulty", "angoff", "references", "case", "case_order"),
    *("concept", "name", "category", "tags"),
)


def item_meta(item: Item) -> dict[str, object]:
    """The metadata record of an item: only what is set, so plain items carry none."""
    draft = item.draft
    meta: dict[str, object] = {
        "ref": item.ref,
        "version": item.version,
        "task": draft.task,
        "objectives": list(draft.objectives),
        "difficulty": draft.difficulty if draft.difficulty != "medium" else "",
        "angoff": draft.angoff,
        "concept": draft.concept,
        "name": draft.name,
        "category": draft.category,
        "tags": list(draft.tags),
        "references": list(draft.references),
        "case": item.case_ref,
        "case_order": item.case_order or None,
    }
    return {key: value for key, value in meta.items() if value not in (None, "", [])}


def apply_meta(item: Item, meta: object, result: ParseResult, location: str) -> None:
    """Set an item's fields from a metadata record, warning about (and ignoring) anything malformed."""
    if not isinstance(meta, dict):
        result.warn(location, "the mla metadata is not a mapping; ignored.")
        return
    draft = item.draft
    for key, value in meta.items():
        if key in {"ref", "task", "difficulty", "case", "concept", "name", "category"} and isinstance(value, str):
            if key in {"concept", "name", "category"}:
                setattr(draft, key, value)
            elif key == "ref":
                item.ref = value[:40]
            elif key == "task":
                draft.task = value
            elif key == "difficulty":
                draft.difficulty = value
            else:
                item.case_ref = value
        elif (
            key in {"objectives", "references", "tags"}
            and isinstance(value, list)
            and all(isinstance(v, str) for v in value)
        ):
            setattr(draft, key, list(value))
        elif key in {"version", "case_order"} and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            if key == "version":
                item.version = value
            else:
                item.case_order = value
        elif key == "angoff" and isinstance(value, int | float) and not isinstance(value, bool):
            draft.angoff = float(value)
        else:
            result.warn(location, f"mla metadata field {key!r} has an unexpected value {value!r}; ignored.")
