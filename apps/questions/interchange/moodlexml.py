"""Moodle XML: the question-bank export/import format of Moodle (``<quiz><question type="...">...</quiz>``).

Reading (``parse``) maps Moodle question types to ours:

- ``multichoice`` with ``<single>true</single>`` (or no ``<single>``, Moodle's default) → single answer: the
  answer(s) with the highest positive ``fraction`` are the key; lower positive fractions (partial credit) are
  dropped with a warning. ``<single>false</single>`` → multiple response: every answer with ``fraction > 0`` is
  a key; unequal positive fractions are warned about, since our scoring is all-or-nothing.
- ``truefalse`` → single answer with options "True" and "False" (the answer whose text is ``true``/``false``
  and has a positive fraction is the key).
- ``matching`` → matching: each ``<subquestion>`` is a prompt and its ``<answer>`` the response; a
  subquestion with empty text is an extra response that matches nothing (``PairDraft(prompt=None)``).
- ``ordering`` (the qtype_ordering plugin) → ordering: the answers in file order are the correct order (the
  plugin itself ignores their ``fraction`` on import, and so do we).
- ``description`` tagged ``mla-case-study:<ref>`` → a case study (name → title, question text → scenario);
  other descriptions are skipped: they carry no question.
- ``category`` → the questions that follow keep the category path (without Moodle's ``$course$/top/``) as
  their ``category``, which the admin filters on and a category→task map (admin, or ``import_questions
  --categories``) turns into a task; a last segment that is a task code ``N.N`` (``$course$/top/MLA-C01/1.2``)
  sets the task directly.

Per-answer ``<feedback>`` becomes the option's (step's, pair's) rationale, ``<generalfeedback>`` the
explanation. The feedback for a correct, partially correct and incorrect response has no place here: when it
says more than Moodle's default sentence, the item gets one warning naming which. Texts follow their ``format``
attribute: ``html`` goes through ``html_to_markdown``; ``markdown``, ``plain_text`` and ``moodle_auto_format``
are kept as text. A missing format means HTML for the question text
and "same as the question text" for the rest, as in Moodle's own importer. Images and audio travel as
Moodle does: base64 ``<file>`` elements of the text that refers to them as ``@@PLUGINFILE@@/<name>`` (an
``<img>``, an ``<audio>``/``<source>``, or a link to an audio file); they become the item's media files, within
``ITEM_MEDIA_MAX_BYTES`` each. A reference without its file, or a file refused (too large, not an image or
audio), gives a warning and the text keeps a placeholder. The question ``<name>`` is kept as the item's name
(and names it in messages); the item's ref comes from ``<idnumber>`` (Moodle 3.6+) when present.

Skipped, with the reason: essay, numerical, shortanswer, multianswer/cloze, calculated (all three kinds),
ddwtos, ddimageortext, ddmarker, gapselect, randomsamatch, random and any type we do not know. They need a
human marker, typed answers, images or quiz-time randomisation, none of which our item types have.

Our metadata travels in Moodle question tags, which Moodle keeps and other tools ignore, one per value::

    mla-task:1.2            mla-objective:1.2.3 (one per objective)    mla-difficulty:hard
    mla-angoff:0.55         mla-version:2                              mla-case:CS-03
    mla-case-order:2        mla-reference:https://... (one per link)   mla-ref:MLA-0123
    mla-concept:model-card  (items sharing a concept never meet on one mock form)
    mla-case-study:CS-03    (on a description question: that description is case study CS-03)

The ref is written to ``<idnumber>``; ``mla-ref`` is only used when ``<idnumber>`` cannot hold it (a ref
repeated within one category, which Moodle refuses). Tags that do not start with ``mla-`` are kept as the
item's tags and written back on export. Moodle
cuts tags to 50 characters when it imports them, so a long reference link survives a round trip through this
platform but not through Moodle (a cut cannot be told from a link that happens to end there, so it is not
guessed at).

Writing (``export``) produces what Moodle 4 writes, with texts in ``format="markdown"`` (Moodle renders
Markdown): a category question whenever the category changes (the item's own path from its source bank, else
``$course$/top/MLA-C01/<task>``), each item under its own name when it has one; multichoice with
Moodle grade fractions (single: key 100, others 0; multiple: keys 100/k from Moodle's list, wrong -100);
ordering with the plugin's settings for an all-or-nothing, all-items question; matching with distractors as
empty subquestions; case studies as tagged description questions placed before their first item. Moodle has
no feedback per matching pair: pair rationales go in a ``<feedback>`` element inside each ``<subquestion>``,
which Moodle's importer ignores and ours reads back, and each such item is listed in ``losses``. The item
status is not written: imported items always start as drafts.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import xml.etree.ElementTree as ET  # builds the export tree; parsing goes through defusedxml
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import ParseError as DefusedParseError

from apps.questions.interchange.base import (
    MOODLE_CONTEXT_RE,
    Case,
    ExportResult,
    Item,
    MediaFile,
    MediaSink,
    ParseResult,
    Problem,
    apply_meta,
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

FORMAT = "moodlexml"
FILENAME = "questions.moodle.xml"
CONTENT_TYPE = "application/xml"
ROOT_CATEGORY = "MLA-C01"
COURSE_CONTEXT = "$course$/top"
COURSE_CATEGORY = f"{COURSE_CONTEXT}/{ROOT_CATEGORY}"
TAG_PREFIX = "mla-"

_TASK_RE = re.compile(r"\d+\.\d+")
_PLUGINFILE_RE = re.compile(r"@@PLUGINFILE@@/([^\s\"'<>()\]]+)")
_MD_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(\s*<?(@@PLUGINFILE@@/[^\s)>]+)>?[^)]*\)")
_HTML_IMAGE_RE = re.compile(r"()<img\b[^>]*?\bsrc\s*=\s*[\"'](@@PLUGINFILE@@/[^\"']+)[\"'][^>]*>", re.IGNORECASE)
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".tif", ".tiff")
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CATEGORY_SPLIT_RE = re.compile(r"(?<!/)/(?!/)")  # Moodle escapes a "/" inside a category name as "//"

# Moodle's grade list has these shares of 100 %; a multiple-response key is worth 100/k.
_KEY_FRACTIONS = {
    1: "100",
    2: "50",
    3: "33.33333",
    4: "25",
    5: "20",
    6: "16.66667",
    7: "14.28571",
    8: "12.5",
    9: "11.11111",
    10: "10",
    20: "5",
}

_UNSUPPORTED = {
    "essay": "essay questions are not supported: they need a human marker.",
    "numerical": "numerical questions are not supported: the answer is a typed number, not a choice.",
    "shortanswer": "short-answer questions are not supported: the answer is typed text, not a choice.",
    "multianswer": "embedded-answer (cloze) questions are not supported: they hide several sub-questions in one text.",
    "cloze": "embedded-answer (cloze) questions are not supported: they hide several sub-questions in one text.",
    "calculated": "calculated questions are not supported: they generate numbers from a formula at quiz time.",
    "calculatedsimple": "calculated questions are not supported: they generate numbers from a formula at quiz time.",
    "calculatedmulti": "calculated questions are not supported: they generate numbers from a formula at quiz time.",
    "ddwtos": "drag-and-drop-into-text questions are not supported: they fill gaps in a text.",
    "gapselect": "select-missing-words questions are not supported: they fill gaps in a text.",
    "ddimageortext": "drag-and-drop-onto-image questions are not supported: they need a background image.",
    "ddmarker": "drag-and-drop-markers questions are not supported: they need a background image.",
    "randomsamatch": "random short-answer matching questions are not supported: Moodle builds them at quiz time "
    "from other short-answer questions.",
    "random": "random questions are not supported: they are placeholders that pick another question at quiz time.",
}

_KNOWN_TAGS = {
    "task",
    "objective",
    "difficulty",
    "angoff",
    "concept",
    "version",
    "case",
    "case-order",
    "reference",
    "ref",
}


# --------------------------------------------------------------------------------------------------------------
# Reading the XML safely, with a line number for every element
# --------------------------------------------------------------------------------------------------------------


class _LineTreeBuilder:
    """A TreeBuilder target that also records the line each element starts on.

    ElementTree elements carry no position, and a message that says "line 612" is what lets an author find the
    broken question in a 2,000-line export. The expat parser underneath knows the line when a start tag fires.
    """

    def __init__(self) -> None:
        self._builder = ET.TreeBuilder()
        self.lines: dict[ET.Element, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = self._builder.start(tag, attrs)
        expat = getattr(self.parser, "parser", None)
        self.lines[element] = int(getattr(expat, "CurrentLineNumber", 0) or 0)
        return element

    def end(self, tag: str) -> ET.Element:
        return self._builder.end(tag)

    def data(self, data: str) -> None:
        self._builder.data(data)

    def close(self) -> ET.Element:
        return self._builder.close()


def _read_xml(data: bytes, result: ParseResult) -> tuple[ET.Element | None, dict[ET.Element, int]]:
    """The document's root and element lines, or None after recording why the bytes are not usable XML.

    This is ``defusedxml.ElementTree.fromstring(data, forbid_dtd=True)`` with a line-recording target: any
    DOCTYPE is refused outright, which stops entity bombs (billion laughs) and external entities (XXE) before
    a single entity is declared.
    """
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"):  # whitespace and byte-order marks only
        result.error("file", "the file is empty; a Moodle XML file starts with <quiz>.")
        return None, {}
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except (DefusedParseError, ET.ParseError) as exc:
        line, column = getattr(exc, "position", (0, 0)) or (0, 0)
        reason = _expat_reason(exc)
        result.error(f"line {line}, column {column + 1}", f"not well-formed XML: {reason}.")
        return None, {}
    except DTDForbidden:
        result.error(
            _expat_line(parser),
            "the file declares a DTD (<!DOCTYPE ...>). DTDs and entities are refused because they can be used to "
            "attack the server (entity bombs, reading local files); Moodle never writes one, so remove it.",
        )
        return None, {}
    except DefusedXmlException as exc:
        result.error(_expat_line(parser), f"the file uses XML entities, which are refused for safety ({exc}).")
        return None, {}
    except (ValueError, UnicodeError, LookupError) as exc:
        result.error("file", f"the XML text cannot be decoded: {exc}. Save it as UTF-8 and upload it again.")
        return None, {}
    except RecursionError:
        result.error("file", "the XML is nested too deeply to read.")
        return None, {}
    return root, builder.lines


def _expat_reason(exc: Exception) -> str:
    """Expat's message without the ": line 3, column 4" tail that our location already says."""
    return re.sub(r":\s*line \d+, column \d+\s*$", "", str(exc)) or "unreadable XML"


