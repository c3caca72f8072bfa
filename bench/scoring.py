"""Scoring benchmarks: real Celery worker processes scoring queued attempts (throughput and worker CPU at 1x, 2x
and 4x the work), the scoring service's CPU per attempt in-process, and calibration time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from bench.memory import children, cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
WORKER_CONCURRENCY = 2  # one pool process per core

# Clone existing mocks for new candidates, in SQL: building 65 answer rows per attempt through the ORM would take
# longer than the work being measured. Each clone belongs to a new candidate (one attempt per candidate, as in a
# deadline storm) and keeps its source's form and presentation; single- and multiple-response items get a random
# pick with probability %(answered)s.
CLONE_ATTEMPTS = """
WITH users AS (
    INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
        date_joined)
    SELECT '!', false, %(prefix)s || g, '', '', '', false, true, now() FROM generate_series(1, %(count)s) g
    RETURNING id
), numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM users
), sources AS (
    SELECT *, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total
    FROM exams_attempt WHERE id = ANY(%(sources)s)
)
INSERT INTO exams_attempt (candidate_id, exam_id, mode, state, feedback, item_count, started_at,
    duration_seconds, accommodation_seconds, deadline, next_check_at, submitted_at, submitted_by, last_position,
    selection, scratchpad)
SELECT u.id, a.exam_id, a.mode, %(state)s, a.feedback, a.item_count, a.started_at,
    a.duration_seconds, a.accommodation_seconds, a.deadline,
    CASE WHEN %(state)s = 'in_progress' THEN a.next_check_at END,
    CASE WHEN %(state)s = 'submitted' THEN now() END,
    CASE WHEN %(state)s = 'submitted' THEN 'candidate' ELSE '' END,
    1, jsonb_build_object('source', a.id), ''
FROM numbered u JOIN sources a ON a.n = 1 + (u.n - 1) %% a.total
RETURNING id
"""
CLONE_ITEMS = """
INSERT INTO exams_attemptitem (attempt_id, position, question_id, task_id, scored, presentation, answer, answer_seq,
    answered_at, flagged, eliminated, complete)
SELECT n.id, i.position, i.question_id, i.task_id, i.scored, i.presentation, p.answer,
    CASE WHEN p.answer IS NULL THEN 0 ELSE 1 END, CASE WHEN p.answer IS NOT NULL THEN now() END, false, '[]'::jsonb,
    p.answer IS NOT NULL
FROM exams_attempt n
JOIN exams_attemptitem i ON i.attempt_id = (n.selection->>'source')::bigint
CROSS JOIN LATERAL (
    SELECT CASE WHEN i.presentation ? 'choices' AND random() < %(answered)s THEN jsonb_build_object('choices',
        jsonb_build_array(i.presentation->'choices'->(floor(random() * jsonb_array_length(i.presentation->'choices'))
        )::int)) END AS answer
) p
WHERE n.id = ANY(%(ids)s)
"""
CLONE_SELECTION = """
UPDATE exams_attempt n SET selection = s.selection
FROM exams_attempt s WHERE n.id = ANY(%(ids)s) AND s.id = (n.selection->>'source')::bigint
"""


def attempts_clone(*, sources: list[int], count: int, prefix: str, state: str, answered: float = 1.0) -> list[int]:
    """``count`` copies of the ``sources`` attempts, each for a new candidate ``<prefix><n>``; returns their ids."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLONE_ATTEMPTS, {"prefix": prefix, "count": count, "sources": sources, "state": state})
        ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(CLONE_ITEMS, {"ids": ids, "answered": answered})
        cursor.execute(CLONE_SELECTION, {"ids": ids})
    return ids


