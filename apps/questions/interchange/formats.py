"""The formats we read and write, how a file's format is recognised, and the guard every upload passes."""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from types import ModuleType

from apps.questions.interchange.base import ParseResult


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    can_export: bool


FORMATS = {
    "native": Format("native", "Native JSON (lossless)", can_export=True),
    "gift": Format("gift", "GIFT (Moodle)", can_export=True),
    "moodlexml": Format("moodlexml", "Moodle XML", can_export=True),
    "aiken": Format("aiken", "Aiken (Moodle)", can_export=False),
    "qti": Format("qti", "IMS QTI 2.1/2.2 (item or content package)", can_export=True),
}
IMPORT_CHOICES = [("auto", "Recognise from the file"), *((f.name, f.label) for f in FORMATS.values())]
EXPORT_CHOICES = [(f.name, f.label) for f in FORMATS.values() if f.can_export]

logger = logging.getLogger(__name__)

_AIKEN_ANSWER = re.compile(rb"^ANSWER\s*:\s*[A-Z]", re.MULTILINE)
_GIFT_BLOCK = re.compile(rb"(::[^\n]*::|\{[^}]*(=|~|->|T\}|F\}))")
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(quiz|assessmentItem|manifest|assessmentTest|qti-assessment-item)\b")


def module(name: str) -> ModuleType:
    return importlib.import_module(f"apps.questions.interchange.{name}")


def format_detect(data: bytes, filename: str) -> str | None:
    """The format of an upload, from its first bytes, its root element or its extension; None if unclear."""
    lower = filename.lower()
    if data.startswith(b"PK\x03\x04"):
        return "qti"
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode()
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        root = _ROOT.search(head)
        if root and root.group(1) == b"quiz":
            return "moodlexml"
        return "qti"
    if lower.endswith((".json", ".yaml", ".yml")) or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "native"
    if lower.endswith(".gift") or _GIFT_BLOCK.search(head):
        return "gift"
    if _AIKEN_ANSWER.search(data[:65536]):
        return "aiken"
    return None


def upload_parse(*, data: bytes, filename: str, fmt: str = "auto", max_bytes: int) -> ParseResult:
    """Parse an uploaded file: size limit, format recognition, then the format's own parser.

    Parsers never raise on bad input by contract (the fuzz tests hold them to it). The guard below is the
    last line: an unforeseen parser bug becomes a clear refusal and a logged stack trace, not a 500.
    """
    name = fmt if fmt != "auto" else (format_detect(data, filename) or "")
    result = ParseResult(format=name or "unknown")
    if len(data) > max_bytes:
        result.error(
            "file",
            f"{filename} is {len(data):,} bytes; the limit is {max_bytes:,} bytes. Split it and import the parts.",
        )
        return result
    if not data.strip():
        result.error("file", f"{filename} is empty.")
        return result
    if name not in FORMATS:
        result.error(
            "file",
            f"cannot tell the format of {filename}; choose one of {', '.join(FORMATS)} explicitly."
            if fmt == "auto"
            else f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.",
        )
        return result
    try:
        return module(name).parse(data, name=filename)
    except Exception:
        logger.exception("the %s parser failed on %s", name, filename)
        result.error("file", f"the {name} reader could not read {filename}; the problem has been logged.")
        return result
