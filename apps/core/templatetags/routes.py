from django import template

from apps.core.reversing import int_reverse

register = template.Library()


@register.simple_tag
def int_url(name: str, *args: int) -> str:
    """``{% url %}`` for a route whose arguments are all integers, at a fraction of its cost (see reversing.py)."""
    return int_reverse(name, *args)
