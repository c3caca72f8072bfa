"""Jinja2 for the exam screens: the question page and the parts htmx swaps into it.

The question page is what every candidate loads again and again through an exam, and measured on it Django's
template language was most of the page's own server time: a tree of nodes walked on each request, at a few
microseconds a node. Jinja2 compiles each template to Python once: the same markup renders in a third of the time
(1.0 ms to 0.34 ms for the whole page on the benchmark machine). Every other page stays in Django's template
language; the two meet through two small bridges:

- ``{% jinja "name" key=value %}`` (`apps.core.templatetags.jinja`) renders one of these templates inside a Django
  template, with that template's context: the review, submit and exit screens take the exam header from here, the
  account page the text-size form, the item preview the question.
- ``django_include("name")`` in a Jinja template renders a Django template with the Jinja context: the practice
  feedback shows the item review that the results page also uses.

Like django-template-partials on the Django side, ``"name#block"`` renders one block of a template alone: what
htmx swaps (the question panel, the flag button, the scratch pad's status). jinja2-fragments does this for Flask,
FastAPI and others but has no Django backend; through Django's, it is the few lines of `_Block` below, with Jinja's
documented ``Template.blocks``.
"""

from __future__ import annotations

import jinja2
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import TemplateDoesNotExist, engines
from django.template.backends.jinja2 import Jinja2, Template
from django.template.defaultfilters import time as time_filter
from django.templatetags.static import static
from django.utils import timezone
from markupsafe import Markup

from apps.core.reversing import int_reverse
from apps.core.templatetags.display import duration, markdown_filter, markdown_inline_filter
from apps.exams import markup


@jinja2.pass_context
def django_include(context: jinja2.runtime.Context, name: str) -> Markup:
    """A Django template, rendered with this template's variables."""
    return Markup(engines["django"].get_template(name).render(context.get_all()))  # noqa: S704 - escaped by Django


@jinja2.pass_context
def csrf_input(context: jinja2.runtime.Context) -> Markup:
    """A form's hidden CSRF field, as Django's ``{% csrf_token %}`` writes it: the same masked token in every form
    of the page (here or, through ``{% jinja %}``, from a Django template's context)."""
    return Markup('<input type="hidden" name="csrfmiddlewaretoken" value="{}">').format(context["csrf_token"])


def local_time(value, fmt: str) -> str:
    """Django's ``time`` filter on the value in the current time zone, as Django's templates show a datetime."""
    return time_filter(timezone.localtime(value) if value and timezone.is_aware(value) else value, fmt)


def environment(**options) -> jinja2.Environment:
    # Always escaped; undefined variables behave as in Django's templates: empty, and their attributes too.
    options.update(autoescape=True, undefined=jinja2.ChainableUndefined)
    env = jinja2.Environment(**options)  # noqa: S701 - autoescape is on, the line above
    env.globals.update(
        static=static,
        int_url=int_reverse,
        nav_cell=markup.nav_cell,
        nav_cells=markup.nav_cells,
        choice_option=markup.choice_option,
        choice_options=markup.choice_options,
        position_options=markup.position_options,
        response_options=markup.response_options,
        django_include=django_include,
        csrf_input=csrf_input,
    )
    env.filters.update(
        markdown=markdown_filter,
        markdown_inline=markdown_inline_filter,
        duration=duration,
        time=local_time,
    )
    return env


class _Block:
    """One block of a Jinja template, with the template's own interface: rendered alone, with the whole context
    the template would get (`_Template` adds the request, the CSRF token and the context processors)."""

    def __init__(self, template: jinja2.Template, block: str) -> None:
        self.template, self.block = template, block
        self.name, self.filename = f"{template.name}#{block}", template.filename

    def render(self, values: dict) -> str:
        environment = self.template.environment
        try:
            return environment.concat(self.template.blocks[self.block](self.template.new_context(values)))
        except Exception:
            return environment.handle_exception()  # re-raised, with the template's lines in the traceback


class _CsrfToken:
    """The page's CSRF token, masked the first time a template prints it and then the same in every form. Django's
    Jinja2 backend gives a lazy string that masks the token afresh each time it is printed (32 random characters
    from the system's random source): on the question page, with its seven forms, that was the page's largest
    single cost. Not masked at all for a fragment without a form (an autosave's status)."""

    __slots__ = ("request", "value")

    def __init__(self, request: HttpRequest) -> None:
        self.request, self.value = request, ""

    def __str__(self) -> str:
        if not self.value:
            self.value = get_token(self.request)
        return self.value

    __html__ = __str__  # letters and digits: printed as it is


class _Template(Template):
    """Django's Jinja2 template, with the CSRF token worked out once per render, as Django's own templates do."""

    def render(self, context=None, request=None) -> str:
        if request is None:
            return super().render(context, request)
        context = {**(context or {}), "request": request, "csrf_token": _CsrfToken(request)}
        for context_processor in self.backend.template_context_processors:
            context.update(context_processor(request))
        return self.template.render(context)


class Jinja2Blocks(Jinja2):
    """Django's Jinja2 backend, with ``name#block`` for one block of a template."""

    def from_string(self, template_code: str) -> Template:
        return _Template(self.env.from_string(template_code), self)

    def get_template(self, template_name: str) -> Template:
        name, _, block = template_name.partition("#")
        template = super().get_template(name).template
        if block and block not in template.blocks:
            raise TemplateDoesNotExist(template_name, backend=self)
        return _Template(_Block(template, block) if block else template, self)
