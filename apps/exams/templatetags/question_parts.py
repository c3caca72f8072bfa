"""The repeated parts of an item, written in Python: a single- or multiple-answer item's options (each a dozen
variables and conditions and, in an exam, a strike-out button with its URL), and the choices in the selects of
ordering and matching items (a loop within a loop). As template code they were the largest part of the question
page's rendering time. The markup is the same as the template's was."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.core.markdown import markdown_inline_to_html
from apps.core.reversing import int_reverse
from apps.core.templatetags.display import letter
from apps.exams.presentation import ShownPart

register = template.Library()


@register.simple_tag
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


@register.simple_tag
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


@register.simple_tag
def position_options(positions: list[int], selected: int | None) -> SafeString:
    """The choices of one step's position in an ordering item: as template code, a loop of a loop (each step's
    select lists every position) that cost more than the rest of the item."""
    options = "".join(
        f'<option value="{int(n)}"{" selected" if n == selected else ""}>Position {int(n)}</option>' for n in positions
    )
    return mark_safe('<option value="">Position…</option>' + options)  # noqa: S308 - numbers only


@register.simple_tag
def response_options(responses: list[ShownPart], selected: int | None) -> SafeString:
    """The responses one prompt of a matching item may be matched with (the same loop of a loop as above)."""
    options = "".join(
        f'<option value="{int(r.number)}"{" selected" if r.number == selected else ""}>{escape(r.text)}</option>'
        for r in responses
    )
    return mark_safe('<option value="">Choose a response…</option>' + options)  # noqa: S308 - texts escaped
