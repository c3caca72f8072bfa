from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, name: str, **values) -> SafeString:
    """``{% include %}`` for a Jinja template (see apps/core/jinja.py): rendered with this template's variables
    and ``values``."""
    rendered = engines["jinja2"].get_template(name).template.render({**context.flatten(), **values})
    return mark_safe(rendered)  # noqa: S308 - escaped by Jinja's autoescape
