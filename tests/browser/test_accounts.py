"""A newcomer creates an account in a real browser (under the real CSP), activates it from the email and logs in."""

import re

import pytest
from django.core import mail

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_sign_up_activate_and_log_in(page, live_server):
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    assert axe_violations(page) == []
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-Practice-pass-42")
    page.get_by_label("Password confirmation").fill("a-long-Practice-pass-42")
    page.get_by_role("button", name="Create the account").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    (link,) = re.findall(r"http://\S+", mail.outbox[0].body)
    page.goto(link)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Activate my account").click()
    page.get_by_text("Your account ada is active").wait_for()
    assert axe_violations(page) == []

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("a-long-Practice-pass-42")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out ada").wait_for()
