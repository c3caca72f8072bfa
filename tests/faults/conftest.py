"""Fault injection on the real stack: a Redis of the test's own that it may kill, Celery beat and a worker on it,
and gunicorn in production settings against the test database. Processes started here are stopped here; the
shared Redis and PostgreSQL are never touched."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import page  # noqa: F401 - the offline test drives the exam like tests/browser
from tests.conftest import CeleryWorker, celery_broker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def subprocess_database_url(**options: str) -> str:
    """The URL of this test's database, for subprocesses; ``options`` become connection options."""
    from django.db import connection

    db = connection.settings_dict
    query = "&".join(f"{key}={value}" for key, value in options.items())
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}" + (
        f"?{query}" if query else ""
    )


class PrivateRedis:
    """A redis-server of this test's own on a free port, without persistence: stopping it is an outage that no
    other test run notices, and restarting it brings back an empty Redis, as after a crash."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        started = wait_for(answers, timeout=15)
        client.close()
        if not started:
            self.stop()
            pytest.fail("the private redis-server did not start")

    def stop(self) -> None:
        """kill -9: no shutdown, like a crash or a lost host."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class CeleryBeat:
    """Celery beat with the production scheduler (django-celery-beat, synced from CELERY_BEAT_SCHEDULE)."""

    def __init__(self, env: dict[str, str], cwd: Path, pidfile: Path) -> None:
        self.env, self.cwd, self.pidfile = env, cwd, pidfile
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "warning",
                "--pidfile",
                str(self.pidfile),
            ],
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class RedisStack:
    redis: PrivateRedis
    worker: CeleryWorker
    beat: CeleryBeat


@pytest.fixture
def private_redis_stack(transactional_db, settings, tmp_path):
    """The app in this process (cache, cached_db sessions, Celery sends), a Celery worker and Celery beat, all on
    a private Redis the test may kill."""
    private = PrivateRedis()
    private.start()
    worker = beat = None
    try:
        # Celery first: the app reads Django's settings when first used, and must remember the shared broker.
        with celery_broker(private.url):
            settings.REDIS_URL = settings.CELERY_BROKER_URL = private.url
            settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": private.url}}
            worker = CeleryWorker(settings)
            worker.start()
            beat = CeleryBeat(worker.env, settings.BASE_DIR, tmp_path / "beat.pid")
            beat.start()
            yield RedisStack(redis=private, worker=worker, beat=beat)
    finally:
        for process in (beat, worker):
            if process is not None:
                process.stop()
        private.stop()


class GunicornServer:
    """gunicorn as `make bench` runs it (production settings: DEBUG off, persistent database connections), on
    this test's database; its connections carry an application_name, so the test can find and cut them."""

    def __init__(self, settings) -> None:
        from bench.run import ENV, WORKERS

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.application_name = f"faults-gunicorn-{os.getpid()}-{self.port}"
        self.cwd = settings.BASE_DIR
        self.workers = WORKERS
        self.env = {
            **ENV,
            "DATABASE_URL": subprocess_database_url(application_name=self.application_name),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "REQUEST_LOG_LEVEL": "WARNING",  # a line per request would only bury a failure's traceback
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                *self.workers,
                "--log-level",
                "warning",
            ],
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
        )

        def ready() -> bool:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=5)  # noqa: S310 - our own loopback server
            except OSError:
                return self.process.poll() is not None  # died: stop waiting
            return True

        if not wait_for(ready, timeout=60) or self.process.poll() is not None:
            self.stop()
            pytest.fail("gunicorn did not start")

    def sessions(self, users: list) -> list[tuple[str, str]]:
        """A logged-in session per user, made by bench's helper and signed with this server's secret key: the
        Cookie header and CSRF token of each."""
        import secrets

        from django.conf import settings
        from django.test import override_settings

        from bench.run import sessions_create

        with override_settings(SECRET_KEY=self.env["SECRET_KEY"]):
            keys = sessions_create(users)
        sessions = []
        for user in users:
            csrf = secrets.token_hex(16)
            sessions.append((f"{settings.SESSION_COOKIE_NAME}={keys[user.pk]}; csrftoken={csrf}", csrf))
        return sessions

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return {int(pid) for pid in children}

    def reload(self) -> None:
        """SIGHUP: gunicorn starts new workers and gracefully stops the old ones."""
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def gunicorn_server(transactional_db, settings):
    server = GunicornServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
