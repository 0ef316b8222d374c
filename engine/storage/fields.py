"""Column types for the records: instants as integer microseconds, and ids that are never reused.

Why integers for instants: peewee stores SQLite datetimes as ~26-character text that it re-parses on
every read, and MySQL's DATETIME drops the fraction unless declared DATETIME(6). A BIGINT is 8 bytes
on both backends, compares and indexes as a plain number, converts with integer arithmetic, and holds
Python's microsecond resolution exactly, so what the engine wrote is what it reads back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
from peewee import AutoField, BigIntegerField

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(instant: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact).

    Raises:
        ValueError: the datetime is naive — the domain promises aware UTC, so this is a bug upstream.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: PulseWatch stores aware UTC instants only")
    return (instant - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Integer microseconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=micros)


class InstantField(BigIntegerField):  # type: ignore[misc]
    """An aware datetime kept as BIGINT microseconds since the Unix epoch, UTC (see module docstring)."""

    def db_value(self, value: datetime | int | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        return to_micros(value)

    def python_value(self, value: int | None) -> datetime | None:
        return None if value is None else from_micros(value)


class StableAutoField(AutoField):  # type: ignore[misc]
    """An integer id that is never reused after a delete.

    SQLite reuses the highest rowid once its row is deleted; results and flips outlive their check
    (they age out with retention), so a reused check id would hand a removed check's history to a
    new one. SQLite needs AUTOINCREMENT for that; InnoDB's AUTO_INCREMENT already never goes back.
    """

    def ddl(self, ctx: Any) -> Any:
        node = super().ddl(ctx)
        if ctx.state.param == "?":  # the SQLite dialect; MySQL's placeholder is %s
            return peewee.NodeList((node, peewee.SQL("AUTOINCREMENT")))
        return node
