"""Sending Celery tasks from request paths, after commit, without letting a broker outage fail the request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# A few quick retries, then give up: the request is waiting (a refused connection fails in about 0.5 s; a
# black-holed broker is bounded by the transport's socket_connect_timeout in settings).
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue_on_commit(task: Task, *args: Any, on_outage: Callable[[OperationalError], None] | None = None) -> None:
    """Send ``task(*args)`` once the current transaction commits.

    The committed work stands even when the broker is unreachable: the failure is not raised. Without
    ``on_outage`` it is logged, so only leave it out for tasks that are re-sent from the database (scoring:
    ``attempts_requeue_unscored`` and the results page); otherwise ``on_outage`` is called with the error (to do
    the work here instead, say). Without a broker the task runs here, after commit; for tasks without
    ``on_outage`` its failure is logged too, since the request itself succeeded and the work is re-sent.
    """

    def send() -> None:
        try:
            task.apply_async(args, retry_policy=PUBLISH_RETRY_POLICY)
        except OperationalError as exc:
            if on_outage is not None:
                on_outage(exc)
                return
            logger.warning("broker unreachable, %s%r not sent; its periodic re-send will: %s", task.name, args, exc)
        except Exception:
            if on_outage is not None or not task.app.conf.task_always_eager:
                raise
            # Run in-process (no broker) and failed, e.g. SQLite busy past its timeout: the same as a lost message.
            logger.exception("%s%r failed in-process; it is re-sent from the database", task.name, args)

    transaction.on_commit(send)
