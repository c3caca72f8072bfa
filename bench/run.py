"""`make bench`: load the real stack (gunicorn + PostgreSQL) and write docs/performance.md.

Steps: a fresh benchmark database with the shipped bank, candidates with full mocks in progress, gunicorn in
production settings, then saturation and steady open-loop load on the answer save, the question page and an
authenticated no-op view through the same middleware stack. Each figure is the median of repeated runs.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import Request, open_loop, saturate  # noqa: E402

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@localhost:5432/mla_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")
PORT = int(os.environ.get("BENCH_PORT", "8911"))
BASE = f"http://127.0.0.1:{PORT}"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
RATES = (50, 100, 200)
CANDIDATES = int(os.environ.get("BENCH_CANDIDATES", "200"))
WORKERS = ["--workers", "3", "--worker-class", "gthread", "--threads", "4"]

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": BENCH_DB,
    "REDIS_URL": REDIS,
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
}


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)


def database_reset() -> None:
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def data_prepare() -> dict:
    """Candidates with mocks in progress, their session cookies, and the single-answer items to save."""
    os.environ.update(ENV)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from apps.exams.services import attempt_start_mock
    from apps.syllabus.models import Exam

    exam = Exam.objects.get(code="MLA-C01")
    users = get_user_model()
    clients = []
    for n in range(CANDIDATES):
        user = users.objects.create_user(f"bench{n}", password=None)
        attempt = attempt_start_mock(candidate=user, exam=exam, seed=n)
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        csrf = secrets.token_hex(16)
        singles = list(attempt.items.filter(question__type="single").values_list("position", flat=True))
        clients.append(
            {
                "cookies": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={csrf}",
                "csrf": csrf,
                "attempt": attempt.pk,
                "singles": singles,
            }
        )
    return {"clients": clients}


def gunicorn_start() -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            *WORKERS,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=ENV,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=5)  # noqa: S310 - our own loopback server
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def makers(data: dict):
    import random

    rng = random.Random(7)
    clients = data["clients"]

    def noop() -> Request:
        c = rng.choice(clients)
        return Request("POST", "/ping/", c["cookies"], c["csrf"], {})

    def save() -> Request:
        c = rng.choice(clients)
        position = rng.choice(c["singles"])
        body = {"choice": str(rng.randint(1, 4)), "go": "autosave"}
        return Request("POST", f"/exams/a/{c['attempt']}/q/{position}/answer/", c["cookies"], c["csrf"], body)

    def page() -> Request:
        c = rng.choice(clients)
        return Request("GET", f"/exams/a/{c['attempt']}/q/{rng.randint(1, 65)}/", c["cookies"], c["csrf"])

    chosen = {"no-op (authenticated)": noop, "answer save": save, "question page": page}
    only = os.environ.get("BENCH_ONLY")
    return {k: v for k, v in chosen.items() if not only or k.startswith(("no-op", only))}


def page_weight(data: dict) -> dict[str, int]:
    client = data["clients"][0]
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{BASE}/exams/a/{client['attempt']}/q/1/", headers={"Cookie": client["cookies"]}
    )
    html = urllib.request.urlopen(request, timeout=5).read()  # noqa: S310
    sizes = {"HTML": len(gzip.compress(html))}
    for asset in re.findall(rb'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html):
        body = urllib.request.urlopen(BASE + asset.decode(), timeout=5).read()  # noqa: S310
        sizes[asset.decode().split("/")[-1].split(".")[0]] = len(gzip.compress(body))
    return sizes


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(data: dict) -> dict:
    results: dict = {"saturation": {}, "open_loop": {}}
    for name, make in makers(data).items():
        saturate(BASE, make, seconds=2)  # warm up connections and caches
        runs = [saturate(BASE, make, seconds=SECONDS) for _ in range(REPEATS)]
        results["saturation"][name] = {
            "rps": median([r.throughput for r in runs]),
            "p50": median([r.percentile(50) for r in runs]),
            "errors": sum(r.errors for r in runs),
        }
        for rate in RATES:
            runs = [open_loop(BASE, make, rate=rate, seconds=SECONDS) for _ in range(REPEATS)]
            results["open_loop"][f"{name}@{rate}"] = {
                "p50": median([r.percentile(50) for r in runs]),
                "p99": median([r.percentile(99) for r in runs]),
                "achieved": median([r.throughput for r in runs]),
                "errors": sum(r.errors for r in runs),
            }
    return results


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def report(results: dict, weight: dict[str, int]) -> str:
    sat = results["saturation"]
    noop = sat["no-op (authenticated)"]["rps"]
    lines = [
        "# Performance",
        "",
        f"Generated by `make bench` on {time.strftime('%Y-%m-%d')}: {machine()}.",
        f"Stack: gunicorn ({' '.join(WORKERS)}) with production settings, PostgreSQL and Redis on the same",
        f"machine; the load generator (`bench/loadgen.py`) shares the CPU. {CANDIDATES} candidates with full",
        f"mocks in progress. Every figure is the median of {REPEATS} runs of {SECONDS:g} s.",
        "",
        "## Capacity at saturation (24 concurrent connections)",
        "",
        "| endpoint | requests/s | ratio to no-op | p50 ms | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in sat.items():
        lines.append(f"| {name} | {row['rps']:.0f} | {row['rps'] / noop:.2f} | {row['p50']:.1f} | {row['errors']} |")
    lines += [
        "",
        "## Latency under steady open-loop load",
        "",
        "Latency is measured from each request's scheduled start, so queueing delay counts.",
        "",
        "| endpoint | rate/s | achieved/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, row in results["open_loop"].items():
        name, rate = key.rsplit("@", 1)
        lines.append(
            f"| {name} | {rate} | {row['achieved']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | {row['errors']} |"
        )
    total = sum(weight.values())
    lines += [
        "",
        "## Exam page weight (gzipped)",
        "",
        "| part | bytes |",
        "|---|---:|",
        *[f"| {name} | {size:,} |" for name, size in weight.items()],
        f"| **total** | **{total:,}** ({total / 1024:.1f} KB; budget 60 KB) |",
        "",
        "## Scoring and calibration",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        f"| worker CPU to score one attempt (warm) | {results['scoring']['cpu_ms']:.1f} ms | ≤ 20 ms |",
        f"| {results['scoring']['workers']['attempts']:,} attempts through 2 Celery worker processes "
        f"| {results['scoring']['workers']['seconds']:.0f} s ({results['scoring']['workers']['scored']:,} scored) "
        "| ≤ 120 s |",
        "| Rasch calibration, 1,000 items × 20,000 attempts (65 each) | "
        f"{results['scoring']['calibration']['seconds']:.1f} s "
        f"(r = {results['scoring']['calibration']['correlation']:.3f}) | ≤ 120 s |",
        f"| item statistics + calibration from the database ({results['scoring']['submitted']:,} attempts) | "
        f"{results['scoring']['statistics_and_calibration_db_seconds']:.1f} s | |",
        "",
        "## Cohort dashboard",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        f"| server-side render, {results['dashboard']['members']:,} members, "
        f"{results['dashboard']['attempts']:,} scored attempts: p50 / p95 | {results['dashboard']['p50']:.0f} ms / "
        f"{results['dashboard']['p95']:.0f} ms | p95 ≤ 150 ms |",
        f"| SQL queries per dashboard page | {results['dashboard']['queries']} | ≤ 15 |",
        f"| seed_demo for that cohort | {results['dashboard']['seed_seconds']:.0f} s | |",
        "",
        "## Targets",
        "",
        f"- Answer saves at saturation / no-op: **{sat['answer save']['rps'] / noop:.2f}** (target ≥ 0.5).",
        f"- Answer save p99 at 200/s: **{results['open_loop']['answer save@200']['p99']:.1f} ms** (target ≤ 50 ms).",
        f"- Exam page: **{total / 1024:.1f} KB** gzipped with its JS and CSS (target ≤ 60 KB).",
        "- The question page's SQL query count is constant in the exam's length: a test asserts it",
        "  (`tests/exams/test_views.py::test_question_page_uses_a_constant_number_of_queries`).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    print("bench: preparing the database…", flush=True)
    database_reset()
    manage("migrate", "--no-input")
    manage("load_syllabus")
    manage("load_bank")
    manage("collectstatic", "--no-input")
    data = data_prepare()
    server = gunicorn_start()
    try:
        print("bench: measuring…", flush=True)
        results = measure(data)
        weight = page_weight(data)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print("bench: scoring…", flush=True)
    from bench import scoring

    results["scoring"] = scoring.run(ENV)
    print("bench: cohort dashboard…", flush=True)
    from bench import dashboard

    results["dashboard"] = dashboard.run(ENV)
    text = report(results, weight)
    (ROOT / "docs" / "performance.md").write_text(text)
    (ROOT / "bench" / "last-run.json").write_text(json.dumps({"results": results, "weight": weight}, indent=2))
    print(text)
    print(f"bench: done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
