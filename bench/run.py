"""`make bench`: load the real stack (gunicorn + PostgreSQL + Redis + Celery) and write docs/performance.md.

Steps: a fresh benchmark database with the shipped bank; 1,000 candidates of one cohort, each with a full mock in
progress and 19 scored ones behind them; then, against gunicorn in production settings:
  1. saturation (wrk) and steady open-loop load on the answer save, the question page (full and htmx fragment)
     and an authenticated no-op view through the same middleware stack, beside a bare WSGI app on the same
     gunicorn (median of repeated runs);
  2. a deadline storm: all 1,000 submit within 10 s while real Celery worker processes score them;
  3. scoring throughput through the same workers at 1x, 2x and 4x the work (median of repeated runs), then
     10,000 attempts queued at once;
  4. the cohort dashboard at 250, 500 and 1,000 members, the scoring CPU per attempt, calibration at 1x, 2x
     and 4x the attempts, and the daily item statistics over everything in the database;
  5. a 2,000-question GIFT import through the import service (rolled back afterwards).
Memory (RSS) of the gunicorn and Celery processes is sampled throughout. The whole run is meant to take under
10 minutes on 2 cores; its wall time is written into the report.
"""

from __future__ import annotations

import gc
import gzip
import json
import math
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dashboard, interchange, scoring, storm, wrk  # noqa: E402
from bench.loadgen import LoadResult, Request, open_loop  # noqa: E402
from bench.memory import CpuShare, RssSampler, children  # noqa: E402

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@localhost:5432/mla_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")
PORT = int(os.environ.get("BENCH_PORT", "8911"))
BASE = f"http://127.0.0.1:{PORT}"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
RATES = (50, 100, 200)
CANDIDATES = int(os.environ.get("BENCH_CANDIDATES", "1000"))  # the cohort, and the storm
LOAD_CANDIDATES = 200  # who take the HTTP load
ASSEMBLED = 50  # mocks assembled by the product (~0.1 s each); the others are copies of these, made in SQL
HISTORY = 19  # earlier scored mocks per candidate: 20,000 scored attempts in the cohort after the storm
DASHBOARD_SIZES = (CANDIDATES // 4, CANDIDATES // 2, CANDIDATES)
SCORING_SIZES = tuple(int(os.environ.get("BENCH_SCORING_ATTEMPTS", "250")) * k for k in (1, 2, 4))
CALIBRATION_SIZES = (5_000, 20_000)
WORKERS = ["--workers", "3", "--worker-class", "gthread", "--threads", "4"]
NOOP = "no-op (authenticated)"
BARE = "bare WSGI app"
FRAGMENT = "question page (htmx fragment)"
WRK_REQUESTS = 2_000  # distinct requests each wrk run cycles through
WARMUP = float(os.environ.get("BENCH_WARMUP", "10"))  # seconds of load per endpoint before its measured runs
LOGS = Path(tempfile.gettempdir()) / f"mla-bench-{PORT}"  # gunicorn and Celery output of the last run

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": BENCH_DB,
    "REDIS_URL": REDIS,
    "CELERY_BROKER_URL": REDIS,
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
}


def manage(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL)


def managed(*commands: tuple[str, ...]) -> None:
    """Run management commands one after the other, failing on the first error."""
    for command in commands:
        if manage(*command).wait() != 0:
            raise RuntimeError(f"manage.py {' '.join(command)} failed")


def database_reset() -> None:
    """A new, empty benchmark database and an empty Redis database (cache, sessions, Celery queue)."""
    import psycopg
    import redis

    name = BENCH_DB.rsplit("/", 1)[1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS).flushdb()


def database_prepare() -> None:
    database_reset()
    managed(("migrate", "--no-input"))
    static = manage("collectstatic", "--no-input")  # touches no database: runs beside the bank load
    try:
        managed(("load_syllabus",), ("load_bank",))
    finally:
        if static.wait() != 0:
            raise RuntimeError("manage.py collectstatic failed")


