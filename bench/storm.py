"""Deadline storm: every candidate of a cohort submits within the same 10 seconds, through gunicorn, while real
Celery worker processes score the attempts and update the cohort's dashboard aggregates.

Figures: every submit answered (statuses; anything but 2xx/3xx is an error), submit latency, and the time from
the first submit until every attempt is scored, and until the cohort's aggregates count every attempt (both
found by polling the database).
"""

from __future__ import annotations

import threading
import time

from bench.loadgen import Request, open_loop

SECONDS = 10.0
SCORED_TIMEOUT = 240.0  # seconds from the first submit: give up waiting for the scoring after this
COUNTED_CAP = 100.0  # seconds from the first submit: stop waiting for the dashboards' aggregates after this


def _poll(ids: list[int], cohort_id: int, marks: dict[str, float], stop: threading.Event) -> None:
    """Record when every attempt is scored and when the cohort has counted every one (or how many it has
    counted when the wait ends)."""
    from django.db import connection

    from apps.cohorts.models import CountedAttempt
    from apps.exams.models import Attempt, AttemptState

    try:
        while not stop.is_set():
            now = time.perf_counter()
            began = marks.get("began")
            if "scored" not in marks and (
                Attempt.objects.filter(pk__in=ids, state=AttemptState.SCORED).count() == len(ids)
            ):
                marks["scored"] = now
            marks["counted_n"] = CountedAttempt.objects.filter(cohort_id=cohort_id, attempt_id__in=ids).count()
            marks["counted_at"] = now
            if marks["counted_n"] == len(ids):
                marks["counted"] = now
            if began is not None and (
                ("scored" in marks and ("counted" in marks or now - began > COUNTED_CAP))
                or now - began > SCORED_TIMEOUT
            ):
                return
            time.sleep(0.1)
    finally:
        connection.close()


def run(*, base: str, clients: list[dict], cohort_id: int) -> dict:
    """Submit every client's attempt at a steady rate over ``SECONDS`` seconds (open loop: a slow answer does
    not delay the next candidate) and wait for the scoring to finish."""
    from django.db.models import Count

    from apps.exams.models import Attempt, AttemptState

    ids = [c["attempt"] for c in clients]
    assert Attempt.objects.filter(pk__in=ids, state=AttemptState.IN_PROGRESS).count() == len(ids)
    queue = iter(clients)

    def submit() -> Request:
        c = next(queue)
        return Request("POST", f"/exams/a/{c['attempt']}/submit/", c["cookies"], c["csrf"], {})

    marks: dict[str, float] = {}
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(ids, cohort_id, marks, stop), daemon=True)
    poller.start()
    try:
        result = open_loop(base, submit, rate=len(clients) / SECONDS, seconds=SECONDS)
        marks["began"] = result.began
        poller.join(timeout=SCORED_TIMEOUT + 30)
    finally:
        stop.set()
        poller.join(timeout=10)
    states = dict(Attempt.objects.filter(pk__in=ids).values_list("state").annotate(n=Count("pk")))
    return {
        "candidates": len(ids),
        "seconds": SECONDS,
        "sent": result.sent,
        "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "p50": result.percentile(50),
        "p99": result.percentile(99),
        "max": max(result.latencies_ms),
        "submit_window": result.seconds,
        "to_scored": marks["scored"] - result.began if "scored" in marks else None,
        "to_counted": marks["counted"] - result.began if "counted" in marks else None,
        "counted_n": marks.get("counted_n", 0),
        "counted_after": marks["counted_at"] - result.began if "counted_at" in marks else None,
        "states": states,
    }