def _expat_line(parser: DefusedXMLParser) -> str:
    expat = getattr(parser, "parser", None)
    line = getattr(expat, "CurrentLineNumber", 0) if expat is not None else 0
    return f"line {line}" if line else "file"


# --------------------------------------------------------------------------------------------------------------
# Small helpers over elements
# --------------------------------------------------------------------------------------------------------------


def _inner_text(element: ET.Element | None) -> str:
    """The content of an element's ``<text>`` child (or the element itself when it has none).

    Moodle wraps HTML in CDATA; a hand-written file may put raw tags inside ``<text>``, which the XML parser
    turns into child elements, so those are serialised back to markup instead of being lost.
    """
    if element is None:
        return ""
    text = element.find("text")
    holder = text if text is not None else element
    parts = [holder.text or ""]
    for child in holder:
        if text is None and child.tag in {"file", "feedback", "answer"}:
            parts.append(child.tail or "")
            continue
        parts.append(ET.tostring(child, encoding="unicode"))
    return "".join(parts)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_image(name: str) -> bool:
    return name.lower().endswith(_IMAGE_EXTENSIONS)


@dataclass
class _Question:
    """One ``<question>`` being read: where it is, and the warnings that belong to the item it becomes."""

    element: ET.Element
    path: str
    name: str
    lines: dict[ET.Element, int]
    result: ParseResult
    warnings: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    media: MediaSink = field(init=False)

    def __post_init__(self) -> None:
        self.media = MediaSink(self.find_file)
        self.found: set[str] = set()  # <file> names a text referred to (imported, or refused with a reason)

    def find_file(self, source: str) -> tuple[str, bytes] | None:
        """The ``<file>`` of this question that ``@@PLUGINFILE@@/<name>`` refers to (any text's files: Moodle
        keeps one file area per text, but a name means one file within a question)."""
        if not source.startswith("@@PLUGINFILE@@/"):
            return None
        name = unquote(source.removeprefix("@@PLUGINFILE@@/").split("?")[0])
        for node in self.element.iter("file"):
            if (node.get("name") or "") == name.rsplit("/", 1)[-1]:
                self.found.add(name)
                try:
                    return name, base64.b64decode("".join((node.text or "").split()), validate=True)
                except (binascii.Error, ValueError):
                    self.warn(self.where(node), f"file {_short(name, 80)} is not valid base64; not imported.")
                    return None
        return None

    def where(self, element: ET.Element | None = None, sub: str = "") -> str:
        """``quiz/question[12]/answer[2] "Feature store latency" (line 45)``."""
        path = f"{self.path}/{sub}" if sub else self.path
        label = f' "{_short(self.name)}"' if self.name else ""
        line = self.lines.get(element if element is not None else self.element, 0)
        return f"{path}{label}" + (f" (line {line})" if line else "")

    def warn(self, location: str, message: str) -> None:
        self.result.warn(location, message)
        self.warnings.append(message)

    def error(self, location: str, message: str) -> None:
        self.result.error(location, message)

    def embedded(self, source: str, location: str) -> None:
        """Warn once per question about an embedded image or file that cannot be imported."""
        name = unquote(source.replace("@@PLUGINFILE@@/", "")).strip() or source
        if name in self.files or name in self.found:
            return
        self.files.add(name)
        kind = "image" if _is_image(name) or not source.startswith("@@PLUGINFILE@@") else "file"
        if source.startswith("@@PLUGINFILE@@"):
            self.warn(location, f"{kind} {_short(name, 80)} is not imported: the question has no <file> of that name.")
        else:
            self.warn(location, f"{kind} {_short(name, 80)} is not imported: only files inside the question are.")

    def scan_files(self) -> None:
        """Warn about the files of the question that no imported text refers to (e.g. in hints, which we do not
        read), and about the files refused (too large, or not an image or audio)."""
        for problem in self.media.problems:
            self.warn(self.where(), problem)
        self.media.problems.clear()
        for part, path in self.parts():
            for node in part.iter():
                if node.tag == "file" and (node.get("name") or "") not in {n.rsplit("/", 1)[-1] for n in self.found}:
                    name = node.get("name") or node.get("path") or "unnamed file"
                    if name not in self.files:
                        self.files.add(name)
                        self.warn(
                            self.where(node, path),
                            f"file {_short(name, 80)} is not imported: no text of the question that we import uses it.",
                        )
                elif node.tag == "image" and (node.text or "").strip():
                    self.embedded((node.text or "").strip(), self.where(node, path))

    def parts(self) -> list[tuple[ET.Element, str]]:
        """The question's child elements with their paths: ``answer[2]``, or ``questiontext`` when it is alone."""
        children = list(self.element)
        counts: dict[str, int] = {}
        for child in children:
            counts[str(child.tag)] = counts.get(str(child.tag), 0) + 1
        seen: dict[str, int] = {}
        parts = []
        for child in children:
            tag = str(child.tag)
            seen[tag] = seen.get(tag, 0) + 1
            parts.append((child, f"{tag}[{seen[tag]}]" if counts[tag] > 1 else tag))
        return parts

    def text(self, element: ET.Element | None, default_format: str, location: str) -> str:
        """A text element as Markdown, following its ``format`` attribute."""
        if element is None:
            return ""
        raw = _inner_text(element)
        text_format = (element.get("format") or default_format).strip().lower()
        if text_format == "html":
            markdown, images = html_to_markdown(raw, self.media)
            for source in images:
                self.embedded(source, location)
            if "@@PLUGINFILE@@" in raw:
                for match in _PLUGINFILE_RE.finditer(raw):
                    # A link to a file that is not an image or audio: resolving it says why it is refused.
                    if self.media.resolve(match.group(0)) is None:
                        self.embedded(match.group(0), location)
            return markdown
        return self._plain(raw, location)

    def _plain(self, raw: str, location: str) -> str:
        """Markdown, plain or auto-format text: kept as written, but embedded images become placeholders."""

        def placeholder(match: re.Match[str]) -> str:
            alt, source = match.group(1), match.group(2)
            name = self.media.resolve(source)
            if name is not None:
                return f"![{alt or 'Image'}](media:{name})"
            self.embedded(source, location)
            return f"[image not imported: {source.replace('@@PLUGINFILE@@/', '')}]"

        text = _MD_IMAGE_RE.sub(placeholder, raw)
        text = _HTML_IMAGE_RE.sub(placeholder, text)
        if "@@PLUGINFILE@@" in text:
            for match in _PLUGINFILE_RE.finditer(text):
                self.embedded(match.group(0), location)
        return text.strip()


