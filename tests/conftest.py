import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.roles import INSTRUCTORS, TEAM_LEADS, roles_ensure
from apps.syllabus.models import Exam
from apps.syllabus.services import syllabus_load, syllabus_map_load

SYLLABUS = Path(settings.BASE_DIR) / "fixtures" / "syllabus" / "mla-c01.yaml"
SYLLABUS_C02 = SYLLABUS.with_name("mla-c02.yaml")
MAP_C01_C02 = SYLLABUS.with_name("mla-c01-to-c02.yaml")


@pytest.fixture
def exam(db) -> Exam:
    """The real MLA-C01 blueprint, loaded from the shipped fixture."""
    return syllabus_load(path=SYLLABUS).exam


@pytest.fixture
def exam_c02(exam) -> Exam:
    """The real MLA-C02 blueprint next to MLA-C01, with the shipped map from C01's objectives to C02's skills."""
    c02 = syllabus_load(path=SYLLABUS_C02).exam
    syllabus_map_load(path=MAP_C01_C02)
    return c02


@pytest.fixture
def candidate(db):
    return get_user_model().objects.create_user("cand", password="pw-cand-123")


@pytest.fixture
def instructor(db):
    user = get_user_model().objects.create_user("inst", password="pw-inst-123", is_staff=True)
    user.groups.add(roles_ensure()[INSTRUCTORS])
    return user


@pytest.fixture
def lead(db):
    user = get_user_model().objects.create_user("lead", password="pw-lead-123")
    user.groups.add(roles_ensure()[TEAM_LEADS])
    return user


@pytest.fixture
def bank(exam):
    """A small complete bank: 6 published items per task, pretest items and one case study."""
    from tests.exams.factories import bank_build

    bank_build(exam)
    return exam


@pytest.fixture
def bank_c02(exam, exam_c02):
    """A C01 bank large enough for C02 forms (8 published items per task), carried over to MLA-C02."""
    from apps.questions.placements import bank_carry_over
    from tests.exams.factories import bank_build

    bank_build(exam, per_task=8)
    bank_carry_over(target=exam_c02)
    return exam_c02


@contextmanager
def data_for_a_class(django_db_blocker):
    """Data that the tests of one class share, for a class-scoped fixture that takes long to build: written in a
    transaction that is never committed. Each test of the class must use the database (mark the class
    ``django_db``, not transactional): its transaction is then a savepoint within this one, so whatever a test
    writes is rolled back before the next test starts. Pytest tears a class-scoped fixture down before any test
    outside the class runs, on whichever xdist worker, so no other test sees the data."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


class CeleryWorker:
    """A real Celery worker process, consuming from Redis and writing to this test's PostgreSQL database."""

    def __init__(self, settings) -> None:
        import os

        from django.db import connection

        db = connection.settings_dict
        self.settings = settings
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "LOG_LEVEL": "WARNING",
        }
        self.process = None

    def start(self) -> None:
        import os
        import subprocess
        import sys
        import time

        from config.celery import app

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "warning",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=self.settings.BASE_DIR,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail("the Celery worker did not start")

    def kill(self) -> None:
        """kill -9 the worker and its pool: no chance to acknowledge or clean up."""
        import os
        import signal

        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        import subprocess

        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    from config.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    worker = CeleryWorker(settings)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        app.control.purge()
        app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def browser():
    """Chromium through Playwright, for tests/browser and the browser tests of tests/faults: one for the whole run,
    since Playwright's sync API allows one instance at a time."""
    from tests.browser.conftest import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}; .ci/run installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(autouse=True, scope="session")
def _fresh_cache():
    """Ids restart with each test database; cached entries from an earlier run must not leak in."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts sign-ups and reset requests from zero (the counters live in the shared Redis)."""
    import uuid

    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _fresh_item_meta():
    """The answer-save, delivery and scoring paths remember items per process; each test starts without them."""
    from apps.exams import services
    from apps.questions import selectors as questions
    from apps.scoring import services as scoring

    services._LOCAL_META.clear()
    questions._DELIVERED.clear()
    for local in (scoring._CALIBRATED_LOCAL, scoring._CUT_LOCAL, scoring._TASKS_LOCAL, scoring._FAILED):
        local.clear()


def _celery_pools_forget(app, *, close: bool) -> None:
    """Make the Celery app look its broker connections up again, so its next send uses ``app.conf.broker_url``.
    With ``close``, the current broker's pools are also closed and dropped from kombu's process-wide registry
    (another test may later get the same port)."""
    from kombu import pools
    from kombu.utils.collections import eqhash

    if close:
        key = eqhash(app.connection_for_write())
        for group in (pools.producers, pools.connections):
            pool = group.pop(key, None)
            if pool is not None:
                pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_broker(url: str):
    """Point this process's Celery app (sends, control pings) at ``url`` and a real broker, not eager mode."""
    from config.celery import app

    previous = app.conf.broker_url
    _celery_pools_forget(app, close=False)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        _celery_pools_forget(app, close=True)
        app.conf.broker_url = previous
        app.conf.task_always_eager = True


def production_env() -> dict[str, str]:
    """The environment of a production process (DEBUG off, a real secret), for settings checks in a subprocess."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "k3Vq9-ZtR8wLpX2mN5bJ7cHy4dFg6sTa1eUo0iWr_QnMvKlPjBhGxCzYf",
        "ALLOWED_HOSTS": "practice.example.com",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only; never in production
    return env
