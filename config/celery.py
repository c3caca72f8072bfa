"""The Celery app. With no broker configured, settings make tasks run in-process (see CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mla")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
