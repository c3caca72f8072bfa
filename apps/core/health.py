"""Readiness checks for /healthz: each returns None when healthy, or what is wrong."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def database_check() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not healthy"; report it as text
        return f"{type(exc).__name__}: {exc}"
    return None


def redis_check() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def celery_check() -> str | None:
    """With a broker configured, at least one worker must answer a ping; in-process mode needs none."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from config.celery import app

    try:
        replies = app.control.ping(timeout=0.5)
    except Exception as exc:  # broker unreachable: report it as text
        return f"{type(exc).__name__}: {exc}"
    return None if replies else "no Celery worker answered"
