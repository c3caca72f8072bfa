from django import template
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
