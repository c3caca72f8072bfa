"""The weekly digest email to leads who turn it on: its content, its opt-in and turn-off, and one email a week."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from apps.cohorts.models import (
    Assignment,
    AssignmentAttempt,
    CohortMember,
    DigestSubscription,
    Membership,
    MemberStat,
    Organisation,
    Role,
)
from apps.cohorts.selectors import cohort_digest
from apps.cohorts.services import cohort_create, cohort_digest_send, cohort_digests_send, digest_subscribe
from apps.cohorts.tasks import cohort_digests_send as cohort_digests_send_task
from apps.exams.models import Attempt

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # a Wednesday
SITE = "https://practice.example.org/"


@pytest.fixture
def cohort(lead, exam):
    lead.email = "lead@example.org"
    lead.save()
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


def _member(cohort, username: str, *, joined_days_ago: int, **stat):
    user = get_user_model().objects.create_user(username)
    member = CohortMember.objects.create(cohort=cohort, user=user, via="lead")
    CohortMember.objects.filter(pk=member.pk).update(joined_at=NOW - timedelta(days=joined_days_ago))
    if stat:
        MemberStat.objects.create(cohort=cohort, user=user, **stat)
    return user


@pytest.fixture
def seeded(cohort, lead):
    ana = _member(
        cohort,
        "ana",
        joined_days_ago=40,
        latest_scaled=780,
        trend=40,
        attempts=4,
        last_active=NOW - timedelta(days=1),
        tasks={"1.1": [9, 10], "2.1": [2, 10]},
    )
    _member(cohort, "ben", joined_days_ago=40, latest_scaled=650, attempts=2, last_active=NOW - timedelta(days=20))
    _member(
        cohort,
        "cai",
        joined_days_ago=40,
        latest_scaled=690,
        trend=-20,
        attempts=3,
        last_active=NOW - timedelta(days=2),
        tasks={"2.1": [1, 10], "3.1": [3, 4]},
    )
    _member(cohort, "dee", joined_days_ago=2)
    _member(cohort, "eve", joined_days_ago=30)
    due_soon = Assignment.objects.create(
        cohort=cohort, kind="mock", title="Mock 2", due_at=NOW + timedelta(days=3), size=65, created_by=lead
    )
    Assignment.objects.create(
        cohort=cohort, kind="mock", title="Final mock", due_at=NOW + timedelta(days=40), size=65, created_by=lead
    )
    attempt = Attempt.objects.create(
        candidate=ana, exam=cohort.exam, mode="mock", item_count=65, started_at=NOW, state="submitted"
    )
    AssignmentAttempt.objects.create(assignment=due_soon, attempt=attempt, user=ana)
    return cohort


def test_the_digest_names_the_ready_the_stalled_the_weakest_tasks_and_whats_due(seeded):
    digest = cohort_digest(cohort=seeded, now=NOW)

    assert digest.members == 5
    assert [(p.username, p.detail) for p in digest.ready] == [("ana", "latest mock 780")]
    assert [(p.username, p.detail) for p in digest.stalled] == [
        ("ben", "no activity since 2026-02-19"),
        ("cai", "latest mock 690, -20 on the one before"),
        ("eve", "no activity since joining"),
    ]
    assert [(t["code"], t["percent"]) for t in digest.weakest_tasks] == [("2.1", 15), ("1.1", 90)]
    assert [(r["assignment"].title, r["done"], r["started"], r["members"]) for r in digest.assignments] == [
        ("Mock 2", 1, 1, 5)
    ]


def test_the_email_has_html_and_text_with_the_dashboard_and_turn_off_links(seeded, lead):
    subscription = digest_subscribe(cohort=seeded, lead=lead, site_url=SITE)

    assert cohort_digest_send(subscription_id=subscription.pk, now=NOW) is True

    (email,) = mail.outbox
    html = {mime: body for body, mime in email.alternatives}["text/html"]
    dashboard = f"https://practice.example.org/cohorts/{seeded.pk}/"
    assert email.to == ["lead@example.org"]
    assert email.subject == "Spring bootcamp: week of 9 Mar 2026 (1 ready, 3 stalled)"
    for body in (email.body, html):
        assert dashboard in body
        assert "https://practice.example.org/cohorts/digest/off/" in body
        assert "ana" in body
        assert "no activity since 2026-02-19" in body
        assert "2.1" in body
        assert "Mock 2" in body
    assert "Final mock" not in email.body
    assert "<table" in html
    assert "<" not in email.body.replace("<https", "")
    assert email.extra_headers["List-Unsubscribe"].startswith("<https://practice.example.org/cohorts/digest/off/")


def test_running_the_weekly_task_twice_sends_once_and_next_week_again(seeded, lead):
    digest_subscribe(cohort=seeded, lead=lead, site_url=SITE)

    cohort_digests_send_task.delay()
    cohort_digests_send_task.delay()
    again_same_week = cohort_digests_send(now=datetime.now(tz=UTC) + timedelta(minutes=5))
    next_week = cohort_digests_send(now=datetime.now(tz=UTC) + timedelta(days=7))

    assert (again_same_week, next_week) == (0, 1)
    assert len(mail.outbox) == 2


def test_leads_who_did_not_opt_in_or_turned_it_off_get_nothing(client, seeded, lead):
    # given: a second lead never opts in; the first opts in, then follows the email's turn-off link
    other = get_user_model().objects.create_user("lead2", email="lead2@example.org")
    seeded.leads.add(other)
    subscription = digest_subscribe(cohort=seeded, lead=lead, site_url=SITE)
    cohort_digest_send(subscription_id=subscription.pk, now=NOW)
    off_url = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>").removeprefix("https://practice.example.org")
    mail.outbox.clear()

    # when
    confirm = client.get(off_url).content.decode()
    still_on = DigestSubscription.objects.filter(pk=subscription.pk).exists()
    done = client.post(off_url).content.decode()
    sent = cohort_digests_send(now=NOW + timedelta(days=7))

    # then
    assert "Stop the weekly digest of <strong>Spring bootcamp</strong>" in confirm
    assert still_on  # a GET (a mail scanner opening the link) changes nothing
    assert "is off" in done
    assert sent == 0
    assert mail.outbox == []


def test_a_broken_turn_off_link_says_so(client):
    response = client.get(reverse("cohorts:digest-off", args=["not-a-token"]))

    assert "the link is not complete" in response.content.decode()


def test_a_lead_turns_the_digest_on_and_off_from_the_cohorts_page(client, cohort, lead):
    client.force_login(lead)

    client.post(reverse("cohorts:digest", args=[cohort.pk]), {"digest": "on"})
    page_on = client.get(reverse("cohorts:home")).content.decode()
    client.post(reverse("cohorts:digest", args=[cohort.pk]), {"digest": "off"})
    page_off = client.get(reverse("cohorts:home")).content.decode()

    assert "Turn off the weekly digest" in page_on
    assert "Email me a weekly digest" in page_off
    assert not DigestSubscription.objects.exists()


def test_only_the_cohorts_leads_can_opt_in_and_a_lead_without_email_is_told(client, cohort, candidate, lead):
    client.force_login(candidate)
    assert client.post(reverse("cohorts:digest", args=[cohort.pk]), {"digest": "on"}).status_code == 404

    lead.email = ""
    lead.save()
    client.force_login(lead)
    response = client.post(reverse("cohorts:digest", args=[cohort.pk]), {"digest": "on"}, follow=True)

    assert "Your account has no email address" in response.content.decode()
    assert not DigestSubscription.objects.exists()


def test_a_lead_removed_from_the_cohort_is_not_sent_its_digest(seeded, lead):
    subscription = digest_subscribe(cohort=seeded, lead=lead, site_url=SITE)
    seeded.leads.remove(lead)

    assert cohort_digest_send(subscription_id=subscription.pk, now=NOW) is False
    assert mail.outbox == []


def test_a_refused_email_is_sent_again_by_the_next_run(seeded, lead, monkeypatch):
    subscription = digest_subscribe(cohort=seeded, lead=lead, site_url=SITE)

    def mail_server_down(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", mail_server_down)
        first = cohort_digests_send(now=NOW)
    subscription.refresh_from_db()
    claim_after_failure = subscription.sent_week
    second = cohort_digests_send(now=NOW + timedelta(hours=1))

    assert (first, claim_after_failure, second) == (0, None, 1)
    assert len(mail.outbox) == 1
