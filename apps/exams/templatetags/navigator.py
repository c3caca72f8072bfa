"""The question navigator's cells, written in Python: a 65-question grid is 65 cells of a dozen variables and
conditions each, which as an included template was more than half of the question page's server time. The cells
are plain f-strings, not format_html: every value is a number, one of AnswerState's values or a URL of numbers,
and escaping each of them cost as much again."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.core.reversing import int_reverse
from apps.exams.models import AnswerState
from apps.exams.selectors import ItemCell

register = template.Library()

# The states as they go into the markup: checked once here rather than escaped per cell (65 times a page).
_STATES = {state: escape(state) for state in AnswerState.values}


def _cell(cell: ItemCell, *, current: int | None, attempt_id: int | None, oob: bool) -> str:
    """One cell: a button of the answer form on the question screen (so the answer is saved first, with or without
    JavaScript), a link elsewhere (``attempt_id`` given)."""
    n, state = int(cell.position), _STATES[cell.state]
    flagged = " flagged" if cell.flagged else ""
    if attempt_id:
        opening, closing = f'<a href="{escape(int_reverse("exams:question", attempt_id, n))}"', "</a>"
    else:  # None, or a template's missing variable
        opening, closing = f'<button type="submit" form="answer-form" name="go" value="q-{n}"', "</button>"
    swap = ' hx-swap-oob="true"' if oob else ""
    here = ' aria-current="step"' if n == current else ""
    # The marks (● ◐ ○ and ⚑) are drawn by the stylesheet from the classes: the label already says them in words,
    # and 65 cells of their markup were two fifths of the page.
    return (
        f'<li id="nav-{n}" class="{state}{flagged}"{swap}>{opening} class="cell"'
        f' aria-label="Question {n}, {state}{"," if flagged else ""}{flagged}"{here}>{n}{closing}</li>'
    )


@register.simple_tag
def nav_cell(cell: ItemCell, *, current: int | None = None, attempt_id: int | None = None, oob: bool = False):
    """One question in the grid: its number, state and flag, named in full for screen readers. A save or a flag
    swaps it out of band (``oob``)."""
    return mark_safe(_cell(cell, current=current, attempt_id=attempt_id, oob=oob))  # noqa: S308 - escaped above


@register.simple_tag
def nav_cells(cells: list[ItemCell], *, current: int | None = None, attempt_id: int | None = None) -> SafeString:
    """Every cell of the grid; links to the questions when ``attempt_id`` is given, else answer-form buttons."""
    return mark_safe(  # noqa: S308 - escaped in _cell
        "\n".join(_cell(cell, current=current, attempt_id=attempt_id, oob=False) for cell in cells)
    )
