"""Scorings of different attempts run side by side: each locks its own attempt and nothing shared."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction

from apps.exams.models import Attempt, AttemptState
from apps.exams.services import attempt_start_mock
from apps.scoring.services import attempt_score_compute
from tests.exams.factories import bank_build

pytestmark = pytest.mark.django_db(transaction=True)


def submitted(exam, name: str) -> Attempt:
    attempt = attempt_start_mock(candidate=get_user_model().objects.create_user(name), exam=exam, seed=3)
    Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SUBMITTED)  # no scoring queued
    return attempt


def test_a_scoring_does_not_wait_for_another_scoring_of_the_same_exam(exam):
    bank_build(exam)
    first, second = submitted(exam, "first"), submitted(exam, "second")
    holding, release = threading.Event(), threading.Event()

    def score_and_hold() -> None:
        # the first scoring, paused inside its transaction (after its locks are taken)
        try:
            with transaction.atomic():
                attempt_score_compute(attempt_id=first.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=score_and_hold)
    other.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a lock wait fails the test instead of hanging it
        result = attempt_score_compute(attempt_id=second.pk)
    finally:
        release.set()
        other.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert result is not None
    assert set(Attempt.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)) == {"scored"}
