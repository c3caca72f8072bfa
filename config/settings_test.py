"""Test settings: the real services. PostgreSQL and Redis on localhost unless the environment says otherwise."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DATABASE_URL", "postgres://postgres@localhost:5432/mla")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/15")


def _redis_for_worker(url: str, worker: str) -> str:
    """Each pytest-xdist worker (gw0, gw1, …) gets a Redis database of its own, counting down from the given one,
    so that one worker's cache clear, rate-limit counters and Celery queue never reach another's. (pytest-django
    already gives each worker its own PostgreSQL database.)"""
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base - int(worker[2:])) % 16}"))


# The given URLs are kept aside, so that a subprocess that loads these settings again maps from them, not twice.
for _name in ("REDIS_URL", "CELERY_BROKER_URL"):
    _given = os.environ.get(f"{_name}_GIVEN") or os.environ.get(_name)
    if _given:
        os.environ[f"{_name}_GIVEN"] = _given
        os.environ[_name] = _redis_for_worker(_given, os.environ.get("PYTEST_XDIST_WORKER", ""))

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests drive Celery explicitly: eager by default, a real worker in tests marked `celery`.
CELERY_TASK_ALWAYS_EAGER = True

# Throttling is tested on its own; the suite's many API calls must not trip it.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "user": "10000/minute"}}  # noqa: F405

# Item media written by tests go to a throwaway directory, not the checkout.
MEDIA_ROOT = tempfile.mkdtemp(prefix="mla-test-media-")