def sessions_create(users: list) -> dict[int, str]:
    """A logged-in session per user, written in bulk, as the login view would leave it."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    keys, rows = {}, []
    for user in users:
        keys[user.pk] = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=keys[user.pk], session_data=store.encode(data), expire_date=expires))
    Session.objects.bulk_create(rows, batch_size=1000)
    return keys


def data_prepare() -> dict:
    """The cohort's candidates with mocks in progress (some answers saved), their sessions, and their history."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.exams.models import Attempt, AttemptState
    from apps.exams.services import attempt_start_mock
    from apps.syllabus.models import Exam

    exam = Exam.objects.get(code="MLA-C01")
    users = get_user_model()
    timings = {}
    started = time.perf_counter()
    sources = []
    for n in range(ASSEMBLED):
        user = users.objects.create_user(f"bench{n:04d}", password=None)
        sources.append(attempt_start_mock(candidate=user, exam=exam, seed=n).pk)
    timings["mocks_assembled"] = time.perf_counter() - started
    started = time.perf_counter()
    scoring.attempts_clone(
        sources=sources, count=CANDIDATES - ASSEMBLED, prefix="bench-c", state="in_progress", answered=0.6
    )
    people = list(users.objects.filter(username__startswith="bench").order_by("pk"))
    keys = sessions_create(people)
    attempts = dict(
        Attempt.objects.filter(candidate__in=people, state=AttemptState.IN_PROGRESS).values_list("candidate_id", "pk")
    )
    timings["mocks_copied_and_sessions"] = time.perf_counter() - started
    clients = []
    for user in people:
        csrf = secrets.token_hex(16)
        clients.append(
            {
                "cookies": f"{settings.SESSION_COOKIE_NAME}={keys[user.pk]}; csrftoken={csrf}",
                "csrf": csrf,
                "attempt": attempts[user.pk],
            }
        )
    for client, singles in zip(clients[:LOAD_CANDIDATES], _singles(clients[:LOAD_CANDIDATES]), strict=True):
        client["singles"] = singles
    started = time.perf_counter()
    ids = [user.pk for user in people]
    history = dashboard.history_seed(exam=exam, user_ids=ids, per_member=HISTORY)
    timings["history_seeded"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics as a live database has them, not those of empty tables
    timings["analyzed"] = time.perf_counter() - started
    started = time.perf_counter()
    lead = users.objects.create_user("bench-lead", password=None)
    cohort = dashboard.cohort_create(exam=exam, lead=lead, user_ids=ids, name=f"Bench cohort ({len(ids)})")
    timings["cohort_built"] = time.perf_counter() - started
    print(f"bench:   {', '.join(f'{k} {v:.1f} s' for k, v in timings.items())}", flush=True)
    return {
        "exam": exam,
        "clients": clients,
        "user_ids": ids,
        "lead": lead,
        "cohort": cohort,
        "history": history,
        "timings": timings,
    }


def _singles(clients: list[dict]) -> list[list[int]]:
    from apps.exams.models import AttemptItem

    positions: dict[int, list[int]] = {}
    for attempt_id, position in AttemptItem.objects.filter(
        attempt_id__in=[c["attempt"] for c in clients], question__type="single"
    ).values_list("attempt_id", "position"):
        positions.setdefault(attempt_id, []).append(position)
    return [positions[c["attempt"]] for c in clients]


def gunicorn_start(
    *, app: str = "config.wsgi:application", port: int = PORT, health: str = "/healthz"
) -> subprocess.Popen:
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken (a server left over from another run?); set BENCH_PORT")
    with (LOGS / "gunicorn.log").open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                "--bind",
                f"127.0.0.1:{port}",
                *WORKERS,
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=5)
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    scoring.process_group_stop(process)
    raise RuntimeError(f"gunicorn did not start; see {LOGS / 'gunicorn.log'}")


def makers(data: dict):
    import random

    rng = random.Random(7)
    clients = data["clients"][:LOAD_CANDIDATES]

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

    def fragment() -> Request:
        # What htmx sends after Next: the redirect's GET, with the headers of the answer form's request.
        c = rng.choice(clients)
        position = rng.randint(1, 64)
        path = f"/exams/a/{c['attempt']}/q/{position + 1}/"
        came_from = f"{BASE}/exams/a/{c['attempt']}/q/{position}/"
        headers = {"HX-Request": "true", "HX-Target": "exam-panel", "HX-Current-URL": came_from}
        return Request("GET", path, c["cookies"], c["csrf"], headers=headers)

    chosen = {NOOP: noop, "answer save": save, "question page": page, FRAGMENT: fragment}
    only = os.environ.get("BENCH_ONLY")
    return {k: v for k, v in chosen.items() if not only or k.startswith(("no-op", only))}


def not_2xx(runs: list[LoadResult]) -> int:
    """Requests not answered with a 2xx: these endpoints answer directly, so a redirect (to the login page, when
    a session is not accepted) counts as an error too."""
    return sum(n for r in runs for status, n in r.statuses.items() if not 200 <= status < 300)


def bare_start() -> subprocess.Popen:
    """The same gunicorn, serving a WSGI app that answers at once (`bench/bare_wsgi.py`): the ceiling that the
    server and the load generator alone allow on this machine."""
    return gunicorn_start(app="bench.bare_wsgi:application", port=PORT + 1, health="/")