def _question_format(element: ET.Element) -> str:
    """The question text's format; Moodle's importer assumes HTML when the attribute is missing."""
    questiontext = element.find("questiontext")
    value = questiontext.get("format") if questiontext is not None else None
    return (value or "html").strip().lower()


def _fraction(answer: ET.Element, question: _Question, location: str) -> float | None:
    """An answer's fraction as a percentage (Moodle writes 100, 50, -33.33333); None after an error."""
    raw = answer.get("fraction")
    if raw is None or not raw.strip():
        return 0.0
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        question.error(location, f"the fraction {raw!r} is not a number; Moodle writes percentages such as 100 or 50.")
        return None
    return value


def _percent(value: float) -> str:
    return f"{value:g}"


# --------------------------------------------------------------------------------------------------------------
# parse
# --------------------------------------------------------------------------------------------------------------


def parse(data: bytes, *, name: str = "upload") -> ParseResult:
    """Read a Moodle XML file. Never raises: every problem is reported with its element path and line."""
    result = ParseResult(format=FORMAT)
    try:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        _parse(bytes(data), result)
    except RecursionError:
        result.error("file", "the XML is nested too deeply to read.")
    except Exception as exc:  # the contract is "never raises"; a bug must not take the upload page down
        result.error("file", f"the file could not be read because of an internal error ({type(exc).__name__}).")
    return result


