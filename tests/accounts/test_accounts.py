"""Accounts: sign up, activate, log in, reset a password, and be invited from a roster; every email is read
from the outbox and its link followed, as the person receiving it would."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import accounts_unactivated_purge
from apps.cohorts.models import CohortMember, Membership, Organisation, Role
from apps.cohorts.services import cohort_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Practice-pass-42"
LINK = re.compile(r"http://testserver(/\S+)")


def link_in(message) -> str:
    """The path of the one link in an email."""
    (path,) = LINK.findall(message.body)
    return path


def signup(client, capture, username="ada", email="ada@example.com", **extra):
    with capture(execute=True):
        return client.post(
            reverse("signup"),
            {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD, **extra},
        )


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_a_newcomer_signs_up_activates_from_the_email_and_logs_in(client, capture, mailoutbox):
    # when: someone signs up
    response = signup(client, capture)

    # then: an inactive account, and an activation email to the address given
    assert response.status_code == 302
    assert response["Location"] == reverse("signup-done")
    user = get_user_model().objects.get(username="ada")
    assert not user.is_active
    assert [message.to for message in mailoutbox] == [["ada@example.com"]]
    assert mailoutbox[0].subject == "Activate your MLA practice account"
    assert client.post(reverse("login"), {"username": "ada", "password": PASSWORD}).status_code == 200  # not yet

    # when: they open the link (a mail scanner fetching it activates nothing) and press the button
    page = client.get(link_in(mailoutbox[0]))
    assert page.status_code == 200
    assert not get_user_model().objects.get(username="ada").is_active
    key = page.context["form"]["activation_key"].value()
    activated = client.post(reverse("activate"), {"activation_key": key}, follow=True)

    # then: the account is active and they can log in
    assert "Your account ada is active" in activated.text
    assert get_user_model().objects.get(username="ada").is_active
    logged_in = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert logged_in.status_code == 302
    assert client.get(reverse("account")).context["user"].get_username() == "ada"


def test_an_invite_link_survives_sign_up_and_activation(client, capture, mailoutbox, lead, exam):
    # given: a cohort's invite link, opened by someone without an account
    organisation = Organisation.objects.create(name="Acme", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    cohort = cohort_create(organisation=organisation, exam=exam, name="Spring", by=lead)
    invite = reverse("cohorts:join-invite", args=[cohort.invite_token])
    login_page = client.get(invite, follow=True)
    assert f"{reverse('signup')}?next={invite}" in login_page.text

    # when: they sign up from there, activate, and log in
    signup(client, capture, next=invite)
    page = client.get(link_in(mailoutbox[0]))
    key = page.context["form"]["activation_key"].value()
    activated = client.post(reverse("activate"), {"activation_key": key, "next": page.context["next"]})
    login = client.post(activated["Location"], {"username": "ada", "password": PASSWORD, "next": invite})

    # then: they land on the invitation, and can join
    assert login["Location"] == invite
    client.post(invite)
    assert CohortMember.objects.filter(cohort=cohort, user__username="ada").exists()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_sign_up_never_sends_anyone_off_the_site(client, capture, mailoutbox, next_url):
    signup(client, capture, next=next_url)

    assert "evil" not in mailoutbox[0].body
    assert "javascript" not in mailoutbox[0].body
    page = client.get(link_in(mailoutbox[0]))
    key = page.context["form"]["activation_key"].value()
    activated = client.post(reverse("activate"), {"activation_key": key, "next": next_url})
    assert activated["Location"] == reverse("login")


def test_taken_names_and_addresses_are_refused_whatever_their_case(client, capture, mailoutbox):
    signup(client, capture)

    again = signup(client, capture, username="ADA", email="Ada@Example.com")

    assert again.status_code == 200
    errors = again.context["form"].errors
    assert "username" in errors
    assert "email" in errors
    assert get_user_model().objects.count() == 1
    assert len(mailoutbox) == 1


def test_weak_passwords_and_reserved_names_are_explained(client, capture):
    response = signup(client, capture, username="admin", password1="12345678", password2="12345678")

    errors = response.context["form"].errors
    assert "username" in errors
    assert "password2" in errors
    assert "too common" in response.text
    assert not get_user_model().objects.exists()


def test_a_tampered_or_expired_activation_link_activates_nothing(client, capture, mailoutbox):
    signup(client, capture)
    page = client.get(link_in(mailoutbox[0]))
    key = page.context["form"]["activation_key"].value()

    tampered = client.post(reverse("activate"), {"activation_key": key[:-2] + "xx"})
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        expired = client.post(reverse("activate"), {"activation_key": key})

    assert "This activation link is not valid" in tampered.text
    assert "This activation link is not valid" in expired.text
    assert not get_user_model().objects.get(username="ada").is_active


def test_an_activation_link_used_twice_says_so(client, capture, mailoutbox):
    signup(client, capture)
    key = client.get(link_in(mailoutbox[0])).context["form"]["activation_key"].value()
    client.post(reverse("activate"), {"activation_key": key})

    again = client.post(reverse("activate"), {"activation_key": key})

    assert "already been activated" in again.text


def test_sign_up_can_be_closed(client, capture, settings, mailoutbox):
    settings.REGISTRATION_OPEN = False

    response = signup(client, capture)

    assert response["Location"] == reverse("signup-closed")
    assert not get_user_model().objects.exists()
    assert "Create an account" not in client.get(reverse("login")).text


def test_a_forgotten_password_is_reset_through_a_link_that_works_once(client, capture, mailoutbox):
    get_user_model().objects.create_user("grace", email="grace@example.com", password="old-Pass-word-99")

    # when: she asks for a link (and someone asks for an unknown address: the same answer, no email)
    with capture(execute=True):
        asked = client.post(reverse("password_reset"), {"email": "GRACE@example.com"})
        unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert asked["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [message.to for message in mailoutbox] == [["grace@example.com"]]

    # when: she follows it and chooses a password
    form = client.get(link_in(mailoutbox[0]), follow=True)
    assert "For the account <strong>grace</strong>" in form.text
    saved = client.post(form.request["PATH_INFO"], {"new_password1": PASSWORD, "new_password2": PASSWORD})

    # then: the new password works, the old does not, and the link is spent
    assert saved["Location"] == reverse("password_reset_complete")
    assert get_user_model().objects.get(username="grace").check_password(PASSWORD)
    assert "This link is not valid" in client.get(link_in(mailoutbox[0]), follow=True).text


def test_people_added_from_a_roster_are_invited_to_choose_a_password(client, capture, mailoutbox, lead, exam):
    # given: a lead uploads a roster with two new people, one without an email address
    organisation = Organisation.objects.create(name="Acme", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    cohort = cohort_create(organisation=organisation, exam=exam, name="Spring", by=lead)
    client.force_login(lead)
    roster = SimpleUploadedFile("team.csv", b"username,email,first_name\nlin,lin@example.com,Lin\nmo,,Mo\n")

    with capture(execute=True):
        response = client.post(reverse("cohorts:roster", args=[cohort.pk]), {"roster": roster}, follow=True)

    # then: the lead is told who was emailed and who cannot log in yet
    assert "1 new people were emailed a link to choose their password" in response.text
    assert "1 new accounts have no email address" in response.text
    assert [message.to for message in mailoutbox] == [["lin@example.com"]]
    assert mailoutbox[0].subject == "Acme added you to Spring on MLA practice"
    assert "Your username is: lin" in mailoutbox[0].body

    # when: Lin follows the link and chooses a password
    client.logout()
    form = client.get(link_in(mailoutbox[0]), follow=True)
    client.post(form.request["PATH_INFO"], {"new_password1": PASSWORD, "new_password2": PASSWORD})

    # then: Lin logs in, already a member of the cohort
    assert client.post(reverse("login"), {"username": "lin", "password": PASSWORD}).status_code == 302
    assert CohortMember.objects.filter(cohort=cohort, user__username="lin").exists()


def test_roster_people_without_a_password_can_still_ask_for_a_link(client, capture, mailoutbox):
    get_user_model().objects.create_user("lin", email="lin@example.com")  # unusable password, as from a roster

    with capture(execute=True):
        client.post(reverse("password_reset"), {"email": "lin@example.com"})

    assert [message.to for message in mailoutbox] == [["lin@example.com"]]


def test_staff_email_a_password_link_from_the_admin(admin_client, capture, mailoutbox):
    users = get_user_model().objects
    lin = users.create_user("lin", email="lin@example.com")
    nobody = users.create_user("nobody")

    with capture(execute=True):
        response = admin_client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "password_link_send", "_selected_action": [lin.pk, nobody.pk]},
            follow=True,
        )

    assert "on its way to 1 people" in response.text
    assert "1 were skipped" in response.text
    assert [message.to for message in mailoutbox] == [["lin@example.com"]]


def test_sign_ups_and_reset_requests_are_limited_per_address(client, capture, settings, mailoutbox):
    settings.SIGNUP_RATE = "2/h"
    settings.PASSWORD_RESET_RATE = "2/h"

    statuses = [signup(client, capture, username=f"u{n}", email=f"u{n}@example.com").status_code for n in range(3)]
    elsewhere = client.post(reverse("signup"), {"username": "v"}, REMOTE_ADDR="10.1.2.3")
    resets = [
        client.post(reverse("password_reset"), {"email": f"x{n}@example.com"}, REMOTE_ADDR="10.9.9.9").status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert "Too many requests" in client.post(reverse("signup"), {}).text
    assert elsewhere.status_code == 200  # another address is not affected
    assert resets == [302, 302, 429]
    assert get_user_model().objects.count() == 2


def test_reset_requests_for_one_address_are_limited_from_any_address(client, settings):
    settings.PASSWORD_RESET_RATE = "2/h"

    statuses = [
        client.post(reverse("password_reset"), {"email": " Grace@Example.com"}, REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]


def test_abandoned_sign_ups_are_purged_after_their_link_expires(client, capture, mailoutbox):
    signup(client, capture)
    signup(client, capture, username="bob", email="bob@example.com")
    get_user_model().objects.filter(username="bob").update(is_active=True)
    switched_off = get_user_model().objects.create_user("old", is_active=False)
    switched_off.last_login = timezone.now() - timedelta(days=30)
    switched_off.save()

    assert accounts_unactivated_purge() == 0
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        purged = accounts_unactivated_purge()

    assert purged == 1
    assert set(get_user_model().objects.values_list("username", flat=True)) == {"bob", "old"}


def test_the_account_page_shows_the_account_and_saves_a_name(client, candidate):
    client.force_login(candidate)

    page = client.get(reverse("account"))
    saved = client.post(reverse("account"), {"first_name": "Cand", "last_name": "Idate"}, follow=True)
    too_long = client.post(reverse("account"), {"first_name": "x" * 151, "last_name": ""})

    assert "cand" in page.text
    assert "Change your password" in page.text
    assert "Your name is saved" in saved.text
    assert get_user_model().objects.get(pk=candidate.pk).get_full_name() == "Cand Idate"
    assert too_long.status_code == 200
    assert "first_name" in too_long.context["form"].errors


def test_a_password_is_changed_with_the_old_one(client):
    user = get_user_model().objects.create_user("grace", password="old-Pass-word-99")
    client.force_login(user)

    wrong = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    right = client.post(
        reverse("password_change"),
        {"old_password": "old-Pass-word-99", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )

    assert "old_password" in wrong.context["form"].errors
    assert right["Location"] == reverse("password_change_done")
    assert get_user_model().objects.get(pk=user.pk).check_password(PASSWORD)
    assert client.get(reverse("account")).status_code == 200  # still logged in


def test_with_the_broker_down_the_email_is_sent_from_the_web_process(client, capture, mailoutbox, caplog):
    from tests.conftest import celery_broker
    from tests.faults.conftest import free_port

    get_user_model().objects.create_user("grace", email="grace@example.com")

    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"), capture(execute=True):  # nothing listens there
        response = client.post(reverse("password_reset"), {"email": "grace@example.com"})

    assert response["Location"] == reverse("password_reset_done")
    assert [message.to for message in mailoutbox] == [["grace@example.com"]]
    assert "sending the password_reset email from the web process" in caplog.text


def test_with_redis_down_sign_up_still_works_and_is_not_limited(client, capture, settings, mailoutbox):
    from tests.faults.conftest import free_port

    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    settings.SIGNUP_RATE = "1/h"

    statuses = [signup(client, capture, username=f"u{n}", email=f"u{n}@example.com").status_code for n in range(2)]

    assert statuses == [302, 302]  # the counter is unreachable: requests pass (axes still guards logins)
    assert len(mailoutbox) == 2
