"""The exam screens' repeated markup, written in Python and called from their Jinja templates: the question
navigator's cells (65 of them, a dozen variables and conditions each), and an item's options (each with a
strike-out button and its URL in an exam) and the choices in the selects of ordering and matching items (a loop
within a loop). As template code they were most of the question page's rendering time. The cells and options are
plain f-strings, not format_html: every value is a number, one of AnswerState's values, a URL of numbers or
Markdown already sanitised, and escaping each of them cost as much again."""

from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.core.markdown import markdown_inline_to_html
from apps.core.reversing import int_reverse
from apps.core.templatetags.display import letter
from apps.exams.models import AnswerState
from apps.exams.presentation import ShownPart
from apps.exams.selectors import ItemCell

# The states as they go into the markup: checked once here rather than escaped per cell (65 times a page).
_STATES = {state: escape(state) for state in AnswerState.values}


def _cell(cell: ItemCell, *, current: int | None, attempt_id: int | None, oob: bool) -> str:
    """One cell: a button of the answer form on the question screen (so the answer is saved first, with or without
    JavaScript), a link elsewhere (``attempt_id`` given)."""
    here = int(cell.position) == current
    if attempt_id:  # not kept below: the link's URL carries the script prefix
        return _cell_markup(cell, here, oob, escape(int_reverse("exams:question", attempt_id, int(cell.position))))
    return _button_cell(cell, here, oob)  # None, or a template's missing variable


@lru_cache(maxsize=4096)
def _button_cell(cell: ItemCell, here: bool, oob: bool) -> str:
    """The question page's cells are a few hundred strings (position, state, flag, current) met again and again:
    each is written once per process."""
    return _cell_markup(cell, here, oob, None)


def _cell_markup(cell: ItemCell, here: bool, oob: bool, url: str | None) -> str:
    n, state = int(cell.position), _STATES[cell.state]
    flagged = " flagged" if cell.flagged else ""
    if url:
        opening, closing = f'<a href="{url}"', "</a>"
    else:
        opening, closing = f'<button type="submit" form="answer-form" name="go" value="q-{n}"', "</button>"
    swap = ' hx-swap-oob="true"' if oob else ""
    current = ' aria-current="step"' if here else ""
    # The marks (● ◐ ○ and ⚑) are drawn by the stylesheet from the classes: the label already says them in words,
    # and 65 cells of their markup were two fifths of the page.
    return (
        f'<li id="nav-{n}" class="{state}{flagged}"{swap}>{opening} class="cell"'
        f' aria-label="Question {n}, {state}{"," if flagged else ""}{flagged}"{current}>{n}{closing}</li>'
    )


def nav_cell(cell: ItemCell, *, current: int | None = None, attempt_id: int | None = None, oob: bool = False):
    """One question in the grid: its number, state and flag, named in full for screen readers. A save or a flag
    swaps it out of band (``oob``)."""
    return mark_safe(_cell(cell, current=current, attempt_id=attempt_id, oob=oob))  # noqa: S308 - escaped above


def nav_cells(cells: list[ItemCell], *, current: int | None = None, attempt_id: int | None = None) -> SafeString:
    """Every cell of the grid; links to the questions when ``attempt_id`` is given, else answer-form buttons."""
    return mark_safe(  # noqa: S308 - escaped in _cell
        "\n".join(_cell(cell, current=current, attempt_id=attempt_id, oob=False) for cell in cells)
    )


def choice_option(
    part: ShownPart, *, kind: str, disabled: bool = False, attempt_id: int | None = None, position: int | None = None
) -> SafeString:
    """One option: its input, its lettered text and, in an attempt (``attempt_id`` and ``position``) whose item is
    not locked, the button that strikes it out or restores it (htmx swaps just this option; without JavaScript it
    is a submit button of the answer form)."""
    n = int(part.number)
    name = letter(n - 1)
    kind_attr = "radio" if kind == "single" else "checkbox"
    checked = " checked" if part.selected else ""
    off = " disabled" if disabled else ""
    text = markdown_inline_to_html(part.text)
    html = (
        f'\n    <div class="option{" struck" if part.eliminated else ""}" id="option-{n}">\n'
        f'      <input type="{kind_attr}" name="choice" value="{n}" id="choice-{n}" data-key="{n}"{checked}{off}>\n'
        f'      <label for="choice-{n}"><span class="letter">{name}.</span> {text}</label>\n'
    )
    if attempt_id and position and not disabled:
        url = escape(int_reverse("exams:strike", attempt_id, position, n))
        struck = "0" if part.eliminated else "1"
        html += (
            f'      <button type="submit" id="strike-{n}" class="strike secondary small" formaction="{url}"'
            f' name="struck" value="{struck}"\n'
            f'              hx-post="{url}" hx-vals=\'{{"struck": "{struck}"}}\' hx-target="#option-{n}"'
            f' hx-swap="outerHTML"\n'
            f'              aria-pressed="{"true" if part.eliminated else "false"}">'
            f'{"Restore" if part.eliminated else "Strike out"}<span class="visually-hidden"> option {name}</span>'
            "</button>\n"
        )
    return mark_safe(html + "    </div>\n")  # noqa: S308 - numbers, fixed words, an escaped URL, sanitised Markdown


def choice_options(
    parts: list[ShownPart],
    *,
    kind: str,
    disabled: bool = False,
    attempt_id: int | None = None,
    position: int | None = None,
) -> SafeString:
    """Every option of the item, as `choice_option` writes each."""
    return mark_safe(  # noqa: S308 - each part built safe by choice_option
        "".join(
            choice_option(part, kind=kind, disabled=disabled, attempt_id=attempt_id, position=position)
            for part in parts
        )
    )


def position_options(positions: list[int], selected: int | None) -> SafeString:
    """The choices of one step's position in an ordering item: as template code, a loop of a loop (each step's
    select lists every position) that cost more than the rest of the item."""
    options = "".join(
        f'<option value="{int(n)}"{" selected" if n == selected else ""}>Position {int(n)}</option>' for n in positions
    )
    return mark_safe('<option value="">Position…</option>' + options)  # noqa: S308 - numbers only


def response_options(responses: list[ShownPart], selected: int | None) -> SafeString:
    """The responses one prompt of a matching item may be matched with (the same loop of a loop as above)."""
    options = "".join(
        f'<option value="{int(r.number)}"{" selected" if r.number == selected else ""}>{escape(r.text)}</option>'
        for r in responses
    )
    return mark_safe('<option value="">Choose a response…</option>' + options)  # noqa: S308 - texts escaped
