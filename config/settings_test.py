"""Test settings: the real services. PostgreSQL and Redis on localhost unless the environment says otherwise."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@localhost:5432/mla")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/15")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests drive Celery explicitly: eager by default, a real worker in tests marked `celery`.
CELERY_TASK_ALWAYS_EAGER = True

# Throttling is tested on its own; the suite's many API calls must not trip it.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "user": "10000/minute"}}  # noqa: F405

# Item media written by tests go to a throwaway directory, not the checkout.
MEDIA_ROOT = tempfile.mkdtemp(prefix="mla-test-media-")