def _parse(data: bytes, result: ParseResult) -> None:
    root, lines = _read_xml(data, result)
    if root is None:
        return
    if root.tag != "quiz":
        line = lines.get(root, 0)
        result.error(
            f"<{_short(str(root.tag), 40)}>" + (f" (line {line})" if line else ""),
            f"the root element is <{_short(str(root.tag), 40)}>, not <quiz>: this is not a Moodle XML question file.",
        )
        return
    place = _Place()
    index = 0
    for child in root:
        if child.tag != "question":
            line = lines.get(child, 0)
            result.warn(
                f"quiz/{_short(str(child.tag), 40)}" + (f" (line {line})" if line else ""),
                f"unexpected element <{_short(str(child.tag), 40)}> ignored: a quiz holds <question> elements.",
            )
            continue
        index += 1
        question = _Question(
            element=child,
            path=f"quiz/question[{index}]",
            name=_inner_text(child.find("name")).strip(),
            lines=lines,
            result=result,
        )
        _read_question(question, place)


@dataclass
class _Place:
    """Where the questions that follow a category question go: its path in the source bank, and the task
    when the path ends in a task code."""

    task: str = ""
    category: str = ""


def _read_question(question: _Question, place: _Place) -> None:
    """Turn one <question> into an item, a case, a category change (updating ``place``) or a skip."""
    element = question.element
    qtype = (element.get("type") or "").strip().lower()
    if not qtype:
        question.error(question.where(), 'the question has no type attribute (e.g. <question type="multichoice">).')
        return
    if qtype == "category":
        place.task, place.category = _category(question)
        return
    if qtype == "description":
        _description(question)
        return
    if qtype in _UNSUPPORTED:
        question.result.skip(question.where(), _UNSUPPORTED[qtype])
        return
    reader = _READERS.get(qtype)
    if reader is None:
        question.result.skip(
            question.where(),
            f"question type {_short(qtype, 40)!r} is not supported: only multichoice, truefalse, matching and "
            "ordering questions (and descriptions tagged as case studies) can be imported.",
        )
        return
    draft = reader(question)
    if draft is None:
        return
    question.scan_files()
    draft.task, draft.category, draft.name = place.task, place.category, question.name
    item = Item(draft=draft, location=question.where(), media=question.media.files)
    _apply_tags(question, item)
    if draft.name == _question_name(item, 0):  # the name our exporter makes up for an item without one
        draft.name = ""
    item.warnings.extend(question.warnings)
    question.result.items.append(item)


def _category(question: _Question) -> tuple[str, str]:
    """The task and the category path that a category question sets.

    The path is kept without Moodle's context prefix (``$course$/top/``); the task is its last segment when
    that is a task code (``$course$/top/MLA-C01/1.2``). Our own exports' category carries no information of
    its own, so it is not kept as a category.
    """
    path = _inner_text(question.element.find("category")).strip()
    path = MOODLE_CONTEXT_RE.sub("", path)
    segments = [segment.strip() for segment in _CATEGORY_SPLIT_RE.split(path)]
    last = segments[-1] if segments else ""
    task = last if _TASK_RE.fullmatch(last) else ""
    ours = segments[0] == ROOT_CATEGORY and len(segments) <= 2 and (task or len(segments) == 1)
    return task, "" if ours else path[:500]