@contextmanager
def celery_workers(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """One `celery worker` with a pool process per core, as deployed, in its own process group so that it and
    its pool are stopped whatever happens to the benchmark."""
    from config.celery import app

    app.control.purge()  # messages left by an earlier, interrupted run
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start; see {log}")
        while len(children(process.pid)) < WORKER_CONCURRENCY:
            time.sleep(0.1)
        yield process
    finally:
        process_group_stop(process)


def process_group_stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process (gunicorn's master, Celery's main process: they stop their children in order), then
    SIGKILL whatever is left of its process group after ``timeout``."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # pool processes that outlived their parent
    process.wait(timeout=10)


def worker_cpu(worker: subprocess.Popen) -> float:
    """CPU seconds used so far by the worker's main process and its pool processes."""
    return cpu_seconds(worker.pid) + sum(cpu_seconds(pid) for pid in children(worker.pid))


def workers_idle(worker: subprocess.Popen, timeout: float = 60) -> float:
    """Wait until the worker has nothing left to do (its CPU time stops growing); returns the seconds waited."""
    started = time.monotonic()
    before = worker_cpu(worker)
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        now = worker_cpu(worker)
        if now - before < 0.05:
            break
        before = now
    return time.monotonic() - started


def workers_drain(worker: subprocess.Popen) -> int:
    """Drop the messages still queued and wait for the worker to finish those it had already taken. Returns the
    number of messages dropped."""
    from config.celery import app

    dropped = app.control.purge()
    workers_idle(worker)
    return dropped


def scored_count(ids: list[int] | str) -> int:
    """How many of the attempts ``ids`` (a list, or an array literal from ``id_array``) are scored. One array
    parameter rather than ``pk__in``: over 10,000 ids that query took about 65 ms of this process's CPU to build
    and send, and polled in a loop a third of a core, taken from the workers being measured (now under 1 ms)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM exams_attempt WHERE id = ANY(%s::bigint[]) AND state = 'scored'",
            [ids if isinstance(ids, str) else id_array(ids)],
        )
        return cursor.fetchone()[0]


def id_array(ids: list[int]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def through_workers(worker: subprocess.Popen, ids: list[int], timeout: float = 240) -> dict[str, float]:
    """Queue the submitted attempts ``ids`` and time the running workers until every one is scored (polling the
    database); the workers' CPU over that time, per attempt."""
    from apps.scoring.tasks import attempt_score

    cpu_before = worker_cpu(worker)
    started = time.perf_counter()
    for attempt_id in ids:
        attempt_score.delay(attempt_id)
    scored, array = 0, id_array(ids)
    while time.perf_counter() - started < timeout:
        scored = scored_count(array)
        if scored == len(ids):
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    # Each scoring queues a follow-up task (the cohort update) behind the scoring tasks still queued; let those
    # finish too, so that they count in the CPU per attempt and do not spill into the next measurement.
    workers_idle(worker)
    cpu = worker_cpu(worker) - cpu_before
    return {
        "attempts": len(ids),
        "scored": scored,
        "seconds": elapsed,
        "per_second": scored / elapsed,
        "cpu_ms": 1000 * cpu / max(scored, 1),
    }


def cpu_per_attempt_fresh(ids: list[int], env: dict[str, str]) -> float:
    """`cpu_per_attempt` in a new process: this one holds the benchmark's setup objects, which a worker does not
    (they made the same scoring about 40% slower here)."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.scoring", *map(str, ids)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(run.stdout.strip().splitlines()[-1])


def cpu_per_attempt(ids: list[int]) -> float:
    """CPU of the scoring service for one attempt in this process, warm (the first 20 load the question cache)."""
    from apps.scoring.services import attempt_score_compute

    for attempt_id in ids[:20]:
        attempt_score_compute(attempt_id=attempt_id)
    started = time.process_time()
    for attempt_id in ids[20:]:
        attempt_score_compute(attempt_id=attempt_id)
    return 1000 * (time.process_time() - started) / (len(ids) - 20)


def calibration_time(n_persons: int, n_items: int = 1000, repeats: int = 3) -> dict[str, float]:
    """3PL calibration (marginal maximum likelihood with priors) on simulated sparse responses, 65 items per
    attempt: the median of ``repeats`` runs."""
    from apps.scoring import calibration
    from apps.scoring.simulation import authored, items_generate, responses_simulate

    rng = np.random.default_rng(5)
    bank = items_generate("3pl", n_items, rng)
    theta = rng.normal(0, 1, n_persons)
    answered = np.zeros((n_persons, n_items), dtype=bool)
    for row in answered:
        row[rng.choice(n_items, 65, replace=False)] = True
    right = responses_simulate(theta, bank, rng).astype(bool) & answered
    labels, ratings = authored(bank, 0.5, rng)
    features = np.array(
        [calibration.prior_features(label, rating, 0.2) for label, rating in zip(labels, ratings, strict=True)]
    )
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        fit = calibration.mml_calibrate(right, answered, floors=np.full(n_items, 0.2), features=features)
        timings.append(time.perf_counter() - started)
    return {
        "persons": n_persons,
        "seconds": float(np.median(timings)),
        "iterations": fit.iterations,
        "correlation": float(np.corrcoef(fit.b, bank.b)[0, 1]),
    }


def db_calibration_time() -> dict[str, float]:
    """The daily item-statistics task's work, from the database: statistics over first mocks, calibration over
    every scored mock."""
    from apps.exams.models import Attempt, AttemptMode, AttemptState
    from apps.scoring.analysis import item_statistics_compute, items_calibrate
    from apps.syllabus.models import Exam

    exam = Exam.objects.get(code="MLA-C01")
    mocks = Attempt.objects.filter(exam=exam, mode=AttemptMode.MOCK, state=AttemptState.SCORED).count()
    started = time.perf_counter()
    item_statistics_compute(exam=exam)
    items_calibrate(exam=exam)
    return {"attempts": mocks, "seconds": time.perf_counter() - started}


if __name__ == "__main__":  # python -m bench.scoring <attempt id>...: prints the scoring CPU per attempt, in ms
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    print(cpu_per_attempt([int(arg) for arg in sys.argv[1:]]))
