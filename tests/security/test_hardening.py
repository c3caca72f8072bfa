"""Headers, login throttling, cookies and hostile content: what an attacker meets."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from apps.questions.interchange import gift, moodlexml, native, qti
from apps.questions.interchange.base import Item
from apps.questions.interchange.importing import questions_import
from apps.questions.models import Question
from apps.questions.rules import ChoiceDraft, QuestionDraft
from tests.conftest import production_env
from tests.core.test_markdown import XSS_PAYLOADS, ActiveContentFinder

ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.django_db
def test_candidate_pages_forbid_inline_code(client, candidate, bank):
    from apps.exams.services import attempt_start_mock

    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=3)
    client.force_login(candidate)
    for url in ("/", reverse("exams:question", args=[attempt.pk, 1]), reverse("exams:review", args=[attempt.pk])):
        policy = _policy(client.get(url))
        assert policy["script-src"] == "script-src 'self'", url
        assert policy["style-src"] == "style-src 'self'", url
        assert policy["object-src"] == "object-src 'none'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert "unsafe-inline" not in " ".join(policy.values()), url


@pytest.mark.django_db
def test_the_admin_may_use_inline_styles_but_never_inline_scripts(instructor_client):
    policy = _policy(instructor_client.get(reverse("admin:questions_question_changelist")))

    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == "script-src 'self'"


def _login(client, password: str, **headers):
    return client.post(reverse("login"), {"username": "cand", "password": password}, **headers)


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_from_that_address(client, candidate):
    for _ in range(4):
        assert _login(client, "wrong").status_code == 200  # the form again, with an error
    assert _login(client, "wrong").status_code == 429  # the fifth failure locks

    locked = _login(client, "pw-cand-123")

    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # the right password from another address still works: an attacker cannot lock a candidate out everywhere
    assert _login(client, "pw-cand-123", REMOTE_ADDR="10.1.2.3").status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, candidate):
    for n in range(5):
        _login(client, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert _login(client, "pw-cand-123", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_client_address_comes_from_the_header(client, candidate, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    for _ in range(5):
        _login(client, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.2")

    assert _login(client, "pw-cand-123", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.2").status_code == 429
    # every client behind the same proxy is not punished for one attacker
    assert _login(client, "pw-cand-123", HTTP_X_FORWARDED_FOR="198.51.100.4, 10.0.0.2").status_code == 302


def test_production_cookies_are_secure_httponly_and_same_site():
    env = production_env()
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    assert result.stdout.split() == ["True", "True", "True", "Lax", "True", "True"]


def _hostile_items() -> list[Item]:
    items = []
    for n, payload in enumerate(XSS_PAYLOADS):
        draft = QuestionDraft(
            type="single",
            stem=f"Item {n}: which is safe? {payload}",
            explanation=f"Because. {payload}",
            task="1.1",
            objectives=["1.1.1"],
            choices=[
                ChoiceDraft(f"Option one {n} {payload}", f"Right. {payload}", correct=True),
                ChoiceDraft(f"Option two {n}", "Wrong."),
                ChoiceDraft(f"Option three {n}", "Wrong."),
            ],
        )
        items.append(Item(draft=draft))
    return items


MOODLE_HTML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="multichoice">
    <name><text>Hostile</text></name>
    <questiontext format="html"><text><![CDATA[<p>Pick one <img src=x onerror=alert(1)></p><script>alert(1)</script>
      <a href="javascript:alert(1)">docs</a><iframe src="https://evil.example"></iframe>]]></text></questiontext>
    <generalfeedback format="html"><text><![CDATA[<svg onload=alert(1)>why</svg>]]></text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="html"><text><![CDATA[<b onclick="alert(1)">Safe</b>]]></text>
      <feedback format="html"><text><![CDATA[<style>body{display:none}</style>ok]]></text></feedback></answer>
    <answer fraction="0" format="html"><text>Unsafe</text></answer>
  </question>
</quiz>
"""


@pytest.mark.django_db
@pytest.mark.parametrize("writer", [native, gift, moodlexml, qti], ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_hostile_markup_in_imported_files_renders_inert(exam, instructor_client, writer):
    exported = writer.export(_hostile_items(), [])
    files = [(exported.filename, exported.data)]
    if writer is moodlexml:
        files.append(("hostile.xml", MOODLE_HTML.encode()))

    for filename, data in files:
        report = questions_import(data=data, filename=filename, exam=exam, task="1.1")
        assert report.errors == [], report.errors

    assert Question.objects.count() >= len(XSS_PAYLOADS)

    def active_content(question_id: int) -> list[str]:
        page = instructor_client.get(reverse("admin:questions_question_preview", args=[question_id])).content.decode()
        shown = re.search(r'<div class="exam-preview">.*?</details>', page, re.S).group(0)
        finder = ActiveContentFinder()
        finder.feed(shown)
        return finder.found

    # The page's own controls (the option inputs, the author's <details>) are expected; items add nothing.
    # A smuggled <input onfocus> or <details ontoggle> still shows up through its handler attribute.
    page_controls = {"<input>", "<details>"}
    for question in Question.objects.all():
        found = [entry for entry in active_content(question.pk) if entry not in page_controls]
        assert found == [], (writer.__name__, question.stem)