def _tags(element: ET.Element) -> list[str]:
    """The question's tag texts (``<tags><tag><text>...</text></tag></tags>``)."""
    tags = []
    for tag in element.findall("tags/tag"):
        text = _inner_text(tag).strip()
        if text:
            tags.append(text)
    return tags


def _split_tag(tag: str) -> tuple[str, str] | None:
    """``("objective", "1.2.3")`` for ``mla-objective:1.2.3``; None for tags that are not ours."""
    if not tag.lower().startswith(TAG_PREFIX) or ":" not in tag:
        return None
    key, _, value = tag[len(TAG_PREFIX) :].partition(":")
    return key.strip().lower(), value.strip()


def _description(question: _Question) -> None:
    element = question.element
    refs = [value for key, value in filter(None, map(_split_tag, _tags(element))) if key == "case-study" and value]
    if not refs:
        question.result.skip(
            question.where(), "a description carries no question (it is text shown between questions)."
        )
        return
    ref = refs[0][:40]
    if any(case.ref == ref for case in question.result.cases):
        question.warn(question.where(), f"case study {ref!r} appears twice; this second description is ignored.")
        return
    questiontext = element.find("questiontext")
    question.media = MediaSink(enabled=False)  # a case study's scenario carries no files: images stay placeholders
    scenario = question.text(questiontext, "html", question.where(questiontext, "questiontext"))
    title = question.name or ref
    question.scan_files()
    question.result.cases.append(Case(ref=ref, title=title, scenario=scenario, location=question.where()))


def _apply_tags(question: _Question, item: Item) -> None:
    """Read our ``mla-`` tags (and ``<idnumber>``) into the item's metadata; other tags are kept as they are."""
    meta: dict[str, Any] = {}
    location = question.where()
    for tag in _tags(question.element):
        parsed = _split_tag(tag)
        if parsed is None:
            if tag not in item.draft.tags:
                item.draft.tags.append(tag)
            continue
        key, value = parsed
        if key not in _KNOWN_TAGS:
            question.warn(location, f"unknown tag {_short(tag, 60)!r} ignored.")
            continue
        if key == "objective":
            meta.setdefault("objectives", []).append(value)
        elif key == "reference":
            meta.setdefault("references", []).append(value)
        elif key in {"angoff", "version", "case-order"}:
            number = _number(value, integer=key != "angoff")
            if number is None:
                question.warn(location, f"tag {_short(tag, 60)!r} does not hold a number; ignored.")
                continue
            meta[key.replace("-", "_")] = number
        else:
            meta[key] = value
    if meta:
        apply_meta(item, meta, question.result, location)
    idnumber_element = question.element.find("idnumber")
    idnumber = (idnumber_element.text or "").strip() if idnumber_element is not None else ""
    if idnumber:
        if len(idnumber) > 40:
            question.warn(location, f"the idnumber {_short(idnumber, 60)!r} is longer than 40 characters; cut.")
        item.ref = idnumber[:40]


def _number(value: str, *, integer: bool) -> float | int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


def _multichoice(question: _Question) -> QuestionDraft | None:
    element = question.element
    answers = element.findall("answer")
    if not answers:
        question.error(question.where(), "a multichoice question needs <answer> elements; this one has none.")
        return None
    single_element = element.find("single")
    # Moodle's own rule: no <single> means single; "false", "0" or empty means multiple answers allowed.
    single = single_element is None or (single_element.text or "").strip().lower() not in {"false", "0", ""}
    question_format = _question_format(element)
    draft = _draft(question, SINGLE if single else MULTIPLE, question_format)
    fractions: list[float] = []
    for number, answer in enumerate(answers, start=1):
        location = question.where(answer, f"answer[{number}]")
        fraction = _fraction(answer, question, location)
        feedback = answer.find("feedback")
        draft.choices.append(
            ChoiceDraft(
                text=question.text(answer, question_format, location),
                rationale=question.text(feedback, question_format, location),
            )
        )
        fractions.append(math.nan if fraction is None else fraction)
    if any(math.isnan(fraction) for fraction in fractions):
        return None
    positive = [fraction for fraction in fractions if fraction > 0]
    if not positive:
        question.error(
            question.where(),
            "no answer has a positive fraction, so the question has no correct option "
            '(give the correct answer fraction="100").',
        )
        return None
    if single:
        best = max(positive)
        for choice, fraction in zip(draft.choices, fractions, strict=True):
            choice.correct = fraction >= best - 1e-6
        partial = [f"{_percent(fraction)}%" for fraction in positive if fraction < best - 1e-6]
        if partial:
            question.warn(
                question.where(),
                f"answers worth {', '.join(partial)} count as wrong: partial credit replaced by all-or-nothing "
                "scoring.",
            )
    else:
        for choice, fraction in zip(draft.choices, fractions, strict=True):
            choice.correct = fraction > 0
        if max(positive) - min(positive) > 0.01:
            shares = ", ".join(f"{_percent(fraction)}%" for fraction in positive)
            question.warn(
                question.where(),
                f"the correct answers carry unequal fractions ({shares}): partial credit replaced by all-or-nothing "
                "scoring.",
            )
    return draft


