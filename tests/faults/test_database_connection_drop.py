"""PostgreSQL drops gunicorn's persistent connections (a failover, a restart, an idle-connection reaper)."""

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.db import connection

from apps.exams.services import attempt_start_mock
from tests.exams.factories import bank_build
from tests.faults.conftest import wait_for

pytestmark = pytest.mark.faults


def http_post(base: str, path: str, cookies: str, csrf: str, data: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        base + path,
        data=urlencode(data).encode(),
        method="POST",
        headers={"Cookie": cookies, "X-CSRFToken": csrf},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def backends_of(server) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [server.application_name])
        return {pid for (pid,) in cursor.fetchall()}


def test_requests_after_postgres_drops_gunicorns_connections_succeed(gunicorn_server, exam, candidate):
    # given: gunicorn (persistent connections) has served enough saves that its worker threads hold connections
    bank_build(exam)
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=1)
    positions = list(attempt.items.filter(question__type="single").values_list("position", flat=True))
    [(cookies, csrf)] = gunicorn_server.sessions([candidate])

    def save(n: int) -> tuple[int, str]:
        path = f"/exams/a/{attempt.pk}/q/{positions[n % len(positions)]}/answer/"
        return http_post(gunicorn_server.base, path, cookies, csrf, {"choice": str(1 + n % 4), "go": "autosave"})

    with ThreadPoolExecutor(24) as pool:
        assert {status for status, _ in pool.map(save, range(120))} == {200}
    held = backends_of(gunicorn_server)
    assert len(held) >= 2

    # when: PostgreSQL terminates every one of them
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [gunicorn_server.application_name],
        )
    assert wait_for(lambda: not backends_of(gunicorn_server) & held, timeout=10)

    # then: the very next requests succeed, one by one and concurrently, each in good time
    began = time.monotonic()
    sequential = [save(n) for n in range(24)]
    with ThreadPoolExecutor(12) as pool:
        concurrent = list(pool.map(save, range(48)))
    took = time.monotonic() - began
    responses = sequential + concurrent
    failed = [(status, body[:300]) for status, body in responses if status != 200 or "Saved at" not in body]
    assert failed == [], f"{len(failed)} of 72 requests failed after the connections dropped; first: {failed[0]}"
    assert took < 30
    replaced = backends_of(gunicorn_server)
    assert replaced
    assert not replaced & held  # every stale connection was noticed and replaced, none reused
