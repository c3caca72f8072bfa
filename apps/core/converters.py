"""URL converters for database ids and positions.

Django's ``int`` converter takes any number of digits, and a number too big for the column then fails deep in the
database driver (SQLite raises OverflowError) instead of answering 404. These match only numbers the column can
hold, so anything larger matches no URL: a plain 404 before any view or query runs.
"""

from __future__ import annotations


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