def _draft(question: _Question, item_type: str, question_format: str) -> QuestionDraft:
    """The parts every type shares: stem from the question text, explanation from the general feedback."""
    element = question.element
    questiontext = element.find("questiontext")
    generalfeedback = element.find("generalfeedback")
    _combined_feedback_read(question)
    return QuestionDraft(
        type=item_type,
        stem=question.text(questiontext, "html", question.where(questiontext, "questiontext")),
        explanation=question.text(generalfeedback, question_format, question.where(generalfeedback, "generalfeedback")),
    )


# What Moodle fills in when the author writes nothing: no loss when it is dropped.
_TAG_STRIP_RE = re.compile(r"<[^>]*>")
_DEFAULT_COMBINED = {"", "your answer is correct.", "your answer is partially correct.", "your answer is incorrect."}


def _combined_feedback_read(question: _Question) -> None:
    """Moodle's feedback for a right, partly right and wrong response has no place here (an item has one
    explanation that every candidate reads, and options have rationales): warn once per item when any of it
    says more than Moodle's default sentence, naming which."""
    written = [
        label
        for tag, label in (
            ("correctfeedback", "correct"),
            ("partiallycorrectfeedback", "partially correct"),
            ("incorrectfeedback", "incorrect"),
        )
        if " ".join(_TAG_STRIP_RE.sub(" ", _inner_text(question.element.find(tag))).split()).lower()
        not in _DEFAULT_COMBINED
    ]
    if written:
        question.warn(
            question.where(),
            f"the feedback written for {_and(written)} responses is not imported: an item here has one "
            "explanation for every candidate and a rationale per option; move what matters there.",
        )


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _truefalse(question: _Question) -> QuestionDraft | None:
    element = question.element
    answers = element.findall("answer")
    if not answers:
        question.error(question.where(), "a true/false question needs its true and false <answer> elements.")
        return None
    question_format = _question_format(element)
    found: dict[str, tuple[float, str]] = {}
    for number, answer in enumerate(answers, start=1):
        location = question.where(answer, f"answer[{number}]")
        fraction = _fraction(answer, question, location)
        if fraction is None:
            return None
        word = _inner_text(answer).strip().lower()
        if word not in {"true", "false"}:
            # Moodle's importer reads an unlabelled pair as true first, then false.
            word = {1: "true", 2: "false"}.get(number, "")
            if not word:
                question.warn(location, "a true/false question has two answers; this extra one is ignored.")
                continue
            question.warn(location, f"the answer text is not 'true' or 'false'; read as {word!r} from its position.")
        feedback = answer.find("feedback")
        found[word] = (fraction, question.text(feedback, question_format, location))
    true_fraction, true_feedback = found.get("true", (0.0, ""))
    false_fraction, false_feedback = found.get("false", (0.0, ""))
    if true_fraction <= 0 and false_fraction <= 0:
        question.error(question.where(), "neither the true nor the false answer has a positive fraction.")
        return None
    key_is_true = true_fraction > 0 and true_fraction >= false_fraction
    draft = _draft(question, SINGLE, question_format)
    draft.choices = [
        ChoiceDraft("True", true_feedback, key_is_true),
        ChoiceDraft("False", false_feedback, not key_is_true),
    ]
    return draft


def _matching(question: _Question) -> QuestionDraft | None:
    element = question.element
    subquestions = element.findall("subquestion")
    if not subquestions:
        question.error(question.where(), "a matching question needs <subquestion> elements; this one has none.")
        return None
    question_format = _question_format(element)
    draft = _draft(question, MATCHING, question_format)
    for number, subquestion in enumerate(subquestions, start=1):
        location = question.where(subquestion, f"subquestion[{number}]")
        prompt = question.text(subquestion, question_format, location)
        answer = subquestion.find("answer")
        response = _inner_text(answer).strip()
        feedback = subquestion.find("feedback")
        rationale = question.text(feedback, question_format, location)
        if not prompt and not response:
            continue  # a blank row of Moodle's form: it carries nothing
        draft.pairs.append(PairDraft(prompt or None, response, rationale))
    if not any(pair.prompt for pair in draft.pairs):
        question.error(
            question.where(),
            "a matching question needs at least one subquestion with text; every subquestion here is empty.",
        )
        return None
    return draft


def _ordering(question: _Question) -> QuestionDraft | None:
    element = question.element
    answers = element.findall("answer")
    if not answers:
        question.error(question.where(), "an ordering question needs <answer> elements (the items to put in order).")
        return None
    question_format = _question_format(element)
    draft = _draft(question, ORDERING, question_format)
    for number, answer in enumerate(answers, start=1):
        location = question.where(answer, f"answer[{number}]")
        feedback = answer.find("feedback")
        draft.steps.append(
            StepDraft(
                question.text(answer, question_format, location),
                question.text(feedback, question_format, location),
            )
        )
    select_type = (element.findtext("selecttype") or "").strip().upper()
    count = _number((element.findtext("selectcount") or "").strip(), integer=True)
    if select_type in {"RANDOM", "REL", "CONTIGUOUS", "CONTIG"} and count and 0 < count < len(answers):
        question.warn(
            question.where(),
            f"Moodle shows only {count} of the {len(answers)} items to each student; here all of them are ordered.",
        )
    return draft


