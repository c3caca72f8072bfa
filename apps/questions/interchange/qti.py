"""IMS QTI 2.1 / 2.2: assessment items as written by TAO and other QTI tools, read and written.

Input is either one ``assessmentItem`` XML file or a ZIP content package (``imsmanifest.xml`` listing
resources of type ``imsqti_item_xmlv2p1``/``imsqti_item_xmlv2p2`` plus the item files). Item namespaces
``http://www.imsglobal.org/xsd/imsqti_v2p1``, ``..._v2p2`` and no namespace are read; QTI 3.0 is refused with
a clear error. A package without a manifest is read file by file (every ``*.xml`` whose root is
``assessmentItem``), with a warning.

How QTI maps to our four item types:

- ``choiceInteraction``: ``maxChoices="1"`` is a single-answer item, any other value (``0`` = unlimited) a
  multiple-response item (without ``maxChoices`` the declaration's cardinality decides). Keys are the
  ``correctResponse`` values; without one, the ``mapping`` entries with a positive ``mappedValue`` (a mapping
  whose non-zero values differ is partial credit, replaced by all-or-nothing scoring, with a warning).
  True/false items are simply choice items with two options.
- ``orderInteraction``: an ordering item whose steps follow the ``correctResponse`` (ordered) values.
- ``matchInteraction``: a matching item. The first ``simpleMatchSet`` holds the prompts, the second the
  responses; each ``directedPair`` "P R" is a pair. A response no pair uses becomes a response that matches
  nothing (``PairDraft(prompt=None)``). A prompt with no correct pair is left out with a WARNING rather than an
  error: our prompts always have an answer, and one unmatched distractor prompt should not block the whole file
  (the item still goes to an instructor as a draft). A prompt with several correct responses makes the item
  skipped, because our matching gives each prompt exactly one response.
- ``associateInteraction``: a matching item too. QTI ``pair`` values are unordered, so we take the FIRST
  identifier of each correct pair as the prompt and the SECOND as the response; choices in no pair are
  responses that match nothing. A choice that is a prompt in one pair and a response in another, or a prompt
  with two responses, makes the item skipped.

The stem is the ``itemBody`` outside the interaction with the interaction's ``<prompt>`` in its place. A
choice's rationale is any ``feedbackInline``/``feedbackBlock`` inside it, or a ``modalFeedback`` (or feedback
element elsewhere in the body) whose ``identifier`` is that choice's identifier; ordering steps and matching
prompts get theirs the same way. Every other ``modalFeedback`` (EXPLANATION, GENERAL, CORRECT, ...) becomes the
explanation. XHTML goes through ``html_to_markdown``; an ``img`` or an audio ``object`` whose file is in the package
(relative to the item file) becomes one of the item's media files; one whose file is missing, or any other
``object`` (video), is reported and the text keeps a placeholder.
``responseProcessing`` is not interpreted (keys come from the declaration), so custom processing never fails.

Skipped, with reasons: text entry, essays, inline choice, gap match, hot text, hotspot and other graphic
interactions, sliders, uploads, drawing, media, custom/portable custom interactions, templated items, items
with no interaction or more than one. The item ``identifier`` becomes the ref (cut to 40 characters with a
warning), unless our own metadata says otherwise.

Export writes ``questions-qti22.zip``: an IMS CP 1.1 ``imsmanifest.xml`` and one QTI 2.2 ``assessmentItem`` per
item under ``items/``. Text is rendered with ``markdown_to_html`` and rebuilt as well-formed XHTML elements.
Single/multiple items are ``choiceInteraction`` (``maxChoices`` 1 / 0), ordering items ``orderInteraction``,
matching items ``matchInteraction`` (unused responses are extra targets; ``matchMax`` lets a shared response
take every prompt that uses it). Per-choice, per-step and per-prompt rationales are ``feedbackInline``
(``feedbackBlock`` when they need paragraphs) inside the choice; the explanation is ``modalFeedback
identifier="EXPLANATION"``. Images and audio are written as ``media/<name>`` files listed in the item's resource,
images as ``img`` and audio as ``object type="audio/..."``. Scoring uses the ``match_correct`` template (the
``http://www.imsglobal.org/question/qti_v2p2/rptemplates/`` URL that TAO and other tools recognise). Our
metadata (``base.item_meta``: ref, version, task, objectives, difficulty, angoff, references, case, case order)
travels in each item resource's ``<metadata>`` as an ``mla:meta`` element in the ``urn:mla-practice:meta``
namespace, which other tools ignore. Case studies are ``webcontent`` resources (``cases/<ref>.html``) with an
``mla:caseStudy`` record (ref, title); items also list their case as a CP ``dependency`` (other QTI tools show
items without the scenario). When our metadata is present the importer takes the ref from it, not from the
identifier. Losses: unused matching responses move after the matched pairs; the item family has no place.

Safety: encrypted entries, more than 5000 entries, and any entry that pushes the total read past 50 MB or
expands to more than 100 times its compressed size (counted while reading, never trusting the header; entries
under 64 KB are exempt from the ratio) are refused; nothing is extracted to disk. XML is parsed with defusedxml
and DTDs are refused. Every step is linear in the input, and a hostile item reports its first 20 problems only.
"""

from __future__ import annotations

