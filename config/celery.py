"""The Celery app. With no broker configured, settings make tasks run in-process (see CELERY_TASK_ALWAYS_EAGER)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mla")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task logs carry the task id and name, and the request id of the web request that enqueued the task.
app.steps["worker"].add(DjangoStructLogInitStep)


@setup_logging.connect
def logging_configure(**kwargs) -> None:
    """Workers log exactly as the web processes do (settings.LOGGING), not with Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
@task_postrun.connect
def database_connections_recycle(task=None, **kwargs) -> None:
    """Give each task the connection handling Django gives each request: close_old_connections() before and
    after, which honours CONN_MAX_AGE and CONN_HEALTH_CHECKS. Celery's own Django fixup instead closes every
    connection around every task (a new PostgreSQL backend per task: about a third of a scoring's time);
    CELERY_DB_REUSE_MAX in settings turns that off. Tasks run eagerly share the caller's transaction: left alone."""
    if task is not None and not task.request.is_eager:
        from django.db import close_old_connections

        close_old_connections()
