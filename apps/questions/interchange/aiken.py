"""Aiken: Moodle's plainest format, single-answer questions only (there is no exporter; GIFT says more).

    Which SageMaker feature stores features for both training and low-latency inference?
    A. SageMaker Feature Store
    B) SageMaker Experiments
    C. SageMaker Debugger
    ANSWER: A

The question is every line before the first option (Moodle joins them), options are a capital letter followed by
``.`` or ``)`` and a space, and ``ANSWER:`` names the key and ends the question (blank lines between questions
are customary, not required, as in Moodle). The text is plain: anything that looks like HTML is kept literally.
Aiken has no feedback, so imported items have no explanation or rationales yet: they arrive as drafts to complete.
``ANSWER: A, C`` is not Aiken, but some tools write it; it is read as a multiple-response item, with a warning.
"""

from __future__ import annotations

import re

from apps.questions.interchange.base import DecodeError, Item, ParseResult, decode, plain_to_markdown
from apps.questions.rules import MULTIPLE, SINGLE, ChoiceDraft, QuestionDraft

_OPTION = re.compile(r"^([A-Z])[.)]\s+(.*\S)\s*$")
_ANSWER = re.compile(r"^ANSWER\s*:\s*(.*?)\s*$", re.IGNORECASE)


def parse(data: bytes, *, name: str = "upload") -> ParseResult:
    result = ParseResult(format="aiken")
    try:
        text = decode(data)
    except DecodeError as exc:
        result.error("file", str(exc))
        return result
    # As in Moodle's own reader, a question ends at its ANSWER: line and blank lines are only spacing, so a
    # file without blank lines between questions reads the same as one with them.
    # A blank line after the options and before text that is neither an option nor an ANSWER: line starts a new
    # question, so one missing ANSWER: line costs one question, not the rest of the file.
    block: list[tuple[int, str]] = []
    after_blank = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            after_blank = True
            continue
        starts_anew = after_blank and not (_OPTION.match(line) or _ANSWER.match(line))
        if starts_anew and any(_OPTION.match(text) for _, text in block[1:]):
            _question(block, result)
            block = []
        after_blank = False
        block.append((number, line))
        if _ANSWER.match(line):
            _question(block, result)
            block = []
    if block:
        _question(block, result)
    return result


def _question(block: list[tuple[int, str]], result: ParseResult) -> None:
    start = block[0][0]
    stem: list[str] = []
    options: list[tuple[str, str]] = []
    answer: tuple[int, str] | None = None
    for number, line in block:
        option, key = _OPTION.match(line), _ANSWER.match(line)
        if key:
            answer = (number, key.group(1))
        elif option:
            letter = option.group(1)
            expected = chr(ord("A") + len(options))
            if letter != expected:
                result.error(
                    f"line {number}", f"option {letter} should be {expected}: options run A, B, C... in order."
                )
                return
            options.append((letter, option.group(2)))
        elif options:
            result.error(
                f"line {number}",
                f"{line!r} is neither an option (A. text) nor an ANSWER: line; does the question on line {start}"
                " lack its ANSWER: line?",
            )
            return
        else:
            stem.append(line)
    where = f"line {start}"
    if not stem:
        result.error(where, "the question has no text before its options.")
        return
    if len(options) < 2:
        result.error(where, f"the question needs at least two options (A. ..., B. ...), has {len(options)}.")
        return
    if answer is None:
        result.error(where, "the question has no ANSWER: line naming its key.")
        return
    answer_line, letters_text = answer
    letters = [letter.strip().upper() for letter in re.split(r"[,\s]+", letters_text) if letter.strip()]
    known = {letter for letter, _ in options}
    unknown = [letter for letter in letters if letter not in known]
    if not letters or unknown:
        result.error(
            f"line {answer_line}",
            f"ANSWER {letters_text!r} does not name one of the options {', '.join(sorted(known))}.",
        )
        return
    kind = SINGLE if len(set(letters)) == 1 else MULTIPLE
    if kind == MULTIPLE:
        result.warn(f"line {answer_line}", "several answers are not standard Aiken; read as a multiple-response item.")
    draft = QuestionDraft(
        type=kind,
        stem=plain_to_markdown("\n".join(stem)),
        choices=[ChoiceDraft(text=plain_to_markdown(text), correct=letter in letters) for letter, text in options],
    )
    result.items.append(Item(draft=draft, location=where))
