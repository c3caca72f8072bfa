"""Scoring benchmarks: CPU per attempt, 10,000 attempts through real Celery workers, and calibration time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ATTEMPTS = int(os.environ.get("BENCH_SCORING_ATTEMPTS", "10000"))

# Clone the in-progress bench mocks into submitted attempts with random answers, in SQL: building 650,000
# answer rows through the ORM would take longer than the scoring being measured.
# Each clone belongs to a new candidate, as in a real deadline storm (one attempt per candidate).
CLONE_USERS = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
    date_joined)
SELECT '!', false, 'storm' || g, '', '', '', false, true, now() FROM generate_series(1, %(count)s) g
"""
CLONE_ATTEMPTS = """
INSERT INTO exams_attempt (candidate_id, exam_id, mode, state, feedback, item_count, started_at,
    duration_seconds, accommodation_seconds, deadline, submitted_at, submitted_by, last_position, selection)
SELECT u.id, a.exam_id, a.mode, 'submitted', a.feedback, a.item_count, a.started_at,
    a.duration_seconds, a.accommodation_seconds, a.deadline, now(), 'candidate', 1,
    jsonb_build_object('source', a.id)
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM auth_user WHERE username LIKE 'storm%%') u
JOIN (SELECT *, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total FROM exams_attempt
      WHERE state = 'in_progress') a ON a.n = 1 + (u.n - 1) %% a.total
"""
CLONE_ITEMS = """
INSERT INTO exams_attemptitem (attempt_id, position, question_id, scored, presentation, answer, answer_seq,
    flagged, eliminated)
SELECT n.id, i.position, i.question_id, i.scored, i.presentation,
    CASE WHEN i.presentation ? 'choices' THEN jsonb_build_object('choices', jsonb_build_array(
        (i.presentation->'choices'->>(floor(random() * 4))::int)::bigint)) END,
    1, false, '[]'::jsonb
FROM exams_attempt n JOIN exams_attemptitem i ON i.attempt_id = (n.selection->>'source')::bigint
WHERE n.selection ? 'source'
"""


def attempts_clone(count: int) -> int:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLONE_USERS, {"count": count})
        cursor.execute(CLONE_ATTEMPTS, {})
        cursor.execute(CLONE_ITEMS)
        cursor.execute("SELECT count(*) FROM exams_attempt WHERE state = 'submitted'")
        return cursor.fetchone()[0]


def cpu_per_attempt(sample: int = 200) -> float:
    """Worker CPU to score one attempt, warm (the questions are already in the worker's cache)."""
    from apps.exams.models import Attempt, AttemptState
    from apps.scoring.models import AttemptResult
    from apps.scoring.services import attempt_score_compute

    ids = list(Attempt.objects.filter(state=AttemptState.SUBMITTED).values_list("pk", flat=True)[:sample])
    for attempt_id in ids[:20]:
        attempt_score_compute(attempt_id=attempt_id)
    started = time.process_time()
    for attempt_id in ids[20:]:
        attempt_score_compute(attempt_id=attempt_id)
    elapsed = time.process_time() - started
    AttemptResult.objects.filter(attempt_id__in=ids).delete()
    Attempt.objects.filter(pk__in=ids).update(state=AttemptState.SUBMITTED)
    from apps.scoring.models import ReviewCard

    ReviewCard.objects.all().delete()
    return 1000 * elapsed / (len(ids) - 20)


def through_workers(env: dict[str, str]) -> dict[str, float]:
    """Queue every submitted attempt and time two Celery worker processes (one per core) scoring them all."""
    from apps.exams.models import Attempt, AttemptState
    from apps.scoring.models import AttemptResult
    from apps.scoring.tasks import attempt_score
    from config.celery import app

    app.control.purge()
    ids = list(Attempt.objects.filter(state=AttemptState.SUBMITTED).values_list("pk", flat=True))
    for attempt_id in ids:
        attempt_score.delay(attempt_id)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "WARNING"},
    )
    started = time.monotonic()
    try:
        while AttemptResult.objects.filter(attempt_id__in=ids).count() < len(ids):
            if time.monotonic() - started > 600:
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    scored = AttemptResult.objects.filter(attempt_id__in=ids).count()
    return {"attempts": len(ids), "scored": scored, "seconds": elapsed}


def calibration_time(n_items: int = 1000, n_persons: int = 20000) -> dict[str, float]:
    from apps.scoring import irt
    from apps.scoring.simulation import sparse_responses

    persons, items, scores, _, b_true = sparse_responses(
        n_persons=n_persons, n_items=n_items, per_person=65, rng=np.random.default_rng(5)
    )
    started = time.perf_counter()
    calibration = irt.rasch_calibrate(persons, items, scores, n_persons=n_persons, n_items=n_items)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "correlation": float(np.corrcoef(calibration.b, b_true)[0, 1])}


def db_calibration_time() -> float:
    from apps.scoring.analysis import item_statistics_compute, items_calibrate
    from apps.syllabus.models import Exam

    exam = Exam.objects.get(code="MLA-C01")
    started = time.perf_counter()
    item_statistics_compute(exam=exam)
    items_calibrate(exam=exam)
    return time.perf_counter() - started


def run(env: dict[str, str]) -> dict:
    total = attempts_clone(ATTEMPTS)
    return {
        "cpu_ms": cpu_per_attempt(),
        "workers": through_workers(env),
        "calibration": calibration_time(),
        "statistics_and_calibration_db_seconds": db_calibration_time(),
        "submitted": total,
    }
