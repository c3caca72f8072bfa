"""Cohort dashboard benchmark: 1,000 members and 20,000 scored attempts from seed_demo, served through the
whole Django stack in-process (server-side time only), with its SQL query count."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000"))
ATTEMPTS = int(os.environ.get("BENCH_COHORT_ATTEMPTS", "20000"))


def run(env: dict[str, str]) -> dict:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "setup_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--members", str(MEMBERS), "--attempts", str(ATTEMPTS)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seed_seconds = time.monotonic() - started

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.cohorts.models import Cohort

    cohort = Cohort.objects.filter(name__startswith="Demo cohort").latest("pk")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="lead"))
    url = f"/cohorts/{cohort.pk}/"
    client.get(url)  # warm caches and connections
    timings = []
    for _ in range(30):
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    return {
        "members": MEMBERS,
        "attempts": ATTEMPTS,
        "seed_seconds": seed_seconds,
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * (len(timings) - 1))],
        "queries": len(queries),
    }
