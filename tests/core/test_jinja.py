"""The Jinja2 engine of the exam screens (apps/core/jinja.py): one block of a template alone, the CSRF token
masked once per page, Django's template semantics where the exam templates rely on them, and the two bridges
between the engines."""

import pytest
from django.middleware.csrf import CSRF_TOKEN_LENGTH, _unmask_cipher_token, get_token
from django.template import Context, Template, TemplateDoesNotExist, engines
from django.test import RequestFactory

from apps.exams.selectors import ItemCell

jinja = engines["jinja2"]


def test_one_block_renders_alone_with_the_whole_context():
    rendered = jinja.get_template("exams/_scratchpad.html#scratchpad_status").render({"error": "too long"})

    assert rendered == '<span id="scratchpad-status" class="save-status error" role="status">Not saved: too long</span>'


def test_a_block_that_does_not_exist_is_a_missing_template():
    with pytest.raises(TemplateDoesNotExist):
        jinja.get_template("exams/_scratchpad.html#no_such_block")
    with pytest.raises(TemplateDoesNotExist):
        jinja.get_template("exams/no_such_template.html")


def test_the_csrf_token_is_masked_once_per_render_and_afresh_for_the_next():
    request = RequestFactory().get("/")
    template = jinja.from_string("{{ csrf_token }} {{ csrf_token }}")

    first, again = template.render({}, request).split()
    second = template.render({}, request).split()[0]

    assert first == again != second  # the same token in every form of a page; a new mask on the next (BREACH)
    assert len(first) == CSRF_TOKEN_LENGTH
    secret = _unmask_cipher_token(get_token(request))
    assert _unmask_cipher_token(first) == _unmask_cipher_token(second) == secret


def test_a_fragment_without_a_form_does_not_mask_the_token_or_renew_the_cookie():
    request = RequestFactory().get("/")

    jinja.get_template("exams/_scratchpad.html#scratchpad_status").render({"saved": True}, request)

    assert "CSRF_COOKIE_NEEDS_UPDATE" not in request.META


def test_escaping_is_on_and_missing_variables_print_nothing_as_in_django():
    template = jinja.from_string("{{ text }}|{{ missing }}|{{ missing.attribute.deeper }}|{{ item.position }}")

    assert template.render({"text": "<b>&"}) == "&lt;b&gt;&amp;|||"


def test_a_django_template_includes_a_jinja_one_with_its_context():
    page = Template('{% load jinja %}<ol>{% jinja "exams/_navigator.html" link_attempt_id=7 %}</ol>')
    progress = {"answered": 1, "incomplete": 0, "unanswered": 1, "flagged": 0}
    cells = [ItemCell(1, "answered", False), ItemCell(2, "unanswered", True)]

    rendered = page.render(Context({"progress": {**progress, "cells": cells}, "current": 2}))

    assert "1 answered, 0 incomplete, 1 unanswered, 0 flagged" in rendered
    link = '<a href="/exams/a/7/q/2/" class="cell" aria-label="Question 2, unanswered, flagged" aria-current="step">'
    assert link in rendered


def test_a_jinja_template_includes_a_django_one_with_its_context():
    template = jinja.from_string('{{ django_include("no/such/template.html") }}')
    with pytest.raises(TemplateDoesNotExist):  # a name Django's engine does not know is not silently empty
        template.render({})

    included = jinja.from_string('{{ django_include("exams/_item_review.html") }}').render(
        {"review": {"kind": "single", "chosen_letters": ["B"], "correct_letters": ["A"], "options": []}}
    )
    assert "<strong>Your answer:</strong> B. <strong>Correct answer:</strong> A." in included


def test_a_form_through_the_bridge_carries_the_django_templates_csrf_token():
    page = Template('{% load jinja %}{% jinja "accounts/_text_size.html" %}')
    request = RequestFactory().get("/accounts/")

    rendered = page.render(Context({"csrf_token": "t0ken", "request": request, "text_sizes": []}))

    assert '<input type="hidden" name="csrfmiddlewaretoken" value="t0ken">' in rendered