def measure(data: dict) -> dict:
    """Saturation with wrk (a C load generator), then each steady rate with the Python open-loop generator, for
    every endpoint. The endpoints take turns within each repeat, so that the no-op baseline and the views compared
    with it see the same moment's noise, and a ratio is taken per repeat before the median."""
    chosen = makers(data)
    requests = {name: [make() for _ in range(WRK_REQUESTS)] for name, make in chosen.items()}
    bare_base = f"http://127.0.0.1:{PORT + 1}"
    bare = bare_start()
    try:
        # Warm each endpoint long enough for every gunicorn worker to have met most of the versions and texts it
        # serves: its per-process caches (delivered versions, rendered Markdown) then hold them, as in a server
        # that has been up a while, rather than a cold start that only the first minutes of a day see.
        for name in chosen:
            wrk.run(BASE, requests[name], seconds=WARMUP)
        saturation: dict[str, list[wrk.WrkResult]] = {BARE: [], **{name: [] for name in chosen}}
        for _ in range(REPEATS):
            saturation[BARE].append(wrk.run(bare_base, [Request("GET", "/", "", "")], seconds=SECONDS))
            for name in chosen:
                saturation[name].append(wrk.run(BASE, requests[name], seconds=SECONDS))
    finally:
        scoring.process_group_stop(bare)
    baseline = saturation[NOOP]
    results: dict = {"saturation": {}, "open_loop": {}}
    for name, runs in saturation.items():
        results["saturation"][name] = {
            "rps": median([r.rps for r in runs]),
            "ratio": median([r.rps / b.rps for r, b in zip(runs, baseline, strict=True)]),
            "p50": median([r.p50_ms for r in runs]),
            "generator_cpu": median([r.generator_cpu for r in runs]),
            "errors": sum(r.errors for r in runs),
        }
        print(f"bench:   {name}: {results['saturation'][name]['rps']:.0f} req/s at saturation", flush=True)
    for rate in RATES:
        steady: dict[str, list[LoadResult]] = {name: [] for name in chosen if name != FRAGMENT}
        for _ in range(REPEATS):
            for name, runs in steady.items():
                runs.append(open_loop(BASE, chosen[name], rate=rate, seconds=SECONDS))
        for name, runs in steady.items():
            results["open_loop"][f"{name}@{rate}"] = {
                "p50": median([r.percentile(50) for r in runs]),
                "p99": median([r.percentile(99) for r in runs]),
                "achieved": median([r.throughput for r in runs]),
                "errors": not_2xx(runs),
            }
    return results


