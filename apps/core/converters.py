"""URL converters for database ids and positions.

Django's ``int`` converter takes any number of digits, and a number too big for the column then fails deep in the
database driver (SQLite raises OverflowError) instead of answering 404. These match only numbers the column can
hold, so anything larger matches no URL: a plain 404 before any view or query runs.
"""

from __future__ import annotations

import re


class _BoundedIntConverter:
    maximum: int
    regex: str

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > self.maximum:
            raise ValueError(f"{value} is beyond {self.maximum}")  # Django treats this as "no match": a 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)


class IdConverter(_BoundedIntConverter):
    """A database id (BigAutoField): a signed 64-bit integer in PostgreSQL and SQLite alike."""

    maximum = 2**63 - 1
    regex = "[0-9]{1,19}"


class PositionConverter(_BoundedIntConverter):
    """A position in an attempt, or an option's display number (PositiveSmallIntegerField)."""

    maximum = 2**15 - 1
    regex = "[0-9]{1,5}"


def id_param(value: str | None) -> int | None:
    """A database id from a query or form parameter, by the same rule as ``IdConverter``: ASCII digits a column
    can hold, else None. (``str.isdigit`` alone lets through "²", which ``int`` refuses, and numbers too big for
    the column, which fail in the driver: both were server errors.)"""
    if value is None or not re.fullmatch(IdConverter.regex, value):
        return None
    number = int(value)
    return number if number <= IdConverter.maximum else None


def number_param(value: str | None, *, digits: int) -> int | None:
    """A small non-negative number (a page, a position, a sequence) from a query or form parameter: at most
    ``digits`` ASCII digits, else None."""
    return int(value) if value is not None and re.fullmatch(f"[0-9]{{1,{digits}}}", value) else None
