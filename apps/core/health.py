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
