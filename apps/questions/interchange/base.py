"""What every interchange format shares: the parsed result, the export result, decoding and HTML conversion.

A format module offers ``parse(data: bytes, *, name: str) -> ParseResult`` and, when it can be written,
``export(items, cases) -> ExportResult``. Parsers are pure: they never touch the database and never raise on
bad input; every problem comes back as a ``Problem`` that names where it is (``line 40`` or an XML element
path such as ``quiz/question[3]/answer[2]``). The import service (``apps.questions.interchange.importing``)
checks the result against the syllabus and the bank and writes it in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from urllib.parse import unquote

from django.conf import settings

from apps.questions.rules import QuestionDraft, normalise


@dataclass(frozen=True)
class Problem:
    """Something about one place in a file: an error, a skipped question, or a warning."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class MediaFile:
    """The bytes of an image or audio file an item's texts refer to as ``media:<key>``."""

    data: bytes
    content_type: str


@dataclass
class Item:
    """One question as a format carries it. ``draft.task`` is empty when the file does not say.

    ``media`` maps what follows ``media:`` in the texts to the file: a plain name when parsed from a file
    (``chart.png``), ``<id>/<name>`` when read from the bank for an export.
    """

    draft: QuestionDraft
    location: str = ""
    ref: str = ""
    version: int | None = None
    family: str = ""
    case_ref: str = ""
    case_order: int = 0
    warnings: list[str] = field(default_factory=list)
    media: dict[str, MediaFile] = field(default_factory=dict)


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


MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
}
_EXTENSION_OF = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
_EXTENSION_OF |= {"image/svg+xml": ".svg", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/wav": ".wav"}
_EXTENSION_OF |= {"audio/x-wav": ".wav", "audio/mp3": ".mp3", "audio/mp4": ".m4a"}
_MEDIA_ID_RE = re.compile(r"\(media:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/")
_MEDIA_NAME_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
_DATA_URI_RE = re.compile(r"data:([\w.+/-]+)((?:;[\w=.+-]+)*?);base64,(.*)", re.DOTALL | re.IGNORECASE)


def media_type(name: str) -> str:
    """The content type we store a file under, from its name; "" for a file an item may not carry."""
    return MEDIA_TYPES.get(posixpath.splitext(name.lower())[1], "")


def is_audio(name: str) -> bool:
    return media_type(name).startswith("audio/")


class MediaSink:
    """Collects the images and audio of one item while its texts are converted.

    ``lookup`` is the format's way to find the bytes a reference names (a Moodle ``<file>``, a QTI package
    entry): it gets the reference as written and returns ``(file name, bytes)``, or None. Files over
    ``ITEM_MEDIA_MAX_BYTES``, of a type we do not serve, or past ``ITEM_MEDIA_MAX_FILES`` are refused with a
    message in ``problems``; the text then keeps a placeholder.
    """

    def __init__(
        self, lookup: Callable[[str], tuple[str, bytes] | None] | None = None, *, enabled: bool = True
    ) -> None:
        self.enabled = enabled  # off where the text has no item to attach files to (a case study's scenario)
        self.files: dict[str, MediaFile] = {}
        self.problems: list[str] = []
        self.lookup = lookup
        self._by_source: dict[str, str | None] = {}

    def resolve(self, source: str) -> str | None:
        """The media name to refer to for ``source`` (a data URI or what ``lookup`` finds), or None."""
        if not self.enabled:
            return None
        if source in self._by_source:
            return self._by_source[source]
        name: str | None = None
        if source[:5].lower() == "data:":
            name = self._data_uri(source)
        elif self.lookup is not None:
            found = self.lookup(source)
            if found is not None:
                name = self.add(found[0], found[1])
        self._by_source[source] = name
        return name

    def _data_uri(self, source: str) -> str | None:
        match = _DATA_URI_RE.match(source.strip())
        if match is None:
            self.problems.append("an embedded data: image that is not base64 was not imported.")
            return None
        content_type = match.group(1).lower()
        extension = _EXTENSION_OF.get(content_type)
        if extension is None:
            self.problems.append(
                f"an embedded {content_type} file was not imported: items carry only images and audio."
            )
            return None
        try:
            data = base64.b64decode(re.sub(r"\s+", "", match.group(3)), validate=True)
        except (binascii.Error, ValueError):
            self.problems.append(f"an embedded {content_type} image is not valid base64 and was not imported.")
            return None
        number = sum(1 for name in self.files if name.startswith("image-")) + 1
        return self.add(f"image-{number}{extension}", data)

    def add(self, name: str, data: bytes, *, key: str | None = None) -> str | None:
        """Keep a file under a safe, unique name (what the text refers to), or under ``key`` when the text
        already refers to it by one (a native file's ``<id>/<name>``); None, with the reason, when refused."""
        name = posixpath.basename(unquote(name).replace("\\", "/")).strip()
        safe = _MEDIA_NAME_UNSAFE_RE.sub("-", name).strip("-.")[:120] or "file"
        content_type = media_type(safe)
        if not content_type:
            self.problems.append(
                f"file {name} was not imported: items carry only images (png, jpeg, gif, webp, svg) "
                "and audio (mp3, ogg, wav, m4a)."
            )
            return None
        limit = settings.ITEM_MEDIA_MAX_BYTES
        if len(data) > limit:
            self.problems.append(
                f"file {name} was not imported: it is {len(data):,} bytes, over the limit of {limit:,} bytes per file."
            )
            return None
        for existing, media in self.files.items():
            if key is None and media.data == data and media_type(existing) == content_type:
                return existing
        if len(self.files) >= settings.ITEM_MEDIA_MAX_FILES:
            self.problems.append(
                f"file {name} was not imported: an item carries at most {settings.ITEM_MEDIA_MAX_FILES} files."
            )
            return None
        if key is not None:
            self.files[key] = MediaFile(data, content_type)
            return key
        stem, extension = posixpath.splitext(safe)
        number = 1
        while safe in self.files:
            number += 1
            safe = f"{stem}-{number}{extension}"
        self.files[safe] = MediaFile(data, content_type)
        return safe


class _HtmlToMarkdown(HTMLParser):
    """A small HTML → Markdown converter for the HTML that quiz tools write (p, br, b, i, code, lists, links).

    Written on the standard library's tokenizer: the converters on PyPI pull in BeautifulSoup and still need
    our handling of images and audio, which become the item's own files (``MediaSink``) or a reported placeholder.
    """

    _INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}

    def __init__(self, media: MediaSink | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.media = media if media is not None else MediaSink()
        self.out: list[str] = []
        self.images: list[str] = []
        self.audio = 0  # inside <audio>: its fallback text is not kept, its first playable source is
        self.lists: list[list[int | None]] = []
        self.links: list[str | None] = []
        self.skip_depth = 0
        self.audio_done = False
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
            name = self.media.resolve(href) if href and is_audio(unquote(href.split("?")[0])) else None
            if name is not None:  # a link to an audio file of the item plays in place
                self.links.append(f"media:{name}")
                self.out.append("![")
            elif href.startswith(("http://", "https://")):
                self.links.append(href)
                self.out.append("[")
            else:
                self.links.append(None)
        elif tag in {"img", "audio", "source", "object"}:
            self.embedded(tag, attributes)
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
        elif tag == "audio":
            self.audio = max(self.audio - 1, 0)
            self.skip_depth = max(self.skip_depth - 1, 0)

    def embedded(self, tag: str, attributes: dict[str, str | None]) -> None:
        """An image, an audio element (or its first source) or an object becomes ``![alt](media:<name>)`` when its
        file is found, else a placeholder, with the source in ``images`` for the format to report."""
        if tag == "audio":
            self.audio += 1
            self.skip_depth += 1  # the fallback text ("your browser cannot play this") is not content
            self.audio_done = False
        if tag == "source" and (not self.audio or self.audio_done):
            return
        source = (attributes.get("data") if tag == "object" else attributes.get("src")) or ""
        if not source:
            return
        if tag in {"audio", "source"}:
            self.audio_done = True
        name = self.media.resolve(source)
        label = attributes.get("alt") or attributes.get("title") or attributes.get("aria-label") or ""
        label = re.sub(r"[\[\]\\]", "", " ".join(label.split()))
        if name is not None:
            self.out.append(f"![{label or ('Audio' if is_audio(name) else 'Image')}](media:{name})")
            return
        if source[:5].lower() == "data:":
            self.out.append("[image not imported]")
            return
        shown = unquote(source.replace("@@PLUGINFILE@@/", "")) or label or "image"
        self.images.append(source)
        kind = "audio" if is_audio(shown.split("?")[0]) else "image"
        self.out.append(f"[{kind} not imported: {shown}]")

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


def html_to_markdown(markup: str, media: MediaSink | None = None) -> tuple[str, list[str]]:
    """Markdown for an HTML fragment, and the sources of images or audio it referred to that were not found.

    Images and audio found through ``media`` (data URIs always, the format's files through its lookup) become
    ``![alt](media:<name>)`` with their bytes in ``media.files``; a data URI never stays in the text, so an
    embedded image does not count against a text's length. Safe on hostile input: time and output stay linear
    in the input's size.
    """
    parser = _HtmlToMarkdown(media)
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
    if "(media:" in draft.stem:  # the same image under another id (a second import of one file) is the same item
        draft = replace(draft, stem=_MEDIA_ID_RE.sub("(media:", draft.stem))
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
