from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.core.markdown import markdown_inline_to_html, markdown_to_html

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return mark_safe(markdown_to_html(text))  # noqa: S308 - sanitised by nh3


@register.filter(name="markdown_inline")
def markdown_inline_filter(text: str) -> SafeString:
    return mark_safe(markdown_inline_to_html(text))  # noqa: S308 - sanitised by nh3


@register.filter
def letter(index: int) -> str:
    """0 → A, 1 → B: option letters as the real exam shows them."""
    return chr(ord("A") + int(index)) if 0 <= int(index) < 26 else str(index + 1)


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as h:mm:ss or m:ss, as exam timers show them."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


@register.filter
def chance(value: float | None) -> str:
    """A probability as a whole percent that never reads as certainty: "<1%" and ">99%" at the extremes."""
    if value is None:
        return ""
    if value < 0.005:
        return "<1%"
    if value > 0.995:
        return ">99%"
    return f"{100 * value:.0f}%"


@register.filter
def sub(value: int, other: int) -> int:
    return int(value) - int(other)


CLASSIFICATION_LABELS = {
    "meets": "Meets competencies",
    "needs": "Needs improvement",
    "unsure": "Not enough evidence yet",
}


@register.filter
def classification(value: str) -> str:
    return CLASSIFICATION_LABELS.get(value, value)


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key, []) if mapping else []


@register.filter
def pair_percent(pair) -> str:
    """[correct, total] as a percentage, or a dash when there is no evidence."""
    if not pair or not pair[1]:
        return "–"
    return f"{round(100 * pair[0] / pair[1])}%"


@register.filter
def heat_class(pair) -> str:
    if not pair or not pair[1]:
        return "heat-none"
    rate = pair[0] / pair[1]
    return "heat-low" if rate < 0.5 else "heat-mid" if rate < 0.7 else "heat-high"


@register.filter
def heat_row(cells) -> SafeString:
    """A heatmap row's cells (``HeatCell``s) as ``<td>``s. Joined in Python rather than looped in the template:
    a 50-member page has 600 cells, and three template variables per cell were a third of the page's time."""
    return format_html_join(
        "",
        '<td class="heat {}">{}<span class="n">N={}</span></td>',
        ((cell.css, cell.percent, cell.total) for cell in cells),
    )
