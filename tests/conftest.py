from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.roles import INSTRUCTORS, TEAM_LEADS, roles_ensure
from apps.syllabus.models import Exam
from apps.syllabus.services import syllabus_load

SYLLABUS = Path(settings.BASE_DIR) / "fixtures" / "syllabus" / "mla-c01.yaml"


@pytest.fixture
def exam(db) -> Exam:
    """The real MLA-C01 blueprint, loaded from the shipped fixture."""
    return syllabus_load(path=SYLLABUS).exam


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
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real Celery worker process, consuming from Redis and writing to this test's PostgreSQL database."""
    import os
    import subprocess
    import sys
    import time

    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    app.conf.task_always_eager = False
    app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("the Celery worker did not start")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        app.conf.task_always_eager = True


@pytest.fixture(autouse=True, scope="session")
def _fresh_cache():
    """Ids restart with each test database; cached entries from an earlier run must not leak in."""
    from django.core.cache import cache

    cache.clear()
