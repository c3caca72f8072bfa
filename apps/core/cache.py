"""The cache backend: Django's Redis cache, made to survive a Redis outage."""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
OUTAGE = (RedisConnectionError, RedisTimeoutError)


class OutageTolerantRedisCache(RedisCache):
    """While Redis is unreachable, reads are misses and writes are dropped (with a warning) instead of raising.

    Everything we cache can be rebuilt from PostgreSQL (item metadata, the cut score, cached_db sessions), so
    callers fall back to the database and exams keep working through a Redis outage. The same idea as
    django-redis's ``IGNORE_EXCEPTIONS``. ``incr`` raises ValueError, as Django's caches do for a missing key
    (during an outage every key is missing), so a counter's caller (django-ratelimit) can carry on; ``clear``
    still raises.
    """

    def _outage(self, operation: str, exc: Exception) -> None:
        logger.warning("cache %s skipped, Redis unreachable: %s", operation, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except OUTAGE as exc:
            self._outage("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except OUTAGE as exc:
            self._outage("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except OUTAGE as exc:
            self._outage("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except OUTAGE as exc:
            self._outage("add", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except OUTAGE as exc:
            self._outage("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except OUTAGE as exc:
            self._outage("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except OUTAGE as exc:
            self._outage("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except OUTAGE as exc:
            self._outage("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except OUTAGE as exc:
            self._outage("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except OUTAGE as exc:
            self._outage("incr", exc)
            raise ValueError(f"Key '{key}' not found: Redis is unreachable") from exc