_READERS = {
    "multichoice": _multichoice,
    "truefalse": _truefalse,
    "matching": _matching,
    "match": _matching,
    "ordering": _ordering,
}


# --------------------------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Writer:
    """Builds the ``<quiz>`` tree and collects what could not be carried."""

    root: ET.Element = field(default_factory=lambda: ET.Element("quiz"))
    losses: list[Problem] = field(default_factory=list)
    label: str = ""
    media: dict[str, MediaFile] = field(default_factory=dict)  # the files of the item being written

    def clean(self, text: str) -> str:
        """Text safe for XML 1.0: characters XML cannot hold are removed, and the removal is reported."""
        text = text or ""
        cleaned = _XML_INVALID_RE.sub("", text)
        loss = Problem(self.label, "control characters that XML cannot hold were removed.")
        if cleaned != text and loss not in self.losses:
            self.losses.append(loss)
        return cleaned


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _text_element(writer: _Writer, parent: ET.Element, tag: str, text: str, text_format: str = "markdown") -> None:
    holder = _sub(parent, tag, format=text_format) if text_format else _sub(parent, tag)
    _write_text(writer, holder, text)


def _write_text(writer: _Writer, holder: ET.Element, text: str) -> None:
    """``<text>`` and, as Moodle writes them, a base64 ``<file>`` for each image or audio file the text uses,
    referred to as ``@@PLUGINFILE@@/<name>``."""
    text = writer.clean(text)
    files: list[tuple[str, MediaFile]] = []
    for key, media in writer.media.items():
        if f"media:{key}" in text:
            name = key.rsplit("/", 1)[-1]
            text = text.replace(f"media:{key}", f"@@PLUGINFILE@@/{quote(name)}")
            files.append((name, media))
    _sub(holder, "text", text)
    for name, media in files:
        encoded = base64.b64encode(media.data).decode("ascii")
        _sub(holder, "file", encoded, name=name, path="/", encoding="base64")


def export(items: list[Item], cases: list[Case]) -> ExportResult:
    """Write items and case studies as a Moodle XML quiz file (see the module docstring for the mapping)."""
    writer = _Writer()
    case_by_ref = {case.ref: case for case in cases}
    written_cases: set[str] = set()
    idnumbers: set[tuple[str, str]] = set()
    current_category: str | None = None
    for index, item in enumerate(items, start=1):
        writer.label = f"item {item.ref or index}"
        if item.draft.type not in TYPES:
            writer.losses.append(Problem(writer.label, f"type {item.draft.type!r} cannot be written; item left out."))
            continue
        task = item.draft.task or ""
        category = _category_path(item.draft)
        if category != current_category:
            _write_category(writer, category)
        current_category = category
        case = case_by_ref.get(item.case_ref)
        if case is not None and case.ref not in written_cases:
            _write_case(writer, case)
            written_cases.add(case.ref)
        writer.label = f"item {item.ref or index}"
        writer.media = item.media
        _write_item(writer, item, index, idnumbers, task)
        writer.media = {}
    for case in cases:
        if case.ref not in written_cases:
            _write_case(writer, case)
            written_cases.add(case.ref)
    ET.indent(writer.root, space="  ")
    body = ET.tostring(writer.root, encoding="utf-8", xml_declaration=False)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
    return ExportResult(data=data, filename=FILENAME, content_type=CONTENT_TYPE, losses=writer.losses)


def _category_path(draft: QuestionDraft) -> str:
    """The item's category from its source bank when it has one, else ours: ``$course$/top/MLA-C01/<task>``."""
    if draft.category:
        return f"{COURSE_CONTEXT}/{draft.category}"
    return f"{COURSE_CATEGORY}/{draft.task}" if draft.task else COURSE_CATEGORY


def _write_category(writer: _Writer, path: str) -> None:
    question = _sub(writer.root, "question", type="category")
    _sub(_sub(question, "category"), "text", writer.clean(path))
    _text_element(writer, question, "info", "", "moodle_auto_format")
    _sub(question, "idnumber", "")


def _write_case(writer: _Writer, case: Case) -> None:
    writer.label = f"case study {case.ref}"
    question = _sub(writer.root, "question", type="description")
    _sub(_sub(question, "name"), "text", writer.clean(case.title or case.ref))
    _text_element(writer, question, "questiontext", case.scenario)
    _text_element(writer, question, "generalfeedback", "")
    _sub(question, "defaultgrade", "0")
    _sub(question, "penalty", "0")
    _sub(question, "hidden", "0")
    _sub(question, "idnumber", "")
    _write_tags(writer, question, [f"{TAG_PREFIX}case-study:{case.ref}"])


def _question_name(item: Item, index: int) -> str:
    """Moodle needs a name: the ref (when there is one) and the start of the stem, as a bank list shows it."""
    first_line = next((line.strip() for line in item.draft.stem.splitlines() if line.strip()), "")
    name = _short(f"{item.ref} {first_line}".strip(), 100)
    return name or f"Question {index}"


