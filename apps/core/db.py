"""Database helpers shared by the apps."""

from __future__ import annotations

from django.apps import apps
from django.db import connection


def tables_analyze(*app_labels: str) -> None:
    """Refresh the query planner's statistics for every table of these apps, after a bulk load.

    Autovacuum analyses a table once enough rows change, but not at once; until it does, the planner plans for
    the tables as they were (empty, after a fresh install) and picks sequential scans and bad join orders. The
    same statement works on PostgreSQL and SQLite.
    """
    with connection.cursor() as cursor:
        for label in app_labels:
            for model in apps.get_app_config(label).get_models(include_auto_created=True):
                if model._meta.managed and not model._meta.proxy:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
