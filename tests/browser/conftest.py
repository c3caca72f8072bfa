"""Real-browser tests: Playwright drives Debian's Chromium against Django's live server."""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# The session's `browser` fixture is in tests/conftest.py: tests/faults drives it too, and Playwright's sync API
# allows one instance at a time.
@pytest.fixture
def page(browser, live_server):
    """A tab on the live server. Anything the Content-Security-Policy blocks fails the test."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    yield page
    context.close()
    assert blocked == [], "the page needed something the Content-Security-Policy blocks"


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def axe_violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """Serious and critical WCAG 2.1 A/AA violations on the current page, from axe-core.

    ``exclude`` leaves out parts that are not ours (Django admin's own breadcrumbs, say).
    """
    # Evaluated through the DevTools protocol, not as a <script> tag, which our CSP would (rightly) block.
    page.evaluate(AXE.read_text())
    tags = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']"
    context = json.dumps({"exclude": [[selector] for selector in exclude]}) if exclude else "document"
    result = page.evaluate(f"async () => await axe.run({context}, {{runOnly: {{type: 'tag', values: {tags}}}}})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
