"""Candidates answer a whole mock while gunicorn's workers are restarted: no acknowledged answer is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp
import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict

from apps.exams.models import AttemptItem
from apps.exams.presentation import QuestionKind, answer_from_post
from apps.exams.services import attempt_start_mock
from bench.run import WORKERS
from tests.exams.factories import bank_build

pytestmark = pytest.mark.faults

# Five candidates for each of gunicorn's request threads (bench's --workers x --threads): every thread is busy and
# more connections wait in the listen queue at each restart, which is what a restart can lose. The test is about
# losing nothing, not about throughput, so more candidates would only make it longer (200 took over a minute).
CANDIDATES = 5 * int(WORKERS[WORKERS.index("--workers") + 1]) * int(WORKERS[WORKERS.index("--threads") + 1])
RETRIES = 10  # like the exam page's own retry of an autosave that got no answer
# (share of all saves acknowledged, restart): SIGHUP reloads every worker gracefully; TERM stops one worker.
RESTARTS = [(0.2, signal.SIGHUP), (0.4, signal.SIGTERM), (0.6, signal.SIGHUP), (0.8, signal.SIGHUP)]


@dataclass(frozen=True)
class Save:
    attempt: int
    position: int
    fields: tuple[tuple[str, str], ...]
    expected: dict


@dataclass
class Outcome:
    acknowledged: list[Save] = field(default_factory=list)
    unacknowledged: list[Save] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    restarts: list[str] = field(default_factory=list)


def answer_fields(kind: str, presentation: dict, n: int) -> tuple[tuple[str, str], ...]:
    """A complete answer to one item as the exam form posts it, varying with ``n``."""
    if kind in ("single", "multiple"):
        count = len(presentation["choices"])
        picks = {n % count + 1} if kind == "single" else {n % count + 1, (n + 1) % count + 1}
        return tuple(("choice", str(pick)) for pick in sorted(picks))
    if kind == "ordering":
        count = len(presentation["steps"])
        return tuple((f"step-{i}", str((i + n) % count + 1)) for i in range(1, count + 1))
    count = len(presentation["responses"])
    return tuple((f"prompt-{i}", str((i + n) % count + 1)) for i in range(1, len(presentation["prompts"]) + 1))


def saves_for(attempt_id: int) -> list[Save]:
    """One save per question of the attempt, with the answer the server must store for it."""
    saves = []
    items = AttemptItem.objects.filter(attempt_id=attempt_id).order_by("position")
    for position, kind, presentation in items.values_list("position", "question__type", "presentation"):
        fields = answer_fields(kind, presentation, attempt_id + position)
        data = QueryDict(mutable=True)
        for name, value in fields:
            data.appendlist(name, value)
        saves.append(Save(attempt_id, position, fields, answer_from_post(QuestionKind(kind), presentation, data)))
    return saves


async def candidate_answers(session: aiohttp.ClientSession, base: str, client: dict, saves: list[Save], outcome):
    """One candidate's browser: each save in turn, retried until the server acknowledges it."""
    headers = {"Cookie": client["cookies"], "X-CSRFToken": client["csrf"]}
    for save in saves:
        url = f"{base}/exams/a/{save.attempt}/q/{save.position}/answer/"
        data = [*save.fields, ("go", "autosave"), ("seq", "1")]
        for retry in range(RETRIES):
            try:
                async with session.post(url, data=data, headers=headers) as r:
                    body = await r.text()
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome.failures[type(exc).__name__] += 1
            else:
                if r.status == 200 and 'data-seq="1"' in body:
                    outcome.acknowledged.append(save)
                    break
                outcome.failures[r.status] += 1
            await asyncio.sleep(0.2 * (retry + 1))
        else:
            outcome.unacknowledged.append(save)


async def restart_workers(server, total: int, outcome: Outcome) -> None:
    for share, signum in RESTARTS:
        while len(outcome.acknowledged) < share * total:
            await asyncio.sleep(0.05)
        if signum == signal.SIGHUP:
            server.reload()
        else:
            os.kill(min(server.worker_pids()), signum)
        outcome.restarts.append(f"{signum.name} at {len(outcome.acknowledged)} acknowledged")


async def exam_under_restarts(server, clients: list[dict], saves: dict[int, list[Save]]) -> Outcome:
    outcome = Outcome()
    total = sum(len(attempt_saves) for attempt_saves in saves.values())
    connector = aiohttp.TCPConnector(limit=len(clients))
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as s:
        restarts = asyncio.create_task(restart_workers(server, total, outcome))
        await asyncio.gather(*(candidate_answers(s, server.base, c, saves[c["attempt"]], outcome) for c in clients))
        restarts.cancel()
    return outcome


def test_no_acknowledged_answer_is_lost_while_gunicorn_workers_restart(gunicorn_server, exam):
    # given: candidates with full mocks in progress, logged in on the server
    bank_build(exam)
    users = [get_user_model().objects.create_user(f"restart{n}", password=None) for n in range(CANDIDATES)]
    attempts = [attempt_start_mock(candidate=user, exam=exam, seed=n).pk for n, user in enumerate(users)]
    sessions = gunicorn_server.sessions(users)
    clients = [
        {"attempt": attempt, "cookies": cookies, "csrf": csrf}
        for attempt, (cookies, csrf) in zip(attempts, sessions, strict=True)
    ]
    saves = {client["attempt"]: saves_for(client["attempt"]) for client in clients}
    first_workers = gunicorn_server.worker_pids()

    # when: every candidate answers all 65 questions at once while the workers are reloaded three times and one
    # is stopped
    began = time.monotonic()
    with ThreadPoolExecutor(1) as pool:  # its own thread: a browser test's Playwright loop may own this one
        outcome = pool.submit(asyncio.run, exam_under_restarts(gunicorn_server, clients, saves)).result()
    took = time.monotonic() - began

    # then: the restarts happened during the exam, every save got through, and every acknowledged answer is stored
    assert len(outcome.restarts) == len(RESTARTS), outcome.restarts
    assert not gunicorn_server.worker_pids() & first_workers
    assert outcome.unacknowledged == [], f"never acknowledged: {len(outcome.unacknowledged)}; {outcome.failures}"
    rows = AttemptItem.objects.filter(attempt_id__in=saves).values_list("attempt_id", "position", "answer")
    stored = {(attempt_id, position): answer for attempt_id, position, answer in rows}
    lost = [save for save in outcome.acknowledged if stored[save.attempt, save.position] != save.expected]
    assert len(outcome.acknowledged) == sum(len(attempt_saves) for attempt_saves in saves.values())
    assert lost == [], f"{len(lost)} acknowledged answers lost or changed, e.g. {lost[0]}"
    print(f"{len(outcome.acknowledged)} saves in {took:.0f} s; {outcome.restarts}; failures {dict(outcome.failures)}")
