"""The deadline passes while the candidate's browser is offline: the sweeper submits the saved answers, and the
page shows the results as soon as the browser is back online.

tests/browser/test_exam_flow.py covers time running out online (the page itself asks the server to finalise);
here the page cannot reach the server, so only the sweeper can finalise the attempt."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.exams.models import GRACE_SECONDS, Attempt, AttemptItem, AttemptState
from apps.exams.tasks import attempts_sweep
from tests.browser.conftest import go_to, login, mock_begin
from tests.exams.factories import bank_build

pytestmark = [pytest.mark.faults, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_deadline_passing_offline_is_swept_and_the_results_show_once_back_online(page, exam, candidate):
    # given: a candidate with an answer saved in a mock whose time is nearly up
    bank_build(exam)
    login(page, "cand", "pw-cand-123")
    mock_begin(page)
    attempt = Attempt.objects.get(candidate=candidate)
    answered, unsaved = attempt.items.filter(question__type="single").order_by("position")[:2]
    go_to(page, attempt, answered.position)
    page.get_by_role("radio").first.check()
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=6))
    go_to(page, attempt, unsaved.position)

    # when: the connection drops; an answer given offline cannot be saved, and the countdown reaches zero
    page.context.set_offline(True)
    page.get_by_role("radio").first.check()
    expect(page.locator("#save-status")).to_contain_text("Not saved")
    expect(page.locator("#timer-warning")).to_contain_text("Time is up", timeout=15_000)
    page.wait_for_timeout(3_000)  # the page tries to open the results, and cannot

    # then: the exam page stays (not the browser's error page) and says what happens to the answers
    assert page.url.endswith(f"/exams/a/{attempt.pk}/q/{unsaved.position}/")
    expect(page.locator("#timer-warning")).to_contain_text("the connection is down")

    # when: the grace period is over and the sweeper runs, as beat runs it every minute
    past = timezone.now() - timedelta(seconds=GRACE_SECONDS + 1)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=past, next_check_at=past + timedelta(seconds=GRACE_SECONDS))
    assert attempts_sweep() == 1

    # then: the attempt is submitted by the sweeper with exactly the answers saved before the connection dropped
    attempt.refresh_from_db()
    assert attempt.submitted_by == "sweeper"
    assert attempt.state == AttemptState.SCORED  # tests score in-process (eager Celery)
    assert AttemptItem.objects.get(pk=answered.pk).answer is not None
    assert AttemptItem.objects.get(pk=unsaved.pk).answer is None

    # when / then: back online, the page shows the results at once, without the candidate doing anything
    page.context.set_offline(False)
    expect(page.locator("#scaled-score")).to_be_visible(timeout=5_000)
    expect(page.get_by_text("time ran out")).to_be_visible()