def _write_item(writer: _Writer, item: Item, index: int, idnumbers: set[tuple[str, str]], task: str) -> None:
    draft = item.draft
    moodle_type = {SINGLE: "multichoice", MULTIPLE: "multichoice", ORDERING: "ordering", MATCHING: "matching"}
    question = _sub(writer.root, "question", type=moodle_type[draft.type])
    _sub(_sub(question, "name"), "text", writer.clean(draft.name or _question_name(item, index)))
    _text_element(writer, question, "questiontext", draft.stem)
    _text_element(writer, question, "generalfeedback", draft.explanation)
    _sub(question, "defaultgrade", "1")
    _sub(question, "penalty", "0.3333333")
    _sub(question, "hidden", "0")
    # Moodle refuses two questions with one idnumber in a category; a repeated ref then travels as a tag.
    ref_in_tag = bool(item.ref) and (task, item.ref) in idnumbers
    _sub(question, "idnumber", "" if ref_in_tag else writer.clean(item.ref))
    if item.ref and not ref_in_tag:
        idnumbers.add((task, item.ref))
    if draft.type in {SINGLE, MULTIPLE}:
        _write_choices(writer, question, draft)
    elif draft.type == ORDERING:
        _write_steps(writer, question, draft)
    else:
        _write_pairs(writer, question, draft)
    _write_tags(writer, question, [*item.draft.tags, *_meta_tags(item, ref_in_tag)])


def _combined_feedback(writer: _Writer, question: ET.Element) -> None:
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text_element(writer, question, tag, "")


def _write_choices(writer: _Writer, question: ET.Element, draft: QuestionDraft) -> None:
    keys = sum(1 for choice in draft.choices if choice.correct)
    single = draft.type == SINGLE
    _sub(question, "single", "true" if single else "false")
    _sub(question, "shuffleanswers", "true")
    _sub(question, "answernumbering", "abc")
    _sub(question, "showstandardinstruction", "0")
    _combined_feedback(writer, question)
    if keys == 0:
        writer.losses.append(Problem(writer.label, "no option is marked correct; Moodle will refuse the question."))
    if single:
        key_fraction, wrong_fraction = "100", "0"
    else:
        key_fraction = _KEY_FRACTIONS.get(keys) or f"{100 / max(keys, 1):.5f}"
        wrong_fraction = "-100"
        if keys and keys not in _KEY_FRACTIONS:
            writer.losses.append(
                Problem(writer.label, f"{keys} keys give {key_fraction}% each, which is not in Moodle's grade list.")
            )
    for choice in draft.choices:
        answer = _sub(
            question, "answer", fraction=key_fraction if choice.correct else wrong_fraction, format="markdown"
        )
        _write_text(writer, answer, choice.text)
        _text_element(writer, answer, "feedback", choice.rationale)


def _write_steps(writer: _Writer, question: ET.Element, draft: QuestionDraft) -> None:
    _sub(question, "layouttype", "VERTICAL")
    _sub(question, "selecttype", "ALL")
    _sub(question, "selectcount", str(len(draft.steps)))
    _sub(question, "gradingtype", "ALL_OR_NOTHING")
    _sub(question, "showgrading", "SHOW")
    _sub(question, "numberingstyle", "none")
    _combined_feedback(writer, question)
    for position, step in enumerate(draft.steps, start=1):
        answer = _sub(question, "answer", fraction=str(position), format="markdown")
        _write_text(writer, answer, step.text)
        if step.rationale:
            _text_element(writer, answer, "feedback", step.rationale)


def _write_pairs(writer: _Writer, question: ET.Element, draft: QuestionDraft) -> None:
    _sub(question, "shuffleanswers", "true")
    _combined_feedback(writer, question)
    for pair in draft.pairs:
        subquestion = _sub(question, "subquestion", format="markdown")
        _write_text(writer, subquestion, pair.prompt or "")
        _write_text(writer, _sub(subquestion, "answer"), pair.response)
        if pair.rationale:
            _text_element(writer, subquestion, "feedback", pair.rationale)
    if any(pair.rationale for pair in draft.pairs):
        writer.losses.append(
            Problem(
                writer.label,
                "Moodle has no feedback per matching pair: the pair rationales are kept in a <feedback> element "
                "that this platform reads back but Moodle ignores, so they will not show in Moodle.",
            )
        )


def _meta_tags(item: Item, ref_in_tag: bool) -> list[str]:
    """Our metadata as ``mla-`` tags, in a stable order (see the module docstring)."""
    meta = item_meta(item)
    tags: list[str] = []
    if "task" in meta:
        tags.append(f"{TAG_PREFIX}task:{meta['task']}")
    tags += [f"{TAG_PREFIX}objective:{code}" for code in meta.get("objectives", [])]
    if "difficulty" in meta:
        tags.append(f"{TAG_PREFIX}difficulty:{meta['difficulty']}")
    if "angoff" in meta:
        tags.append(f"{TAG_PREFIX}angoff:{float(meta['angoff'])!r}")
    if "concept" in meta:
        tags.append(f"{TAG_PREFIX}concept:{meta['concept']}")
    if "version" in meta:
        tags.append(f"{TAG_PREFIX}version:{meta['version']}")
    if "case" in meta:
        tags.append(f"{TAG_PREFIX}case:{meta['case']}")
    if "case_order" in meta:
        tags.append(f"{TAG_PREFIX}case-order:{meta['case_order']}")
    tags += [f"{TAG_PREFIX}reference:{url}" for url in meta.get("references", [])]
    if ref_in_tag:
        tags.append(f"{TAG_PREFIX}ref:{item.ref}")
    return tags


def _write_tags(writer: _Writer, question: ET.Element, tags: list[str]) -> None:
    if not tags:
        return
    holder = _sub(question, "tags")
    for tag in tags:
        _sub(_sub(holder, "tag"), "text", writer.clean(tag))