import html
import io
import math
import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import unquote
from xml.etree import ElementTree as ET
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from apps.core.markdown import ITEM_MEDIA_URL, markdown_inline_to_html, markdown_to_html
from apps.questions.interchange.base import (
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
    is_audio,
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

FORMAT = "qti"

QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
XINCLUDE = "http://www.w3.org/2001/XInclude"
QTI22 = "http://www.imsglobal.org/xsd/imsqti_v2p2"
QTI_NAMESPACES = (QTI21, QTI22, "")
QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI3_MESSAGE = "QTI 3.0 is not supported; export QTI 2.1 or 2.2"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
MLA = "urn:mla-practice:meta"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XHTML = "http://www.w3.org/1999/xhtml"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
QTI22_SCHEMA = "http://www.imsglobal.org/xsd/imsqti_v2p2 http://www.imsglobal.org/xsd/qti/qtiv2p2/imsqti_v2p2.xsd"
CP_SCHEMA = "http://www.imsglobal.org/xsd/imscp_v1p1 http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"
ITEM_RESOURCE = "imsqti_item_xmlv2p2"
EXPORT_NAME = "questions-qti22.zip"

MAX_ENTRIES = 5000
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
# Tiny entries compress unpredictably (3 KB of spaces deflates to 20 bytes), so the ratio only bites above this.
RATIO_FLOOR = 64 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

_FEEDBACK = frozenset({"feedbackInline", "feedbackBlock"})
_CHOICES = frozenset({"simpleChoice", "simpleAssociableChoice"})
_NOT_CONTENT = _FEEDBACK | {"endAttemptInteraction", "printedVariable", "templateInline", "templateBlock"}
_VOID = frozenset({"br", "hr", "img", "col"})
# Hostile files can hold thousands of broken choices: report the first problems of an item, not all of them.
MAX_ITEM_PROBLEMS = 20
MAX_FILE_ERRORS = 200
_PATH_DEPTH = 16

_IMAGE_ONLY = "it is answered on an image, and images are not imported"
_HUMAN = "they need a human marker"
_UNSUPPORTED = {
    "textEntryInteraction": "text-entry (fill-in-the-blank) questions are not supported: candidates type the answer",
    "extendedTextInteraction": f"essay (extended text) questions are not supported: {_HUMAN}",
    "inlineChoiceInteraction": "inline-choice (drop-down in the text) questions are not supported",
    "gapMatchInteraction": "gap-match (drag words into gaps) questions are not supported",
    "hottextInteraction": "hot-text (select words in a passage) questions are not supported",
    "hotspotInteraction": f"hotspot questions are not supported: {_IMAGE_ONLY}",
    "graphicOrderInteraction": f"graphic ordering questions are not supported: {_IMAGE_ONLY}",
    "graphicAssociateInteraction": f"graphic association questions are not supported: {_IMAGE_ONLY}",
    "graphicGapMatchInteraction": f"graphic gap-match questions are not supported: {_IMAGE_ONLY}",
    "selectPointInteraction": f"select-point questions are not supported: {_IMAGE_ONLY}",
    "positionObjectInteraction": f"position-object questions are not supported: {_IMAGE_ONLY}",
    "sliderInteraction": "slider (numeric value) questions are not supported",
    "uploadInteraction": f"file-upload questions are not supported: {_HUMAN}",
    "drawingInteraction": f"drawing questions are not supported: {_HUMAN}",
    "mediaInteraction": "media questions are not supported: audio and video files are not imported",
    "customInteraction": "custom interactions are not supported: they run tool-specific code",
    "portableCustomInteraction": "portable custom interactions (PCI) are not supported: they run tool-specific code",
}


# --------------------------------------------------------------------------------------------------- XML reading


def _local(tag: object) -> str:
    """The local name of an element tag ('' for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(tag: object) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _shorten(text: str, size: int = 80) -> str:
    """Identifiers and titles as they appear in locations: long ones are cut."""
    return text if len(text) <= size else text[: size - 1] + "…"


def _kids(element: ET.Element, name: str) -> list[ET.Element]:
    """Direct children by local name: QTI files use the 2.1, the 2.2 or no namespace, and we accept all three."""
    return [child for child in element if _local(child.tag) == name]


def _kid(element: ET.Element, name: str) -> ET.Element | None:
    found = _kids(element, name)
    return found[0] if found else None


class _XmlError(Exception):
    """An XML file that could not be parsed, with the line (and column) where the parser stopped."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def where(self, file: str) -> str:
        if not self.line:
            return file
        return f"{file}: line {self.line}" + (f", column {self.column}" if self.column else "")


class _LineTreeBuilder(ET.TreeBuilder):
    """A tree builder that remembers the line each element starts on, so problems can name it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[ET.Element, int] = {}
        self.expat: object | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        line = getattr(self.expat, "CurrentLineNumber", 0)
        if line:
            self.lines[element] = line
        return element


class _Doc:
    """A parsed XML file with what problem locations need: its name, element lines and element paths."""

    def __init__(self, file: str, root: ET.Element, lines: dict[ET.Element, int]) -> None:
        self.file = file
        self.root = root
        self.lines = lines
        self.identifier: str | None = None
        self._parents: dict[ET.Element, ET.Element] = {}
        self._positions: dict[ET.Element, int] = {}
        self._indexed = False

    def _index(self) -> None:
        """Parents and same-name sibling positions in one pass, so a path costs its depth, not its siblings."""
        for parent in self.root.iter():
            counts = Counter(child.tag for child in parent)
            seen: Counter[object] = Counter()
            for child in parent:
                self._parents[child] = parent
                if counts[child.tag] > 1:
                    seen[child.tag] += 1
                    self._positions[child] = seen[child.tag]
        self._indexed = True

    def parent(self, element: ET.Element) -> ET.Element | None:
        if not self._indexed:
            self._index()
        return self._parents.get(element)

    def path(self, element: ET.Element) -> str:
        """``assessmentItem[@identifier='X']/itemBody/choiceInteraction/simpleChoice[2]``: indexes only where
        siblings share a name, as in XPath."""
        parts: list[str] = []
        node: ET.Element | None = element
        while node is not None:
            parent = self.parent(node)
            name = _local(node.tag)
            if parent is None and self.identifier:
                name += f"[@identifier='{_shorten(self.identifier)}']"
            elif node in self._positions:
                name += f"[{self._positions[node]}]"
            parts.append(name)
            node = parent
        if len(parts) > _PATH_DEPTH:
            parts = [*parts[: _PATH_DEPTH - 2], "…", parts[-1]]
        return "/".join(reversed(parts))

    def loc(self, element: ET.Element) -> str:
        line = self.lines.get(element)
        return f"{self.file}: {self.path(element)}" + (f" (line {line})" if line else "")


def _parse_xml(data: bytes, file: str) -> _Doc:
    """Parse bytes with defusedxml (DTDs refused), keeping element lines; every failure becomes ``_XmlError``."""
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.expat = parser.parser

    def line() -> int:
        return getattr(parser.parser, "CurrentLineNumber", 0) or 1

    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        row, column = getattr(exc, "position", (0, 0))
        reason = expat.ErrorString(exc.code) if isinstance(getattr(exc, "code", None), int) else str(exc)
        raise _XmlError(f"not well-formed XML ({reason}).", row, column + 1) from None
    except DTDForbidden:
        raise _XmlError(
            "the file has a DOCTYPE (DTD), which is refused: QTI files do not need one, and DTDs can carry "
            "entity bombs or external-entity (XXE) reads.",
            line(),
        ) from None
    except EntitiesForbidden:
        raise _XmlError("entity declarations are refused.", line()) from None
    except ExternalReferenceForbidden:
        raise _XmlError("external entity references are refused.", line()) from None
    except (ValueError, UnicodeError, LookupError, RecursionError, TypeError) as exc:
        raise _XmlError(f"not readable as XML: {exc}") from None
    if not isinstance(root, ET.Element):
        raise _XmlError("the file has no root element.")
    return _Doc(file, root, builder.lines)


def _load_xml(data: bytes, file: str, result: ParseResult) -> _Doc | None:
    try:
        return _parse_xml(data, file)
    except _XmlError as exc:
        result.error(exc.where(file), exc.message)
        return None


# ----------------------------------------------------------------------------------------------- XHTML to Markdown


def _attribute(name: str, value: str) -> str:
    return f' {name}="{html.escape(value, quote=True)}"'


def _join(*texts: str) -> str:
    """Feedback texts joined as paragraphs, without repeating one already there."""
    out: list[str] = []
    for raw in texts:
        text = (raw or "").strip()
        if text and text not in out:
            out.append(text)
    return "\n\n".join(out)


class _ItemReader:
    """Reads one assessmentItem into an ``Item``; reports problems at element locations as it goes."""

    def __init__(self, doc: _Doc, result: ParseResult, where: str, archive: _Archive | None = None) -> None:
        self.doc = doc
        self.result = result
        self.where = where
        self.failed = False
        self.archive = archive
        self.files = MediaSink(self.package_file)  # images and audio found in the package
        self.images: list[str] = []
        self.media: list[str] = []
        self.notes: set[str] = set()
        self.reported = 0

    def package_file(self, source: str) -> tuple[str, bytes] | None:
        """The package entry an ``img src`` or ``object data`` names, relative to the item file."""
        if self.archive is None:
            return None
        key = _resolve(posixpath.dirname(self.doc.file), source)
        if key is None or key not in self.archive.entries:
            return None
        data = self.archive.read(key)
        return None if data is None else (posixpath.basename(key), data)

    # -- reporting
    def report(self, kind: str, where: ET.Element | str, message: str) -> None:
        """Add an error or warning, up to MAX_ITEM_PROBLEMS per item (locations are only built for those)."""
        self.reported += 1
        if self.reported <= MAX_ITEM_PROBLEMS:
            location = where if isinstance(where, str) else self.doc.loc(where)
            (self.result.error if kind == "error" else self.result.warn)(location, message)
        elif self.reported == MAX_ITEM_PROBLEMS + 1:
            self.result.warn(self.where, f"more than {MAX_ITEM_PROBLEMS} problems; the rest are not listed.")

    def error(self, element: ET.Element, message: str) -> None:
        self.report("error", element, message)
        self.failed = True

    def warn(self, where: ET.Element | str, message: str) -> None:
        self.report("warn", where, message)

    def skip(self, message: str) -> None:
        self.result.skip(self.where, message)
        self.failed = True

    def note(self, message: str) -> None:
        """A warning given once per item (e.g. for every MathML formula)."""
        if message not in self.notes:
            self.notes.add(message)
            self.warn(self.where, message)

    # -- XHTML
    def markup(self, element: ET.Element, swap: dict[ET.Element, str] | None = None) -> str:
        """The HTML of an element's content, with QTI-only elements (feedback, hidden variables) left out."""
        out: list[str] = []
        self._content(element, out, swap or {})
        return "".join(out)

    def _content(self, element: ET.Element, out: list[str], swap: dict[ET.Element, str]) -> None:
        if element.text:
            out.append(html.escape(element.text, quote=False))
        for child in element:
            self._node(child, out, swap)
            if child.tail:
                out.append(html.escape(child.tail, quote=False))

    def _node(self, child: ET.Element, out: list[str], swap: dict[ET.Element, str]) -> None:
        name = _local(child.tag)
        if child in swap:
            out.append(swap[child])
        elif not name or name in _NOT_CONTENT:
            return
        elif name == "rubricBlock":
            self.note("a rubricBlock (scorer or tutor guidance) is not imported.")
        elif name == "object":
            self._object(child, out)
        elif name == "math":
            self.note("MathML formulas are imported as plain text.")
            out.append(html.escape(" ".join("".join(child.itertext()).split()), quote=False))
        else:
            attributes = ""
            if name == "a" and child.get("href"):
                attributes = _attribute("href", child.get("href", ""))
            elif name == "img":
                attributes = _attribute("src", child.get("src", "")) + _attribute("alt", child.get("alt", ""))
            out.append(f"<{name}{attributes}>")
            if name not in _VOID:
                self._content(child, out, swap)
                out.append(f"</{name}>")

    def _object(self, element: ET.Element, out: list[str]) -> None:
        source = element.get("data", "") or "object"
        kind = element.get("type") or ("audio/" if is_audio(source) else "image/")
        label = " ".join("".join(element.itertext()).split())
        if kind.startswith("image/"):
            out.append(f"<img{_attribute('src', source)}{_attribute('alt', label)}>")
        elif kind.startswith("audio/"):
            out.append(f"<audio{_attribute('src', source)}{_attribute('title', label)}></audio>")
        else:
            self.media.append(source)
            out.append(html.escape(f"[media not imported: {source}]", quote=False))

    def markdown(self, element: ET.Element, swap: dict[ET.Element, str] | None = None) -> str:
        text, images = html_to_markdown(self.markup(element, swap), self.files)
        self.images.extend(images)
        return text

    def inner_feedback(self, choice: ET.Element) -> str:
        """The feedbackInline/feedbackBlock elements inside a choice: its rationale."""
        found = [e for e in choice.iter() if e is not choice and _local(e.tag) in _FEEDBACK]
        return _join(*(self.markdown(e) for e in found if not self._inside(e, _FEEDBACK, stop=choice)))

    def _inside(self, element: ET.Element, names: frozenset[str], stop: ET.Element | None = None) -> bool:
        node = self.doc.parent(element)
        while node is not None and node is not stop:
            if _local(node.tag) in names:
                return True
            node = self.doc.parent(node)
        return False

    # -- the item
    def read(self) -> QuestionDraft | None:
        root = self.doc.root
        if _kid(root, "templateDeclaration") is not None or _kid(root, "templateProcessing") is not None:
            self.skip(
                "templated items (templateDeclaration/templateProcessing) are not supported: they generate "
                "different values for every attempt."
            )
            return None
        body = _kid(root, "itemBody")
        if body is None:
            self.error(root, "the item has no itemBody, so there is no question to read.")
            return None
        interactions = [
            e for e in body.iter() if _local(e.tag).endswith("Interaction") and _local(e.tag) != "endAttemptInteraction"
        ]
        if not interactions:
            self.skip("the item has no interaction, so there is nothing to answer.")
            return None
        if len(interactions) > 1:
            names = ", ".join(_local(e.tag) for e in interactions[:6])
            self.skip(f"the item has {len(interactions)} interactions ({names}); our questions have exactly one.")
            return None
        interaction = interactions[0]
        kind = _local(interaction.tag)
        if kind in _UNSUPPORTED:
            self.skip(_UNSUPPORTED[kind] + ".")
            return None
        reader = _READERS.get(kind)
        if reader is None:
            self.skip(f"{kind} is not a QTI 2.1/2.2 interaction we can import.")
            return None
        declaration = self.declaration(interaction)
        if declaration is None:
            return None
        built = reader(self, interaction, declaration)
        if built is None or self.failed:
            return None
        draft, parts = built
        draft.stem = self.stem(body, interaction)
        draft.explanation = self.feedback(body, parts)
        self.report_files()
        return None if self.failed else draft

    def declaration(self, interaction: ET.Element) -> ET.Element | None:
        identifier = (interaction.get("responseIdentifier") or "").strip()
        for declaration in _kids(self.doc.root, "responseDeclaration"):
            if (declaration.get("identifier") or "").strip() == identifier:
                return declaration
        self.error(interaction, f"responseIdentifier {identifier!r} has no responseDeclaration with that identifier.")
        return None

    def stem(self, body: ET.Element, interaction: ET.Element) -> str:
        """The body outside the interaction, with the interaction's prompt where the interaction stood."""
        prompt = _kid(interaction, "prompt")
        swap = {interaction: f"<p>{self.markup(prompt)}</p>" if prompt is not None else ""}
        return self.markdown(body, swap)

    def feedback(self, body: ET.Element, parts: dict[str, ChoiceDraft | StepDraft | PairDraft]) -> str:
        """Give feedback named after a choice to that choice; everything else is the explanation."""
        loose = [e for e in body.iter() if _local(e.tag) in _FEEDBACK and not self._inside(e, _CHOICES | _FEEDBACK)]
        explanation: list[str] = []
        for element in [*loose, *_kids(self.doc.root, "modalFeedback")]:
            text = self.markdown(element)
            part = parts.get((element.get("identifier") or "").strip())
            if part is not None:
                part.rationale = _join(part.rationale, text)
            else:
                explanation.append(text)
        return _join(*explanation)

    def report_files(self) -> None:
        where = "the package" if self.archive is not None else "the upload (a single item file carries no files)"
        for source in dict.fromkeys(self.images):
            label = source or "(no source)"
            kind = "audio" if is_audio(label) else "image"
            self.warn(self.where, f"{kind} {label} is not imported: it is not in {where}.")
        for source in dict.fromkeys(self.media):
            self.warn(self.where, f"media file {source} is not imported: items carry only images and audio.")
        for problem in self.files.problems:
            self.warn(self.where, problem)

    # -- keys
    def identifiers(self, choices: list[ET.Element]) -> dict[str, ET.Element]:
        found: dict[str, ET.Element] = {}
        for choice in choices:
            identifier = (choice.get("identifier") or "").strip()
            if not identifier:
                self.error(choice, f"the {_local(choice.tag)} has no identifier.")
            elif identifier in found:
                self.error(choice, f"identifier {identifier!r} is used by another choice too.")
            else:
                found[identifier] = choice
        return found

    def keys(self, declaration: ET.Element, *, mapping_allowed: bool = True) -> list[tuple[str, ET.Element]] | None:
        """The correct values (with their elements): correctResponse, else positive mapping entries."""
        correct = _kid(declaration, "correctResponse")
        mapping = _kid(declaration, "mapping")
        if mapping is not None:
            self.check_partial_credit(mapping)
        if correct is not None:
            values = [((v.text or "").strip(), v) for v in _kids(correct, "value")]
            values = [(text, element) for text, element in values if text]
            if values:
                return values
        if mapping is not None and mapping_allowed:
            positive = [
                ((entry.get("mapKey") or "").strip(), entry)
                for entry in _kids(mapping, "mapEntry")
                if _number(entry.get("mappedValue")) > 0
            ]
            if positive:
                return positive
        how = "correctResponse" + ("" if not mapping_allowed else " and no mapEntry with a positive mappedValue")
        self.error(declaration, f"no correct answer: the responseDeclaration has no {how}.")
        return None

    def check_partial_credit(self, mapping: ET.Element) -> None:
        values = {_number(entry.get("mappedValue")) for entry in _kids(mapping, "mapEntry")}
        if len(values - {0.0}) > 1:
            self.warn(self.where, "partial credit replaced by all-or-nothing scoring.")

    def unknown(self, element: ET.Element, identifier: str, known: dict[str, ET.Element], value: str = "") -> None:
        """A key naming a choice that is not there: the element is the correctResponse value or mapEntry."""
        where = "the correctResponse" if _local(element.tag) == "value" else "the mapping"
        what = f"{where} pair {value!r}" if value and value != identifier else where
        listed = ", ".join(list(known)[:12])
        self.error(element, f"{what} names choice {identifier!r}, which does not exist (choices: {listed}).")

    def pairs(self, values: list[tuple[str, ET.Element]]) -> list[tuple[str, str, ET.Element]]:
        found: dict[tuple[str, str], ET.Element] = {}
        for value, element in values:
            tokens = value.split()
            if len(tokens) != 2:
                self.error(element, f"{value!r} is not a pair of two choice identifiers.")
            else:
                found.setdefault((tokens[0], tokens[1]), element)
        return [(first, second, element) for (first, second), element in found.items()]


def _number(value: str | None) -> float:
    try:
        number = float(value or "0")
    except ValueError:
        return 0.0
    return 0.0 if math.isnan(number) else number


Parts = dict[str, ChoiceDraft | StepDraft | PairDraft]
Built = tuple[QuestionDraft, Parts] | None


def _read_choice(reader: _ItemReader, interaction: ET.Element, declaration: ET.Element) -> Built:
    choices = reader.identifiers(_kids(interaction, "simpleChoice"))
    if not _kids(interaction, "simpleChoice"):
        reader.error(interaction, "the choiceInteraction has no simpleChoice, so the question has no options.")
        return None
    kind = _choice_kind(reader, interaction, declaration)
    keys = reader.keys(declaration)
    if keys is None or kind is None:
        return None
    key_ids: dict[str, None] = {}
    for value, element in keys:
        if value not in choices:
            reader.unknown(element, value, choices)
        else:
            key_ids[value] = None
    if reader.failed:
        return None
    if kind == SINGLE and len(key_ids) > 1:
        reader.warn(reader.where, f"maxChoices is 1 but {len(key_ids)} choices are marked correct.")
    draft = QuestionDraft(type=kind, stem="")
    parts: Parts = {}
    for identifier, element in choices.items():
        choice = ChoiceDraft(reader.markdown(element), reader.inner_feedback(element), identifier in key_ids)
        draft.choices.append(choice)
        parts[identifier] = choice
    return draft, parts


def _choice_kind(reader: _ItemReader, interaction: ET.Element, declaration: ET.Element) -> str | None:
    raw = interaction.get("maxChoices")
    if raw is None:
        return MULTIPLE if (declaration.get("cardinality") or "").strip() == "multiple" else SINGLE
    if not re.fullmatch(r"\s*\d{1,6}\s*", raw):
        reader.error(interaction, f"maxChoices {raw!r} is not a whole number of 0 or more.")
        return None
    return SINGLE if int(raw) == 1 else MULTIPLE


def _read_order(reader: _ItemReader, interaction: ET.Element, declaration: ET.Element) -> Built:
    if not _kids(interaction, "simpleChoice"):
        reader.error(interaction, "the orderInteraction has no simpleChoice, so there are no steps to order.")
        return None
    choices = reader.identifiers(_kids(interaction, "simpleChoice"))
    keys = reader.keys(declaration, mapping_allowed=False)
    if keys is None:
        return None
    order: dict[str, None] = {}
    for value, element in keys:
        if value not in choices:
            reader.unknown(element, value, choices)
        elif value in order:
            reader.error(element, f"choice {value!r} appears twice in the correct order.")
        else:
            order[value] = None
    if reader.failed:
        return None
    if len(order) < len(choices):
        reader.skip(
            f"the correct order uses {len(order)} of the {len(choices)} choices (select-and-order); our ordering "
            "items put every step in order."
        )
        return None
    draft = QuestionDraft(type=ORDERING, stem="")
    parts: Parts = {}
    for identifier in order:
        step = StepDraft(reader.markdown(choices[identifier]), reader.inner_feedback(choices[identifier]))
        draft.steps.append(step)
        parts[identifier] = step
    return draft, parts


def _read_match(reader: _ItemReader, interaction: ET.Element, declaration: ET.Element) -> Built:
    sets = _kids(interaction, "simpleMatchSet")
    if len(sets) != 2:
        count = len(sets)
        reader.error(interaction, f"a matchInteraction needs two simpleMatchSets (prompts, responses), has {count}.")
        return None
    sources = reader.identifiers(_kids(sets[0], "simpleAssociableChoice"))
    targets = reader.identifiers(_kids(sets[1], "simpleAssociableChoice"))
    for index, (found, match_set) in enumerate(((sources, sets[0]), (targets, sets[1])), 1):
        if not found and not reader.failed:
            reader.error(match_set, f"simpleMatchSet {index} has no simpleAssociableChoice.")
    keys = reader.keys(declaration)
    if keys is None or reader.failed:
        return None
    answers: dict[str, list[str]] = {}
    for source, target, element in reader.pairs(keys):
        pair = f"{source} {target}"
        if source in targets and target in sources:
            reader.error(
                element,
                f"directedPair {pair!r} names a response first; the first identifier must come "
                "from the first simpleMatchSet (the prompts).",
            )
        elif source not in sources:
            reader.unknown(element, source, sources, pair)
        elif target not in targets:
            reader.unknown(element, target, targets, pair)
        else:
            answers.setdefault(source, []).append(target)
    if reader.failed:
        return None
    for source, answer in answers.items():
        if len(answer) > 1:
            reader.skip(f"prompt {source!r} has {len(answer)} correct responses; our matching gives each prompt one.")
            return None
    draft = QuestionDraft(type=MATCHING, stem="")
    parts: Parts = {}
    text = {identifier: reader.markdown(element) for identifier, element in targets.items()}
    for identifier, element in sources.items():
        if identifier not in answers:
            reader.warn(
                element,
                f"prompt {identifier!r} has no correct response, so it is left out: each of our prompts needs one.",
            )
            continue
        pair = PairDraft(reader.markdown(element), text[answers[identifier][0]], reader.inner_feedback(element))
        draft.pairs.append(pair)
        parts[identifier] = pair
    used = {t for answer in answers.values() for t in answer}
    _unused_responses(reader, choices=targets, used=used, text=text, draft=draft, parts=parts)
    return draft, parts


def _unused_responses(
    reader: _ItemReader,
    *,
    choices: dict[str, ET.Element],
    used: set[str],
    text: dict[str, str],
    draft: QuestionDraft,
    parts: Parts,
) -> None:
    """Responses no pair uses become responses that match nothing; feedback on used ones has no home."""
    for identifier, element in choices.items():
        rationale = reader.inner_feedback(element)
        if identifier in used:
            if rationale:
                reader.warn(
                    element,
                    "feedback on a response that answers a prompt is not imported; pair rationales come from prompts.",
                )
            continue
        pair = PairDraft(None, text[identifier], rationale)
        draft.pairs.append(pair)
        parts[identifier] = pair


def _read_associate(reader: _ItemReader, interaction: ET.Element, declaration: ET.Element) -> Built:
    choices = reader.identifiers(_kids(interaction, "simpleAssociableChoice"))
    if not _kids(interaction, "simpleAssociableChoice"):
        reader.error(interaction, "the associateInteraction has no simpleAssociableChoice.")
        return None
    keys = reader.keys(declaration)
    if keys is None or reader.failed:
        return None
    answers: dict[str, list[str]] = {}
    for first, second, element in reader.pairs(keys):
        pair = f"{first} {second}"
        if first == second:
            reader.error(element, f"pair {pair!r} pairs a choice with itself.")
        elif first not in choices or second not in choices:
            reader.unknown(element, first if first not in choices else second, choices, pair)
        else:
            answers.setdefault(first, []).append(second)
    if reader.failed:
        return None
    responses = {second for answer in answers.values() for second in answer}
    for first, answer in answers.items():
        if len(answer) > 1:
            reader.skip(f"choice {first!r} is the prompt of {len(answer)} pairs; our matching gives each prompt one.")
            return None
    both = [identifier for identifier in answers if identifier in responses]
    if both:
        reader.skip(
            f"choice {both[0]!r} is a prompt in one pair and a response in another; our matching keeps "
            "prompts and responses apart."
        )
        return None
    draft = QuestionDraft(type=MATCHING, stem="")
    parts: Parts = {}
    text = {identifier: reader.markdown(element) for identifier, element in choices.items()}
    for identifier, element in choices.items():
        if identifier in answers:
            pair = PairDraft(text[identifier], text[answers[identifier][0]], reader.inner_feedback(element))
            draft.pairs.append(pair)
            parts[identifier] = pair
    unused = {k: v for k, v in choices.items() if k not in answers}
    _unused_responses(reader, choices=unused, used=responses, text=text, draft=draft, parts=parts)
    return draft, parts


_READERS: dict[str, Callable[[_ItemReader, ET.Element, ET.Element], Built]] = {
    "choiceInteraction": _read_choice,
    "orderInteraction": _read_order,
    "matchInteraction": _read_match,
    "associateInteraction": _read_associate,
}


def _unknown_root(name: str) -> str:
    if name == "questestinterop":
        return "this is QTI 1.2 (questestinterop), which is not supported; export QTI 2.1 or 2.2."
    if name == "assessmentTest":
        return "an assessmentTest only refers to item files; upload the content package (ZIP) with its items."
    if name == "manifest":
        return "an imsmanifest.xml on its own only lists item files; upload the whole content package (ZIP)."
    return f"the root element is <{name}>, not a QTI 2.1/2.2 assessmentItem."


def _read_item(doc: _Doc, result: ParseResult, meta: dict[str, object] | None, archive: _Archive | None = None) -> None:
    """One item file: checks its root, reads it, and adds the item (or the problems) to the result."""
    root = doc.root
    name, namespace = _local(root.tag), _namespace(root.tag)
    if namespace == QTI3 or name.startswith("qti-"):
        result.error(doc.loc(root), QTI3_MESSAGE + ".")
        return
    if name != "assessmentItem":
        result.error(doc.loc(root), _unknown_root(name))
        return
    if namespace not in QTI_NAMESPACES:
        result.error(doc.loc(root), f"namespace {namespace!r} is not QTI 2.1 or 2.2 ({QTI21} or {QTI22}).")
        return
    doc.identifier = (root.get("identifier") or "").strip()
    title = (root.get("title") or "").strip()
    line = doc.lines.get(root)
    details = [f"title {_shorten(title)!r}"] if title else []
    details += [f"line {line}"] if line else []
    where = f"{doc.file}: {doc.path(root)}" + (f" ({', '.join(details)})" if details else "")
    # XInclude pulls content from another file when a processor resolves it; ours does not (a file from an upload
    # is never fetched), so an item with one would arrive with holes: name each include instead.
    includes = [element for element in root.iter() if _namespace(element.tag) == XINCLUDE]
    for element in includes:
        result.error(
            doc.loc(element),
            f"xi:include of {element.get('href') or '(no href)'!r} is not supported: put the included content "
            "into the item itself.",
        )
    if includes:
        return
    reader = _ItemReader(doc, result, where, archive)
    try:
        draft = reader.read()
    except RecursionError:
        result.error(where, "the item's elements are nested too deeply to read.")
        return
    if draft is None:
        return
    item = Item(draft=draft, location=where, media=reader.files.files)
    if title and title != doc.identifier and meta is None:  # our own packages carry the name in their metadata
        draft.name = title[:255]
    if meta is not None:
        apply_meta(item, meta, result, where)
    elif doc.identifier:
        item.ref = doc.identifier[:40]
        if len(doc.identifier) > 40:
            result.warn(where, f"the identifier is longer than 40 characters; the ref is cut to {item.ref!r}.")
    result.items.append(item)


# ------------------------------------------------------------------------------------------------- ZIP packages


class _Archive:
    """A ZIP read in memory with bomb limits: every entry is read through a capped reader."""

    def __init__(self, archive: zipfile.ZipFile, name: str, result: ParseResult) -> None:
        self.zip = archive
        self.name = name
        self.result = result
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.remaining = MAX_TOTAL_BYTES

    @classmethod
    def open(cls, data: bytes, name: str, result: ParseResult) -> _Archive | None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        except Exception as exc:  # zipfile raises many types on hostile input
            result.error(name, f"not a readable ZIP file ({exc}).")
            return None
        if len(infos) > MAX_ENTRIES:
            result.error(name, f"the ZIP has {len(infos)} entries; packages with more than {MAX_ENTRIES} are refused.")
            return None
        encrypted = [info.filename for info in infos if info.flag_bits & 0x1]
        if encrypted:
            result.error(f"{name}: {encrypted[0]}", "the entry is encrypted; export the package without a password.")
            return None
        opened = cls(archive, name, result)
        for info in infos:
            key = info.filename.replace("\\", "/").lstrip("/")
            if not info.is_dir() and not key.startswith("__MACOSX/"):
                opened.entries[key] = info
        return opened

    def read(self, key: str) -> bytes | None:
        """An entry's bytes, counted while reading: the header's sizes may lie."""
        info = self.entries[key]
        limit = min(self.remaining, max(MAX_RATIO * info.compress_size, RATIO_FLOOR))
        chunks: list[bytes] = []
        size = 0
        try:
            with self.zip.open(info) as stream:
                while size <= limit:
                    chunk = stream.read(min(1 << 16, limit + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
        except Exception as exc:  # corrupt data: zlib, CRC, EOF and other errors
            self.result.error(f"{self.name}: {key}", f"the entry cannot be read ({exc}).")
            return None
        if size > limit:
            if size > self.remaining:
                why = f"the package expands to more than {MAX_TOTAL_BYTES / (1024 * 1024):g} MB"
            else:
                why = f"the entry expands to more than {MAX_RATIO} times its compressed size"
            self.result.error(f"{self.name}: {key}", f"{why}; refused as a possible ZIP bomb.")
            return None
        self.remaining -= size
        return b"".join(chunks)

    def manifest(self) -> str | None:
        lower = {key.lower(): key for key in self.entries}
        if "imsmanifest.xml" in lower:
            return lower["imsmanifest.xml"]
        nested = sorted((k for k in self.entries if posixpath.basename(k).lower() == "imsmanifest.xml"), key=_depth)
        return nested[0] if nested else None


def _depth(key: str) -> tuple[int, str]:
    return key.count("/"), key


def _resolve(*parts: str) -> str | None:
    """A manifest href (relative to the manifest and any xml:base) as a ZIP entry name; None if outside."""
    href = unquote(parts[-1].strip()).replace("\\", "/")
    if not href or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
        return None
    bases = [unquote(p.strip()).replace("\\", "/") for p in parts[:-1] if p and p.strip()]
    path = posixpath.normpath(posixpath.join(*bases, href)).lstrip("/")
    if path in {"", "."} or path == ".." or path.startswith("../"):
        return None
    return path


def _parse_package(data: bytes, name: str, result: ParseResult) -> None:
    archive = _Archive.open(data, name, result)
    if archive is None:
        return
    manifest = archive.manifest()
    if manifest is None:
        _parse_loose(archive, result)
    else:
        _parse_manifest(archive, manifest, result)


def _parse_loose(archive: _Archive, result: ParseResult) -> None:
    """No manifest: every XML file whose root is an assessmentItem is an item."""
    found = 0
    for key in list(archive.entries):
        if not key.lower().endswith(".xml"):
            continue
        raw = archive.read(key)
        doc = _load_xml(raw, key, result) if raw is not None else None
        if doc is None:
            continue
        name = _local(doc.root.tag)
        if _namespace(doc.root.tag) == QTI3 or name.startswith("qti-"):
            result.error(doc.loc(doc.root), QTI3_MESSAGE + ".")
        elif name == "assessmentItem":
            found += 1
            _read_item(doc, result, None, archive)
    if found:
        result.warn(archive.name, "the ZIP has no imsmanifest.xml; imported every assessmentItem file found in it.")
    elif not result.errors:
        result.error(archive.name, "the ZIP has no imsmanifest.xml and no assessmentItem files.")


def _parse_manifest(archive: _Archive, key: str, result: ParseResult) -> None:
    raw = archive.read(key)
    doc = _load_xml(raw, key, result) if raw is not None else None
    if doc is None:
        return
    root = doc.root
    if _local(root.tag) != "manifest":
        result.error(doc.loc(root), f"the root element is <{_local(root.tag)}>, not an IMS content package manifest.")
        return
    resources = [(group, r) for group in _kids(root, "resources") for r in _kids(group, "resource")]
    if "qtiv3p0" in _namespace(root.tag) or any("v3p0" in (r.get("type") or "") for _, r in resources):
        result.error(doc.loc(root), QTI3_MESSAGE + ".")
        return
    base = posixpath.dirname(key)
    items = 0
    seen: set[str] = set()
    for group, resource in resources:
        if len(result.errors) >= MAX_FILE_ERRORS:
            result.error(doc.loc(root), f"more than {MAX_FILE_ERRORS} errors; the rest of the package was not read.")
            return
        kind = (resource.get("type") or "").strip()
        bases = (base, group.get(XML_BASE, ""), resource.get(XML_BASE, ""))
        if kind.startswith(("imsqti_item_xmlv2p", "imsqti_apipitem_xmlv2p")):
            items += 1
            _manifest_item(archive, doc, resource, bases, result, seen=seen)
        elif kind.startswith(("imsqti_test_xmlv2p", "imsqti_apiptest_xmlv2p")):
            result.warn(
                doc.loc(resource),
                "the assessmentTest is not imported (sections, order, time limits); "
                "its items are imported from their own resources.",
            )
        elif _mla_record(resource, "caseStudy") is not None:
            _manifest_case(archive, doc, resource, bases, result)
    if not items:
        result.error(
            doc.loc(root),
            "the manifest lists no QTI 2.1/2.2 item resources (type imsqti_item_xmlv2p1 or imsqti_item_xmlv2p2).",
        )


def _resource_file(
    archive: _Archive, doc: _Doc, resource: ET.Element, bases: tuple[str, ...], result: ParseResult, *, what: str
) -> tuple[str, bytes] | None:
    raw_href = resource.get("href") or ""
    if not raw_href.strip():
        files = [f.get("href") or "" for f in _kids(resource, "file")]
        raw_href = next((href for href in files if href.lower().endswith((".xml", ".html", ".htm"))), "")
    if not raw_href.strip():
        result.error(doc.loc(resource), f"the {what} resource has no href.")
        return None
    href = _resolve(*bases, raw_href)
    if href is None or href not in archive.entries:
        result.error(doc.loc(resource), f"{what} file {raw_href!r} is listed in the manifest but is not in the ZIP.")
        return None
    data = archive.read(href)
    return None if data is None else (href, data)


def _manifest_item(
    archive: _Archive, doc: _Doc, resource: ET.Element, bases: tuple[str, ...], result: ParseResult, *, seen: set[str]
) -> None:
    found = _resource_file(archive, doc, resource, bases, result, what="item")
    if found is None or found[0] in seen:
        return
    href, data = found
    seen.add(href)
    item_doc = _load_xml(data, href, result)
    if item_doc is not None:
        record = _mla_record(resource, "meta")
        _read_item(item_doc, result, None if record is None else _meta_dict(record), archive)


def _manifest_case(
    archive: _Archive, doc: _Doc, resource: ET.Element, bases: tuple[str, ...], result: ParseResult
) -> None:
    record = _mla_record(resource, "caseStudy")
    fields = {_local(child.tag): (child.text or "").strip() for child in record if _namespace(child.tag) == MLA}
    where = doc.loc(resource)
    if not fields.get("ref"):
        result.error(where, "the case study record has no ref.")
        return
    found = _resource_file(archive, doc, resource, bases, result, what="case study")
    if found is None:
        return
    try:
        scenario, images = html_to_markdown(decode(found[1]))
    except DecodeError as exc:
        result.error(found[0], str(exc))
        return
    for source in images:
        result.warn(where, f"image {source} is not imported; embedded files are unsupported.")
    result.cases.append(Case(ref=fields["ref"], title=fields.get("title", ""), scenario=scenario, location=where))


def _mla_record(resource: ET.Element, name: str) -> ET.Element | None:
    metadata = _kid(resource, "metadata")
    if metadata is None:
        return None
    return next((e for e in metadata.iter(f"{{{MLA}}}{name}")), None)


def _meta_dict(record: ET.Element) -> dict[str, object]:
    """Our metadata element as the mapping ``apply_meta`` expects (it warns about malformed values)."""
    meta: dict[str, object] = {}
    for child in record:
        if _namespace(child.tag) != MLA:
            continue
        key, text = _local(child.tag), (child.text or "").strip()
        if key in {"objective", "reference", "tag"}:
            meta.setdefault(f"{key}s", []).append(text)  # type: ignore[union-attr]
        elif key in {"version", "case_order"}:
            meta[key] = int(text) if re.fullmatch(r"\d{1,9}", text) else text
        elif key == "angoff":
            meta[key] = _float_or_text(text)
        else:
            meta[key] = text
    return meta


def _float_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


# ------------------------------------------------------------------------------------------------------- parse


def parse(data: bytes, *, name: str = "upload") -> ParseResult:
    """Read a QTI 2.1/2.2 item file or content package. Never raises; problems come back in the result."""
    result = ParseResult(format=FORMAT)
    try:
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if data.startswith(_ZIP_MAGIC):
            _parse_package(data, name, result)
            return result
        doc = _load_xml(data, name, result)
        if doc is not None:
            _read_item(doc, result, None)
    except Exception as exc:  # parse must never raise: the last line of defence
        result.error(name, f"internal error while reading the file ({type(exc).__name__}); please report it.")
    return result


# ------------------------------------------------------------------------------------------------------ export

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLOCK = frozenset({"p", "pre", "ul", "ol", "blockquote", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "div"})
_XHTML_TAGS = _BLOCK | {
    "br", "strong", "em", "b", "i", "code", "li", "a", "thead", "tbody", "tr", "th", "td", "sub", "sup", "kbd", "img",
    "span", "audio",
}  # fmt: skip
_KEEP_ATTRIBUTES = {"a": ("href",), "img": ("src", "alt"), "audio": ("src", "aria-label")}


def _safe(text: str) -> str:
    """Text without the characters XML 1.0 cannot hold (control characters, lone surrogates)."""
    return _INVALID_XML.sub("", text or "")


class _XhtmlBuilder(HTMLParser):
    """Sanitised HTML (from ``markdown_to_html``) rebuilt as ElementTree elements, so the XML is well formed."""

    def __init__(self, parent: ET.Element, namespace: str) -> None:
        super().__init__(convert_charrefs=True)
        self.namespace = namespace
        self.stack = [parent]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _XHTML_TAGS:
            return
        keep = _KEEP_ATTRIBUTES.get(tag, ())
        attributes = {key: _safe(value or "") for key, value in attrs if key in keep}
        if (tag == "a" and not attributes.get("href")) or (tag == "img" and not attributes.get("src")):
            return
        if tag == "img":
            attributes.setdefault("alt", "")
        element = ET.SubElement(self.stack[-1], f"{{{self.namespace}}}{tag}", attributes)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        qualified = f"{{{self.namespace}}}{tag}"
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == qualified:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        _add_text(self.stack[-1], _safe(data))


def _add_text(parent: ET.Element, text: str) -> None:
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _append_html(parent: ET.Element, markup: str, namespace: str = QTI22, *, blocks: bool = False) -> None:
    builder = _XhtmlBuilder(parent, namespace)
    builder.feed(markup)
    builder.close()
    if blocks:
        _wrap_inline(parent, namespace)


def _wrap_inline(container: ET.Element, namespace: str) -> None:
    """Put loose text and inline elements of a block container (itemBody) into paragraphs, as QTI requires."""
    children = list(container)
    loose_text = (container.text or "").strip() or any((c.tail or "").strip() for c in children)
    if not loose_text and all(_local(c.tag) in _BLOCK for c in children):
        return
    rebuilt: list[ET.Element] = []
    paragraph: ET.Element | None = None

    def current() -> ET.Element:
        nonlocal paragraph
        if paragraph is None:
            paragraph = ET.Element(f"{{{namespace}}}p")
            rebuilt.append(paragraph)
        return paragraph

    if (container.text or "").strip():
        current().text = container.text
    container.text = None
    for child in children:
        tail, child.tail = child.tail, None
        if _local(child.tag) in _BLOCK:
            paragraph = None
            rebuilt.append(child)
        else:
            current().append(child)
        if tail and (tail.strip() or paragraph is not None):
            _add_text(current(), tail)
    container[:] = rebuilt


def _escape(text: str, *, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return text


def _xml_bytes(root: ET.Element, prefixes: dict[str, str]) -> bytes:
    """Serialise a tree we built with fixed prefixes ('' = default namespace).

    Written because ``ET.tostring(default_namespace=...)`` refuses plain attribute names such as
    ``identifier``, and ``ET.register_namespace`` would change every other serialisation in the process.
    """
    declarations = "".join(f' xmlns{":" + prefix if prefix else ""}="{uri}"' for uri, prefix in prefixes.items())
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def name(qualified: str) -> str:
        prefix = prefixes[_namespace(qualified)] if qualified.startswith("{") else ""
        return f"{prefix}:{_local(qualified)}" if prefix else _local(qualified)

    def write(element: ET.Element, extra: str) -> None:
        tag = name(element.tag)
        attributes = "".join(f' {name(k)}="{_escape(v, attribute=True)}"' for k, v in element.attrib.items())
        if element.text is None and not len(element):
            out.append(f"<{tag}{extra}{attributes}/>")
            return
        out.append(f"<{tag}{extra}{attributes}>{_escape(element.text or '')}")
        for child in element:
            write(child, "")
            out.append(_escape(child.tail or ""))
        out.append(f"</{tag}>")

    write(root, declarations)
    return "".join(out).encode("utf-8")


def _qti(tag: str) -> str:
    return f"{{{QTI22}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: _safe(value) for key, value in attributes.items()})
    if text is not None:
        element.text = _safe(text)
    return element


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"C{index + 1}"


_HAS_BLOCK = re.compile(r"<(p|ul|ol|pre|blockquote|table|h[1-6]|hr)\b")


def _add_feedback(parent: ET.Element, identifier: str, text: str) -> None:
    """A rationale inside its choice: feedbackInline, or feedbackBlock when it needs paragraphs or lists."""
    if not (text or "").strip():
        return
    inline = markdown_inline_to_html(text)
    block = bool(_HAS_BLOCK.search(inline))
    tag = "feedbackBlock" if block else "feedbackInline"
    feedback = _sub(parent, _qti(tag), outcomeIdentifier="FEEDBACK", identifier=identifier, showHide="show")
    _append_html(feedback, markdown_to_html(text) if block else inline, blocks=block)


def _rotated(count: int) -> list[int]:
    """A fixed display order with nothing in its own place, for engines that ignore shuffle="true"."""
    return [*range(1, count), 0] if count > 1 else list(range(count))


def _write_choices(draft: QuestionDraft, body: ET.Element, correct: ET.Element) -> None:
    maximum = "1" if draft.type == SINGLE else "0"
    interaction = _sub(body, _qti("choiceInteraction"), responseIdentifier="RESPONSE", shuffle="true",
                       maxChoices=maximum)  # fmt: skip
    for index, choice in enumerate(draft.choices):
        identifier = _letter(index)
        element = _sub(interaction, _qti("simpleChoice"), identifier=identifier)
        _append_html(element, markdown_inline_to_html(choice.text))
        _add_feedback(element, identifier, choice.rationale)
        if choice.correct:
            _sub(correct, _qti("value"), identifier)


def _write_steps(draft: QuestionDraft, body: ET.Element, correct: ET.Element) -> None:
    interaction = _sub(body, _qti("orderInteraction"), responseIdentifier="RESPONSE", shuffle="true")
    identifiers = [""] * len(draft.steps)
    for position, index in enumerate(_rotated(len(draft.steps))):
        identifiers[index] = _letter(position)
        element = _sub(interaction, _qti("simpleChoice"), identifier=identifiers[index])
        _append_html(element, markdown_inline_to_html(draft.steps[index].text))
        _add_feedback(element, identifiers[index], draft.steps[index].rationale)
    for identifier in identifiers:
        _sub(correct, _qti("value"), identifier)


def _write_pairs(draft: QuestionDraft, body: ET.Element, correct: ET.Element, losses: list[str]) -> None:
    prompts = [pair for pair in draft.pairs if pair.prompt is not None]
    unused = [pair for pair in draft.pairs if pair.prompt is None]
    first_unused = next((i for i, pair in enumerate(draft.pairs) if pair.prompt is None), len(draft.pairs))
    if any(pair.prompt is not None for pair in draft.pairs[first_unused:]):
        losses.append("responses that match nothing are written after the matched pairs, so their position changes.")
    # One target per distinct answer (a response may serve several prompts), then one per unused response.
    targets: list[tuple[str, list[PairDraft], PairDraft | None]] = []
    by_text: dict[str, list[PairDraft]] = {}
    for pair in prompts:
        if pair.response not in by_text:
            by_text[pair.response] = []
            targets.append((pair.response, by_text[pair.response], None))
        by_text[pair.response].append(pair)
    targets += [(pair.response, [], pair) for pair in unused]
    interaction = _sub(body, _qti("matchInteraction"), responseIdentifier="RESPONSE", shuffle="true",
                       maxAssociations=str(len(prompts)))  # fmt: skip
    sources = _sub(interaction, _qti("simpleMatchSet"))
    source_ids: dict[int, str] = {}
    for index, pair in enumerate(prompts):
        source_ids[id(pair)] = f"P{index + 1}"
        element = _sub(sources, _qti("simpleAssociableChoice"), identifier=source_ids[id(pair)], matchMax="1")
        _append_html(element, markdown_inline_to_html(pair.prompt or ""))
        _add_feedback(element, source_ids[id(pair)], pair.rationale)
    target_set = _sub(interaction, _qti("simpleMatchSet"))
    for position, index in enumerate(_rotated(len(targets))):
        text, users, own = targets[index]
        identifier = f"R{position + 1}"
        most = str(max(len(users), 1))
        element = _sub(target_set, _qti("simpleAssociableChoice"), identifier=identifier, matchMax=most)
        _append_html(element, markdown_inline_to_html(text))
        if own is not None:
            _add_feedback(element, identifier, own.rationale)
        for user in users:
            source_ids[id(user)] = f"{source_ids[id(user)]} {identifier}"
    for pair in prompts:
        _sub(correct, _qti("value"), source_ids[id(pair)])


_DECLARATIONS = {
    SINGLE: ("single", "identifier"),
    MULTIPLE: ("multiple", "identifier"),
    ORDERING: ("ordered", "identifier"),
    MATCHING: ("multiple", "directedPair"),
}


def _item_document(
    item: Item, identifier: str, title: str, losses: list[str], media_paths: dict[str, str] | None = None
) -> bytes:
    draft = item.draft
    root = ET.Element(
        _qti("assessmentItem"),
        {f"{{{XSI}}}schemaLocation": QTI22_SCHEMA, "identifier": identifier, "title": _safe(title),
         "adaptive": "false", "timeDependent": "false"},
    )  # fmt: skip
    cardinality, base_type = _DECLARATIONS[draft.type]
    declaration = _sub(root, _qti("responseDeclaration"), identifier="RESPONSE", cardinality=cardinality,
                       baseType=base_type)  # fmt: skip
    correct = _sub(declaration, _qti("correctResponse"))
    score = _sub(root, _qti("outcomeDeclaration"), identifier="SCORE", cardinality="single", baseType="float")
    _sub(_sub(score, _qti("defaultValue")), _qti("value"), "0")
    maximum = _sub(root, _qti("outcomeDeclaration"), identifier="MAXSCORE", cardinality="single", baseType="float")
    _sub(_sub(maximum, _qti("defaultValue")), _qti("value"), "1")
    _sub(root, _qti("outcomeDeclaration"), identifier="FEEDBACK", cardinality="multiple", baseType="identifier")
    body = _sub(root, _qti("itemBody"))
    _append_html(body, markdown_to_html(draft.stem), blocks=True)
    if draft.type in {SINGLE, MULTIPLE}:
        _write_choices(draft, body, correct)
    elif draft.type == ORDERING:
        _write_steps(draft, body, correct)
    else:
        _write_pairs(draft, body, correct, losses)
    if not len(correct):
        declaration.remove(correct)
        losses.append("the item has no correct answer, so the QTI item has no correctResponse.")
    _sub(root, _qti("responseProcessing"), template=MATCH_CORRECT)
    if (draft.explanation or "").strip():
        modal = _sub(root, _qti("modalFeedback"), outcomeIdentifier="FEEDBACK", identifier="EXPLANATION",
                     showHide="show")  # fmt: skip
        _append_html(modal, markdown_to_html(draft.explanation), blocks=True)
    _media_point(root, item, media_paths or {})
    return _xml_bytes(root, {QTI22: "", XSI: "xsi"})


def _media_point(root: ET.Element, item: Item, media_paths: dict[str, str]) -> None:
    """Point the item's images and audio at the package's ``media/`` files (next to ``items/``): the rendered
    HTML refers to our serving URL; audio becomes an ``<object>``, as QTI 2 writes media."""
    if not item.media:
        return
    paths = {
        f"{ITEM_MEDIA_URL}{key}": (f"../{media_paths[key]}", file)
        for key, file in item.media.items()
        if key in media_paths
    }
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "img" and element.get("src") in paths:
            element.set("src", paths[element.get("src", "")][0])
        elif tag == "audio":
            path, file = paths.get(element.get("src", ""), ("", None))
            label = element.get("aria-label") or ""
            element.tag = _qti("object")
            element.attrib.clear()
            if file is not None:
                element.attrib.update({"type": file.content_type, "data": path})
            element.text = label


def _case_document(case: Case) -> bytes:
    page = ET.Element(f"{{{XHTML}}}html")
    head = _sub(page, f"{{{XHTML}}}head")
    _sub(head, f"{{{XHTML}}}title", case.title or case.ref)
    body = _sub(page, f"{{{XHTML}}}body")
    _append_html(body, markdown_to_html(case.scenario), XHTML, blocks=True)
    return _xml_bytes(page, {XHTML: ""})


def _slug(text: str) -> str:
    """A QTI identifier / file name from a ref: letters, digits, ``-_.``, starting with a letter."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text or "").strip("-.")[:60]
    return slug if slug[:1].isalpha() else (f"i-{slug}" if slug else "")


class _PackageWriter:
    """Collects the manifest, item files and case files of the exported content package."""

    def __init__(self) -> None:
        self.manifest = ET.Element(
            f"{{{CP}}}manifest", {"identifier": "MLA-QUESTIONS", f"{{{XSI}}}schemaLocation": CP_SCHEMA}
        )
        metadata = _sub(self.manifest, f"{{{CP}}}metadata")
        _sub(metadata, f"{{{CP}}}schema", "QTIv2.2 Package")
        _sub(metadata, f"{{{CP}}}schemaversion", "1.0.0")
        _sub(self.manifest, f"{{{CP}}}organizations")
        self.resources = _sub(self.manifest, f"{{{CP}}}resources")
        self.files: list[tuple[str, bytes]] = []
        self.used: set[str] = set()
        self.cases: dict[str, str] = {}
        self.media: dict[str, bytes] = {}
        self.losses: list[Problem] = []

    def unique(self, slug: str) -> str:
        candidate, number = slug, 1
        while candidate.lower() in self.used:
            number += 1
            candidate = f"{slug}-{number}"
        self.used.add(candidate.lower())
        return candidate

    def media_paths(self, item: Item) -> dict[str, str]:
        """Where each of the item's files goes in the package (``media/<name>``), written once however many
        items use it; a different file under a name already taken gets its id in front."""
        paths: dict[str, str] = {}
        for key, file in item.media.items():
            path = f"media/{key.rsplit('/', 1)[-1]}"
            if path in self.media and self.media[path] != file.data:
                path = f"media/{key.replace('/', '-')}"
            if path not in self.media:
                self.media[path] = file.data
                self.files.append((path, file.data))
            paths[key] = path
        return paths

    def resource(self, identifier: str, kind: str, href: str) -> ET.Element:
        return _sub(self.resources, f"{{{CP}}}resource", identifier=identifier, type=kind, href=href)

    def add_case(self, case: Case, index: int) -> None:
        slug = self.unique("case-" + (_slug(case.ref) or str(index)))
        href = f"cases/{slug.removeprefix('case-')}.html"
        resource = self.resource(slug, "webcontent", href)
        record = _sub(_sub(resource, f"{{{CP}}}metadata"), f"{{{MLA}}}caseStudy")
        _sub(record, f"{{{MLA}}}ref", case.ref)
        _sub(record, f"{{{MLA}}}title", case.title)
        _sub(resource, f"{{{CP}}}file", href=href)
        self.files.append((href, _case_document(case)))
        self.cases.setdefault(case.ref, slug)

    def add_item(self, item: Item, index: int) -> None:
        label = f"item {item.ref or index}"
        if item.draft.type not in TYPES:
            message = f"type {item.draft.type!r} cannot be written as QTI; the item is left out."
            self.losses.append(Problem(label, message))
            return
        identifier = self.unique(_slug(item.ref) or f"item-{index}")
        href = f"items/{identifier}.xml"
        losses: list[str] = []
        title = item.draft.name or item.ref or f"Question {index}"
        paths = self.media_paths(item)
        self.files.append((href, _item_document(item, identifier, title, losses, paths)))
        resource = self.resource(f"res-{identifier}", ITEM_RESOURCE, href)
        record = _sub(_sub(resource, f"{{{CP}}}metadata"), f"{{{MLA}}}meta")
        for key, value in item_meta(item).items():
            for one in value if isinstance(value, list) else [value]:
                _sub(record, f"{{{MLA}}}{key.removesuffix('s') if isinstance(value, list) else key}", str(one))
        _sub(resource, f"{{{CP}}}file", href=href)
        for path in paths.values():
            _sub(resource, f"{{{CP}}}file", href=path)
        if item.case_ref in self.cases:
            _sub(resource, f"{{{CP}}}dependency", identifierref=self.cases[item.case_ref])
        if item.family:
            losses.append("the item family (which versions belong together) has no place in QTI or our metadata.")
        self.losses.extend(Problem(label, message) for message in losses)

    def data(self) -> bytes:
        manifest = _xml_bytes(self.manifest, {CP: "", MLA: "mla", XSI: "xsi"})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in [("imsmanifest.xml", manifest), *self.files]:
                info = zipfile.ZipInfo(path, date_time=(2025, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return buffer.getvalue()


def export(items: list[Item], cases: list[Case]) -> ExportResult:
    """Write a QTI 2.2 content package; what QTI cannot carry is listed in ``losses``, item by item."""
    writer = _PackageWriter()
    for index, case in enumerate(cases, 1):
        writer.add_case(case, index)
    for index, item in enumerate(items, 1):
        writer.add_item(item, index)
    return ExportResult(data=writer.data(), filename=EXPORT_NAME, content_type="application/zip", losses=writer.losses)
