"""The Celery app. With no broker configured, settings make tasks run in-process (see CELERY_TASK_ALWAYS_EAGER)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
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
