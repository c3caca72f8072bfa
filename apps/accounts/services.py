"""Accounts: sign-up with email activation, password resets and roster invitations.

Every email goes through Celery and is rendered by the worker from ids, so tokens are made at sending time and a
slow mail server never holds up a request. Activation keys are django-registration's (a signed username, valid
for ACCOUNT_ACTIVATION_DAYS); reset and invitation links are Django's password-reset tokens (valid for
PASSWORD_RESET_TIMEOUT, and spent once the password changes).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal, get_args
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django_registration import signals
from django_registration.backends.activation import REGISTRATION_SALT

from apps.core.enqueue import enqueue_on_commit

logger = logging.getLogger(__name__)

EmailKind = Literal["activation", "password_reset", "invitation"]
EMAIL_KINDS = get_args(EmailKind)


def next_url_safe(url: str | None, *, host: str) -> str:
    """``url`` if it is a path on this site (where login, sign-up and activation may send the user on), else ''."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={host}, require_https=False) and url.startswith("/"):
        return url
    return ""


def account_register(*, form, site_url: str, next_url: str = "", request=None):
    """Create the inactive account from a valid sign-up form and email its activation link (after commit)."""
    with transaction.atomic():
        user = form.save(commit=False)
        user.is_active = False
        user.save()
        account_email_queue(user_ids=[user.pk], kind="activation", site_url=site_url, next_url=next_url)
    signals.user_registered.send(sender=account_register, user=user, request=request)
    logger.info("account registered", extra={"user_id": user.pk})
    return user


def account_activate(*, user) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])
    logger.info("account activated", extra={"user_id": user.pk})


def account_email_queue(
    *, user_ids: list[int], kind: EmailKind, site_url: str, next_url: str = "", cohort_id: int | None = None
) -> None:
    """Once the current transaction commits, queue one ``kind`` email for each user.

    With the broker unreachable the emails are sent from this process instead: no table re-sends a lost email,
    and waiting for a mail server beats a candidate who never gets their link."""
    from apps.accounts.tasks import account_email_send as task

    for user_id in user_ids:
        # In the order of the task's parameters: it is sent positionally.
        params = {"user_id": user_id, "kind": kind, "site_url": site_url, "next_url": next_url, "cohort_id": cohort_id}

        def send_here(exc: Exception, params: dict = params) -> None:
            logger.warning("broker unreachable, sending the %s email from the web process: %s", kind, exc)
            try:
                account_email_send(**params)
            except OSError as mail_exc:  # smtplib's errors are OSErrors too
                logger.error("%s email to user %s not sent: %s", kind, params["user_id"], mail_exc)

        enqueue_on_commit(task, *params.values(), on_outage=send_here)


def account_email_send(
    *, user_id: int, kind: str, site_url: str, next_url: str = "", cohort_id: int | None = None
) -> bool:
    """Render and send one account email; False (and nothing sent) when it no longer applies: no such user, no
    address, an account already activated, or a reset for an account that is switched off."""
    if kind not in EMAIL_KINDS:
        raise ValueError(f"unknown account email {kind!r}")
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return False
    base = site_url.rstrip("/")
    if kind == "activation":
        if user.is_active:
            return False
        query = {"activation_key": signing.dumps(obj=user.get_username(), salt=REGISTRATION_SALT)}
        if next_url:
            query["next"] = next_url
        link = f"{base}{reverse('activate')}?{urlencode(query)}"
    else:
        if not user.is_active:
            return False
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        link = base + reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    context = {
        "user": user,
        "link": link,
        "site_url": base,
        "activation_days": settings.ACCOUNT_ACTIVATION_DAYS,
        "reset_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "cohort": _cohort(cohort_id),
    }
    # One line: a newline in a subject would let a template inject headers.
    subject = "".join(render_to_string(f"accounts/email/{kind}_subject.txt", context).splitlines())
    body = render_to_string(f"accounts/email/{kind}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    logger.info("account email sent", extra={"user_id": user.pk, "kind": kind})
    return True


def _cohort(cohort_id: int | None):
    if cohort_id is None:
        return None
    from apps.cohorts.models import Cohort

    return Cohort.objects.select_related("organisation").filter(pk=cohort_id).first()


def accounts_unactivated_purge(*, now=None) -> int:
    """Delete sign-ups never activated within ACCOUNT_ACTIVATION_DAYS (their link has expired), so an abandoned
    sign-up does not hold its username and email for ever. Accounts that have ever logged in (switched off by
    staff, say), staff accounts and accounts in a group are kept."""
    now = now or timezone.now()
    stale = get_user_model().objects.filter(
        is_active=False,
        is_staff=False,
        is_superuser=False,
        last_login__isnull=True,
        groups__isnull=True,
        date_joined__lt=now - timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS),
    )
    _, per_model = stale.delete()
    return per_model.get(get_user_model()._meta.label, 0)


TEXT_SIZE_SESSION_KEY = "text_size"


def preference_text_size_set(*, user, size: str, session=None) -> str:
    """Remember the text size a person reads in, on their account; ``session`` keeps a copy so that pages need
    no query to know it. Unknown sizes are refused with ValueError."""
    from apps.accounts.models import Preference, TextSize

    if size not in TextSize.values:
        raise ValueError(f"text size: {size!r} is not one of {', '.join(TextSize.values)}.")
    Preference.objects.update_or_create(user=user, defaults={"text_size": size})
    if session is not None:
        session[TEXT_SIZE_SESSION_KEY] = size
    return size


def preference_text_size(*, user, session) -> str:
    """The person's text size: from the session when known there, else from their account (once per session)."""
    from apps.accounts.models import Preference, TextSize

    size = session.get(TEXT_SIZE_SESSION_KEY)
    if size not in TextSize.values:
        size = Preference.objects.filter(user=user).values_list("text_size", flat=True).first() or TextSize.NORMAL
        session[TEXT_SIZE_SESSION_KEY] = size
    return size


def preference_exam_set(*, user, exam) -> None:
    """Practise for this exam version from now on: mocks, practice, review and progress all follow it."""
    from apps.accounts.models import Preference

    Preference.objects.update_or_create(user=user, defaults={"exam": exam})