def page_weight(data: dict) -> dict[str, int]:
    client = data["clients"][0]
    path = f"/exams/a/{client['attempt']}/q/1/"
    request = urllib.request.Request(BASE + path, headers={"Cookie": client["cookies"]})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own loopback server
        if not response.geturl().endswith(path):
            raise RuntimeError(f"the exam page redirected to {response.geturl()}: the session was not accepted")
        html = response.read()
    sizes = {"HTML": len(gzip.compress(html))}
    for asset in re.findall(rb'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html):
        body = urllib.request.urlopen(BASE + asset.decode(), timeout=5).read()  # noqa: S310
        sizes[asset.decode().split("/")[-1].split(".")[0]] = len(gzip.compress(body))
    return sizes


def results_page(data: dict) -> dict:
    """Server-side time (in-process, through the whole Django stack) and size of the results page of a scored
    65-item mock, over ``dashboard.RENDERS`` renders after a warm-up; and of one item's review, loaded on demand."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.exams.models import Attempt, AttemptState

    attempt = (
        Attempt.objects.filter(pk__in=[c["attempt"] for c in data["clients"]], state=AttemptState.SCORED)
        .select_related("candidate")
        .first()
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(pk=attempt.candidate_id))
    figures = {}
    for name, url, headers in (
        ("page", f"/results/{attempt.pk}/", {}),
        ("item", f"/results/{attempt.pk}/q/1/", {"HTTP_HX_REQUEST": "true"}),
    ):
        first = client.get(url, **headers)
        assert first.status_code == 200, (url, first.status_code)
        timings = []
        for _ in range(dashboard.RENDERS):
            began = time.perf_counter()
            client.get(url, **headers)
            timings.append((time.perf_counter() - began) * 1000)
        timings.sort()
        figures[name] = {"bytes": len(first.content), "p95": timings[int(0.95 * (len(timings) - 1))]}
    return figures


def run_median(runs: list[dict]) -> dict:
    """The run with the median time, whole (its rate and CPU belong to the same run), and every run's time."""
    ordered = sorted(runs, key=lambda run: run["seconds"])
    return ordered[len(ordered) // 2] | {"runs": [run["seconds"] for run in runs]}


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def growth(sizes: tuple[float, ...], costs: tuple[float, ...]) -> tuple[float, str]:
    """The ratio of ratios between the smallest and largest size, (c₄/c₁)/(n₄/n₁), and what it says: about 1 is
    linear, well below is sub-linear (fixed costs dominate), well above is super-linear."""
    ratio = (costs[-1] / costs[0]) / (sizes[-1] / sizes[0])
    exponent = math.log(costs[-1] / costs[0]) / math.log(sizes[-1] / sizes[0])
    if exponent < 0.8:
        verdict = "sub-linear"
    elif exponent > 1.2:
        verdict = "super-linear"
    else:
        verdict = "linear"
    return ratio, f"{verdict} (n^{exponent:.2f})"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def met(condition: bool) -> str:
    return "met" if condition else "**not met**"


def figure(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:,.0f}"


def storm_counted(st: dict) -> str:
    if st["to_counted"] is not None:
        return f"{st['to_counted']:.1f} s"
    if not st["counted_n"] or not st["counted_after"]:
        return "none counted"
    rate = st["counted_n"] / st["counted_after"]
    return (
        f"{st['counted_n']:,} of {st['candidates']:,} after {st['counted_after']:.0f} s; at that rate"
        f" ({rate:.0f}/s) all ≈ {st['candidates'] / rate:.0f} s"
    )


def report(r: dict, wall: float) -> str:
    sat = r["saturation"]
    save_ratio = sat["answer save"]["ratio"]
    page_ratio = min(sat["question page"]["ratio"], sat[FRAGMENT]["ratio"])
    save_p99 = r["open_loop"]["answer save@200"]["p99"]
    weight = r["weight"]
    total_weight = sum(weight.values())
    series = r["scoring_series"]
    largest = series[-1]
    ten = r["scoring_10k"]
    ten_met = ten["scored"] == ten["attempts"] and ten["seconds"] <= 120
    cpu_in_process = r["scoring_cpu_ms"]
    cpu_worker = largest["cpu_ms"]
    calibration = next(c for c in r["calibration"] if c["persons"] == 20_000)
    gift = r["gift_import"]
    dash = r["dashboard"][CANDIDATES]
    page, item = r["results_page"]["page"], r["results_page"]["item"]
    st = r["storm"]
    n = st["candidates"]
    answered = st["sent"] - st["errors"]
    to_scored = f"{st['to_scored']:.1f} s" if st["to_scored"] is not None else "not within the time limit"
    memory = r["memory"]
    busy = [name for name, v in r["stages"].items() if v["others"] is not None and v["others"] >= 0.25]
    minutes, seconds = divmod(round(wall), 60)
    lines = [
        "# Performance",
        "",
        f"Generated by `make bench` on {time.strftime('%Y-%m-%d')} on {machine()}.",
        "",
        f"**Wall time of the whole run (`bench/run.py`, database setup included): {minutes} min {seconds:02d} s.**",
        "",
        "| stage | " + " | ".join(r["stages"]) + " |",
        "|---|" + "---:|" * len(r["stages"]),
        "| seconds | " + " | ".join(f"{v['seconds']:.0f}" for v in r["stages"].values()) + " |",
        "| share of the CPU used by other processes | "
        + " | ".join("–" if v["others"] is None else f"{v['others']:.0%}" for v in r["stages"].values())
        + " |",
        "",
        f"Stack: gunicorn ({' '.join(WORKERS)}) and one Celery worker with {scoring.WORKER_CONCURRENCY} pool"
        " processes, production settings (DEBUG off, JSON request and task logs written to a file), PostgreSQL and"
        " Redis, all on this machine; the load generators (wrk, and `bench/loadgen.py` for the steady rates) share"
        " its 2 cores. Data: one cohort"
        f" of {CANDIDATES:,} candidates, each with a full mock in progress ({ASSEMBLED} assembled by the product,"
        " the others copies of those with 60% of the choice items answered) and"
        f" {HISTORY} scored mocks over the last 12 weeks ({r['history']:,} attempts, 50 items each). HTTP figures"
        f" are the median of {REPEATS} runs of {SECONDS:g} s each; each size of the scoring series is the median"
        f" of {REPEATS} runs; the storm and the 10,000 attempts are one run each; dashboard figures are over"
        f" {dashboard.RENDERS} renders. Other jobs share this machine: the"
        " stage table says how much of its CPU went to processes other than the benchmark's own (its process tree"
        " and its PostgreSQL backends): other jobs, but also Redis and PostgreSQL's background writers, which"
        " partly work for the benchmark.",
        "",
        "## Targets",
        "",
        "| measure | result | target | |",
        "|---|---:|---:|---|",
        f"| answer saves at saturation / authenticated no-op (same run) | {save_ratio:.2f} | ≥ 0.5 "
        f"| {met(save_ratio >= 0.5)} |",
        f"| question page at saturation / authenticated no-op, the lower of full page and htmx fragment (same run)"
        f" | {page_ratio:.2f} | ≥ 0.5 | {met(page_ratio >= 0.5)} |",
        f"| answer save p99 at 200 req/s | {save_p99:.1f} ms | ≤ 50 ms | {met(save_p99 <= 50)} |",
        f"| exam page, gzipped with its JS and CSS | {total_weight / 1024:.1f} KB | ≤ 60 KB "
        f"| {met(total_weight <= 60 * 1024)} |",
        f"| worker CPU to score one attempt: the scoring service, warm (whole worker per attempt, with Celery's"
        f" own work) | {cpu_in_process:.1f} ms ({cpu_worker:.1f} ms) | ≤ 20 ms | {met(cpu_in_process <= 20)} |",
        f"| 10,000 attempts queued at once, scored through the workers ({ten['scored']:,} scored,"
        f" {ten['per_second']:.0f}/s) | {ten['seconds']:.0f} s | ≤ 120 s | {met(ten_met)} |",
        f"| 3PL calibration (MML), 1,000 items × 20,000 attempts | {calibration['seconds']:.1f} s | ≤ 120 s "
        f"| {met(calibration['seconds'] <= 120)} |",
        f"| import of a {gift['items']:,}-question GIFT file ({gift['bytes'] / 1024:.0f} KB) through the import"
        f" service | {gift['seconds']:.1f} s | ≤ 20 s | {met(gift['seconds'] <= 20)} |",
        f"| results page of a scored 65-item mock: HTML / p95 | {page['bytes'] / 1024:.0f} KB / {page['p95']:.0f} ms"
        f" | ≤ 150 KB / ≤ 150 ms | {met(page['bytes'] <= 150 * 1024 and page['p95'] <= 150)} |",
        f"| one item's review on the results page, loaded when opened: HTML / p95 | {item['bytes'] / 1024:.1f} KB /"
        f" {item['p95']:.0f} ms | none set | |",
        f"| cohort dashboard, {dash['members']:,} members: p95 / SQL queries | {dash['p95']:.0f} ms /"
        f" {dash['queries']} | ≤ 150 ms / ≤ 15 | {met(dash['p95'] <= 150 and dash['queries'] <= 15)} |",
        f"| deadline storm, {n:,} submits in {st['seconds']:g} s: answered (errors: not 2xx/3xx) | {answered:,}"
        f" ({st['errors']}) | all (0) | {met(st['errors'] == 0 and answered == n)} |",
        f"| deadline storm: first submit until all {n:,} attempts are scored | {to_scored} | none set | |",
        "",
        "## Answer save and question page under load (gunicorn + PostgreSQL)",
        "",
        "Saturation: wrk (a load generator written in C, from Debian's packages; 2 threads, 24 connections, closed"
        f" loop) cycling through {WRK_REQUESTS:,} requests per endpoint over 200 candidates' sessions, attempts and"
        " positions. The bare WSGI app is the same gunicorn serving an app that answers at once: the ceiling of"
        " server and generator together. The question page is the whole page (a first load, a reload, a link from"
        " the review screen, or any move without JavaScript); the htmx fragment is the request htmx makes after"
        " Next, Previous or the grid (the new question's panel, and the title, header and grid cells that change)."
        " The generator column is the CPU the wrk process used per second of its"
        " run (1.00 would be one of the 2 cores), from the kernel's accounting: what it leaves to the server shows"
        f" it was not the limit. Each endpoint is first loaded for {WARMUP:g} s, so that every worker's per-process"
        " caches hold what it serves. The endpoints take turns within each repeat and the"
        " ratio to the no-op is the median of the per-repeat ratios, so both sides of it see the same moment's"
        " load. Steady rates: the Python open-loop generator (`bench/loadgen.py`), each latency counted from the"
        " request's scheduled start, so queueing"
        " delay counts. Where the server cannot keep up, the achieved rate"
        " is shown and the latency is that of a queue still growing when the run ends. Errors: answers other than"
        " 2xx (a redirect to the login page would be one).",
        "",
        "| endpoint | req/s at saturation | ratio to no-op | p50 ms at saturation | generator CPU "
        + "".join(f"| p50 / p99 ms at {rate}/s " for rate in RATES)
        + "| errors |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(RATES) + "---:|",
    ]
    for name, row in sat.items():
        cells, errors = [], row["errors"]
        for rate in RATES:
            o = r["open_loop"].get(f"{name}@{rate}")
            if o is None:  # measured at saturation only
                cells.append("–")
                continue
            errors += o["errors"]
            behind = f" (achieved {o['achieved']:.0f}/s)" if o["achieved"] < 0.95 * rate else ""
            cells.append(f"{o['p50']:.1f} / {o['p99']:.1f}{behind}")
        lines.append(
            f"| {name} | {row['rps']:.0f} | {row['ratio']:.2f} | {row['p50']:.1f} | {row['generator_cpu']:.2f} | "
            + " | ".join(cells)
            + f" | {errors} |"
        )
    lines += [
        "",
        "## Deadline storm",
        "",
        f"{n:,} candidates with mocks in progress press Submit (POST `/exams/a/<id>/submit/`) through gunicorn at a"
        f" steady {n / st['seconds']:.0f}/s for {st['seconds']:g} s. The product queues the scoring on commit; the"
        " Celery worker scores each attempt and then, as a second task, adds it to the cohort's dashboard"
        " aggregates. Times run from the first submit and are found by polling the database every 0.1 s.",
        "",
        "| measure | result |",
        "|---|---:|",
        f"| submits answered / errors (not 2xx or 3xx) | {answered:,} / {st['errors']} |",
        f"| HTTP statuses | {', '.join(f'{k}: {v:,}' for k, v in st['statuses'].items())} |",
        f"| submit latency p50 / p99 / max | {st['p50']:.0f} / {st['p99']:.0f} / {st['max']:.0f} ms |",
        f"| first submit until all {n:,} attempts are scored | {to_scored} |",
        "| scoring rate over that time | " + (f"{n / st['to_scored']:.0f} attempts/s |" if st["to_scored"] else "– |"),
        f"| first submit until the cohort's aggregates count all {n:,} | {storm_counted(st)} |",
        f"| attempts by state when the wait ended | {', '.join(f'{k}: {v:,}' for k, v in st['states'].items())} |",
        "",
        "## Scoring through the workers, and calibration",
        "",
        "Submitted attempts (copies of the storm's, for candidates in no cohort, so no dashboard work follows) are"
        f" queued at once and the warm worker ({scoring.WORKER_CONCURRENCY} pool processes) scores them. Worker"
        " CPU is the user + system time of its main and pool processes (/proc/<pid>/stat) over that time, per"
        " attempt; the in-process figure is the scoring service alone, called directly in a new process"
        " (`time.process_time`).",
        "",
        "| measure | result |",
        "|---|---:|",
    ]
    lines += [
        f"| {s['attempts']:,} attempts through the workers, median of {len(s['runs'])} runs"
        f" ({', '.join(f'{t:.1f}' for t in s['runs'])} s) | {s['seconds']:.1f} s ({s['per_second']:.0f}/s;"
        f" {s['cpu_ms']:.1f} ms worker CPU each; {s['scored']:,} scored) |"
        for s in series
    ]
    lines += [
        f"| {ten['attempts']:,} attempts through the workers | {ten['seconds']:.1f} s ({ten['per_second']:.0f}/s;"
        f" {ten['cpu_ms']:.1f} ms worker CPU each; {ten['scored']:,} scored) |",
        f"| scoring service CPU per attempt, in-process, warm ({r['scoring_cpu_sample']} attempts) "
        f"| {cpu_in_process:.1f} ms |",
    ]
    lines += [
        f"| 3PL calibration (MML), 1,000 items × {c['persons']:,} simulated attempts (65 items each) "
        f"| {c['seconds']:.2f} s ({c['iterations']} iterations; r = {c['correlation']:.3f} with the true b) |"
        for c in r["calibration"]
    ]
    db = r["db_calibration"]
    lines += [
        f"| the daily item statistics + calibration from the database ({db['attempts']:,} scored mocks) "
        f"| {db['seconds']:.1f} s |",
        "",
        "## Cohort dashboard",
        "",
        "Server-side time of the dashboard's first page through the whole Django stack (in-process test client),"
        " after the storm. The smaller cohorts are the first members of the large one: same people, same history."
        f" The cohort's history ({r['history']:,} scored mocks with their items and results) was written in"
        f" {r['timings']['history_seeded']:.0f} s with COPY (`dashboard.history_seed`; `seed_demo` took 136 s for"
        " the same through the ORM). Rebuild: `cohort_stats_rebuild`, every aggregate from scratch. Week update:"
        " `week_stat_count`, the part of the cohort update after each scoring that counts the mock in its week"
        " (one member row replaced, the week summed from one row per member), median of 5.",
        "",
        "| members | scored attempts | p50 ms | p95 ms | SQL queries | rebuild | scored this week | week update |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {d['members']:,} | {d['attempts']:,} | {d['p50']:.0f} | {d['p95']:.0f} | {d['queries']}"
        f" | {d['rebuild_seconds']:.1f} s | {d['week_attempts']:,} | {d['week_update_ms']:.1f} ms |"
        for _, d in sorted(r["dashboard"].items())
    ]
    rows = [
        ("scoring N attempts through the workers, s", SCORING_SIZES, [s["seconds"] for s in series], "attempts"),
        ("worker CPU per attempt, ms", SCORING_SIZES, [s["cpu_ms"] for s in series], "attempts"),
        ("dashboard p50, ms", DASHBOARD_SIZES, [r["dashboard"][k]["p50"] for k in DASHBOARD_SIZES], "members"),
        (
            "cohort update after one scoring: `week_stat_count`, ms",
            DASHBOARD_SIZES,
            [r["dashboard"][k]["week_update_ms"] for k in DASHBOARD_SIZES],
            "members",
        ),
        (
            "cohort aggregates rebuilt from scratch, s",
            DASHBOARD_SIZES,
            [r["dashboard"][k]["rebuild_seconds"] for k in DASHBOARD_SIZES],
            "members",
        ),
        ("3PL calibration (MML), s", CALIBRATION_SIZES, [c["seconds"] for c in r["calibration"]], "attempts"),
    ]
    lines += [
        "",
        "## How cost grows with work",
        "",
        "The same figures at 1×, 2× and 4× the data. Ratio of ratios = (cost at 4× ÷ cost at 1×) ÷ 4: about 1 is"
        " linear, below 1 sub-linear, above 1 super-linear; k fits cost ∝ nᵏ between 1× and 4× (linear:"
        " 0.8 ≤ k ≤ 1.2). For a cost per unit (CPU per attempt) the total is linear when k is near 0.",
        "",
        "| measure | 1× | 2× | 4× | ratio of ratios | growth |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, sizes, costs, unit in rows:
        ratio, verdict = growth(sizes, costs)
        if label.startswith("worker CPU per attempt"):
            k = math.log(costs[-1] / costs[0]) / math.log(sizes[-1] / sizes[0])
            verdict = f"per attempt k = {k:.2f}: total " + ("linear" if abs(k) < 0.2 else verdict)
        cells = " | ".join(f"{figure(c)} ({size:,} {unit})" for size, c in zip(sizes, costs, strict=True))
        lines.append(f"| {label} | {cells} | {ratio:.2f} | {verdict} |")
    lines += [
        "",
        "## Memory (RSS)",
        "",
        "VmRSS from /proc/<pid>/status every 0.5 s; the largest process of each kind. Peak: over the HTTP load and"
        " the storm (gunicorn), over the storm and the scoring series (Celery). After load: gunicorn once the"
        " storm's last submit was answered and its attempts scored, Celery once the series was scored.",
        "",
        "| process | peak | after load |",
        "|---|---:|---:|",
        f"| gunicorn web worker (of 3) | {mib(memory['gunicorn']['peak'])} | {mib(memory['gunicorn']['after'])} |",
        f"| Celery pool process (of {scoring.WORKER_CONCURRENCY}) | {mib(memory['celery_pool']['peak'])}"
        f" | {mib(memory['celery_pool']['after'])} |",
        f"| Celery main process | {mib(memory['celery_main']['peak'])} | {mib(memory['celery_main']['after'])} |",
        "",
        "## Exam page weight (gzipped)",
        "",
        "| part | bytes |",
        "|---|---:|",
        *[f"| {name} | {size:,} |" for name, size in weight.items()],
        f"| **total** | **{total_weight:,}** ({total_weight / 1024:.1f} KB; budget 60 KB) |",
        "",
        "## Notes",
        "",
        "- The scoring runs are attempts of candidates in no cohort, so no cohort update follows them; in the storm"
        " the same workers also update the cohort's aggregates and score more slowly.",
        "- The calibration target is measured on simulated responses (the solver alone); the database figure is"
        " the whole daily task over every scored mock in the benchmark database.",
        f"- The storm's cohort updates still queued after {storm.COUNTED_CAP:g} s are dropped ({st['dropped']}"
        " messages) so that the scoring series runs alone; the dashboard's rebuild then counts every attempt.",
        *(
            [
                f"- {', '.join(busy)}: other processes took a quarter of the CPU or more, so these figures are"
                " pessimistic; compare with a run on a quiet machine before reading a trend into them."
            ]
            if busy
            else []
        ),
        "- The question page's SQL query count is constant in the exam's length: a test asserts it"
        " (`tests/exams/test_views.py::test_question_page_uses_a_constant_number_of_queries`).",
        "",
    ]
    return "\n".join(lines)


def django_setup() -> None:
    os.environ.update(ENV)
    os.environ["REQUEST_LOG_LEVEL"] = "WARNING"  # this process queues thousands of tasks: no line for each
    import django

    django.setup()


def main() -> int:
    started = time.monotonic()
    stages: dict[str, dict[str, float | None]] = {}
    mark = [time.monotonic()]
    cpu: list[CpuShare] = []  # from the end of the database stage, whose short-lived commands it cannot follow

    def stage(name: str) -> None:
        now = time.monotonic()
        others = cpu[0].others() if cpu else None
        stages[name] = {"seconds": now - mark[0], "others": others}
        mark[0] = now
        share = f"; other processes used {others:.0%} of the CPU" if others is not None else ""
        print(f"bench: {name} done ({stages[name]['seconds']:.0f} s, {now - started:.0f} s in all{share})", flush=True)
        cpu[:] = cpu or [CpuShare(BENCH_DB.rsplit("/", 1)[1])]

    # A SIGTERM (or the terminal closing) must still stop gunicorn and the workers: run the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    LOGS.mkdir(exist_ok=True)
    for log in LOGS.glob("*.log"):
        log.unlink()
    print(f"bench: logs in {LOGS}; preparing the database…", flush=True)
    database_prepare()
    django_setup()
    stage("database")
    data = data_prepare()
    # This process now holds a large heap of setup objects that a web or worker process would not; keep the
    # collector from rescanning them during the in-process measurements and the load generation.
    gc.collect()
    gc.freeze()
    stage("data")
    results: dict = {"history": data["history"], "timings": data["timings"]}
    server = gunicorn_start()
    sampler = RssSampler()
    try:
        sampler.watch("gunicorn", lambda: children(server.pid))
        with sampler:
            results.update(measure(data))
            results["weight"] = page_weight(data)
            stage("http")
            with scoring.celery_workers(ENV, LOGS / "celery.log") as worker:
                sampler.watch("celery_main", lambda: [worker.pid])
                sampler.watch("celery_pool", lambda: children(worker.pid))
                results["storm"] = storm.run(base=BASE, clients=data["clients"], cohort_id=data["cohort"].pk)
                sampler.sample()
                gunicorn_after = sampler.largest("gunicorn")
                results["storm"]["dropped"] = scoring.workers_drain(worker)
                stage("storm")
                series = []
                for size in SCORING_SIZES:
                    runs = []
                    for repeat in range(REPEATS):
                        ids = scoring.attempts_clone(
                            sources=[c["attempt"] for c in data["clients"]],
                            count=size,
                            prefix=f"queued{size}r{repeat}-",
                            state="submitted",
                        )
                        runs.append(scoring.through_workers(worker, ids))
                    series.append(run_median(runs))
                    times = ", ".join(f"{run['seconds']:.1f}" for run in runs)
                    print(f"bench:   {size} attempts scored in {times} s", flush=True)
                results["scoring_series"] = series
                ids = scoring.attempts_clone(
                    sources=[c["attempt"] for c in data["clients"]],
                    count=10_000,
                    prefix="queued10k-",
                    state="submitted",
                )
                results["scoring_10k"] = scoring.through_workers(worker, ids, timeout=300)
                print(f"bench:   10000 attempts scored in {results['scoring_10k']['seconds']:.1f} s", flush=True)
                sampler.sample()
                memory = {
                    "gunicorn": {"peak": sampler.peaks["gunicorn"], "after": gunicorn_after},
                    "celery_main": {"peak": sampler.peaks["celery_main"], "after": sampler.largest("celery_main")},
                    "celery_pool": {"peak": sampler.peaks["celery_pool"], "after": sampler.largest("celery_pool")},
                }
                results["memory"] = memory
                stage("scoring series")
    finally:
        scoring.process_group_stop(server)
    results["dashboard"] = dashboard.sizes_measure(
        exam=data["exam"],
        lead=data["lead"],
        user_ids=data["user_ids"],
        full_cohort=data["cohort"],
        sizes=DASHBOARD_SIZES,
    )
    results["results_page"] = results_page(data)
    stage("dashboard")
    sample = scoring.attempts_clone(
        sources=[c["attempt"] for c in data["clients"]], count=220, prefix="cpu-", state="submitted"
    )
    results["scoring_cpu_ms"] = scoring.cpu_per_attempt_fresh(sample, ENV)
    results["scoring_cpu_sample"] = len(sample) - 20
    results["calibration"] = [scoring.calibration_time(n) for n in CALIBRATION_SIZES]
    results["db_calibration"] = scoring.db_calibration_time()
    stage("scoring and calibration")
    results["gift_import"] = interchange.gift_import_time(exam=data["exam"])
    stage("import")
    results["stages"] = stages
    wall = time.monotonic() - started
    text = report(results, wall)
    (ROOT / "docs" / "performance.md").write_text(text)
    (ROOT / "bench" / "last-run.json").write_text(json.dumps(results, indent=2, default=str))
    print(text)
    print(f"bench: done in {wall:.0f} s ({wall / 60:.1f} min)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
