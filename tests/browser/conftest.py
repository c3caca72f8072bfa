"""Real-browser tests: Playwright drives Debian's Chromium against Django's live server."""

import json
import os
from contextlib import contextmanager
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
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# The session's `browser` fixture is in tests/conftest.py: tests/faults drives it too, and Playwright's sync API
# allows one instance at a time.
@contextmanager
def browser_page(browser, base_url: str, viewport: dict):
    """A tab at ``viewport``. Anything the Content-Security-Policy blocks, and any script error, fails the test."""
    context = browser.new_context(base_url=base_url, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on(
        "console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield page
    context.close()
    assert problems == [], "the page broke the Content-Security-Policy or raised a script error"


@pytest.fixture
def page(browser, live_server):
    """A desktop tab (1280×800) on the live server."""
    with browser_page(browser, live_server.url, DESKTOP) as tab:
        yield tab


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized tab (390×844) on the live server."""
    with browser_page(browser, live_server.url, PHONE) as tab:
        yield tab


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


def page_defects(page) -> list[str]:
    """What axe does not report but a screen-reader user meets: ids used twice, controls without an accessible
    name (read from Chromium's accessibility tree), and labels that name a control of another question."""
    problems = [
        f"id {name!r} is used {count} times"
        for name, count in page.evaluate(
            """() => { const seen = {}; for (const el of document.querySelectorAll('[id]')) {
                 seen[el.id] = (seen[el.id] || 0) + 1; }
               return Object.entries(seen).filter(([, n]) => n > 1); }"""
        )
    ]
    problems += page.evaluate(
        """() => [...document.querySelectorAll('label[for]')].filter(label => {
             const control = document.getElementById(label.htmlFor);
             return control && label.closest('article') !== control.closest('article');
           }).map(label => `label for ${label.htmlFor} names a control of another question`)"""
    )
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    controls = {"button", "link", "checkbox", "radio", "combobox", "textbox", "listbox", "spinbutton"}
    for node in nodes:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in controls:
            continue
        if not str(node.get("name", {}).get("value", "")).strip():
            problems.append(f"a {role} has no accessible name")
    return problems


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def timer_seconds(page) -> int:
    """The countdown as the candidate reads it."""
    parts = [int(part) for part in page.get_by_role("timer").inner_text().split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def server_remaining(attempt) -> float:
    """Seconds to the attempt's deadline by the server's clock, read fresh from the database."""
    from django.utils import timezone

    attempt.refresh_from_db()
    return (attempt.deadline - timezone.now()).total_seconds()


def assert_countdown_follows_server(page, attempt, tolerance: float = 2) -> None:
    """The countdown on screen is within ``tolerance`` seconds of the server's remaining time. The server is read
    just before and just after the screen, so however slow the machine, the true value lies between the two."""
    before = server_remaining(attempt)
    shown = timer_seconds(page)
    after = server_remaining(attempt)
    assert after - tolerance <= shown <= before + tolerance, (shown, before, after)


def mock_begin(page) -> None:
    """From the exams page through the instructions to question 1 of a new full mock."""
    from playwright.sync_api import expect

    page.goto("/exams/")
    page.get_by_role("link", name="Start a full mock").click()
    expect(page.get_by_role("heading", name="Full mock exam: before you begin")).to_be_visible()
    page.get_by_role("button", name="Begin the exam").click()
    expect(page.get_by_role("heading", name="Question 1 of")).to_be_visible()
    # The heading shows before the deferred exam.js has run on a busy machine; keys pressed then would do nothing.
    page.wait_for_load_state("domcontentloaded")


def go_to(page, attempt, position: int) -> None:
    """Open a question of the attempt by its address, as a bookmark or the browser's history would."""
    from playwright.sync_api import expect

    page.goto(f"/exams/a/{attempt.pk}/q/{position}/")
    expect(page.get_by_role("heading", name=f"Question {position} of", exact=False)).to_be_visible()
