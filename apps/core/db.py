"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


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


class ModelColumns:
    """A model's columns for a hand-written SELECT, and its instances built back from them as the ORM would.

    For the few reads on the hottest paths, where building and compiling the ORM query costs several times the
    query itself (0.6–0.9 ms of CPU against 0.1 ms for one attempt, measured on the question page), a selector may
    write its SQL by hand. The columns come from the model's fields, so a new field is selected without touching
    the SQL, and every value passes through the same converters the ORM's compiler applies (JSON arrives as text;
    SQLite returns datetimes and booleans as strings and integers). Fields in ``defer`` are left out and load on
    first access, as with ``QuerySet.defer()``.
    """

    def __init__(self, model: type[Model], alias: str, *, defer: tuple[str, ...] = ()) -> None:
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields if field.name not in defer]
        quote = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{quote(field.column)}" for field in self.fields)
        self.attnames = [field.attname for field in self.fields]
        self.width = len(self.fields)
        self._alias = alias
        self._converters: dict[str, list[tuple[int, list]]] = {}

    def _converters_for(self, db) -> list[tuple[int, list]]:
        """Per database vendor, as `SQLCompiler.get_converters` builds them for a queryset."""
        found = self._converters.get(db.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self._alias)
                functions = db.ops.get_db_converters(column) + column.get_db_converters(db)
                if functions:
                    found.append((index, [(function, column) for function in functions]))
            self._converters[db.vendor] = found
        return found

    def instance(self, row: tuple, start: int = 0, using: str = DEFAULT_DB_ALIAS) -> Model:
        """The instance whose values start at ``start`` in a row read from the ``using`` database."""
        db = connections[using]
        values = list(row[start : start + self.width])
        for index, functions in self._converters_for(db):
            for function, column in functions:
                values[index] = function(values[index], column, db)
        return self.model.from_db(using, self.attnames, values)


@contextmanager
def planned_once_cursor() -> Iterator:
    """A cursor for a hot, fixed statement that PostgreSQL should plan once per connection, not on every run.

    Django binds parameters on the client (its default with psycopg 3) and turns psycopg's prepared statements
    off, so every statement is parsed and planned anew: for the question page's read that was 0.3 of its 0.45 ms
    of PostgreSQL's CPU. This cursor binds on the server and prepares what it runs, once per connection, and
    connections are kept (CONN_MAX_AGE). Behind a pooler in transaction mode prepared statements need its support
    (PgBouncer 1.21 or later, `max_prepared_statements`). Other databases get Django's cursor. Statements are
    logged as Django logs its own, so query counts see them.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = _preparing_cursor_class()(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


@cache
def _preparing_cursor_class() -> type:
    import psycopg  # only on PostgreSQL

    class PreparingCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):  # always prepared
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor
