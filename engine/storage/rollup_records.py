"""Peewee records for rollups: the `rollups` table and the `rollup_marks` bookkeeping.

`rollups` holds one row per (check, level, bucket start), its primary key, so a bucket is written
by an upsert and re-writing it is harmless. The secondary index (level, bucket_start) serves the
roll-up of the next level and pruning. On SQLite the table is WITHOUT ROWID: the rows then live in
the primary-key b-tree instead of beside a copy of it — measured 79 instead of 100 bytes a minute
row (200 checks × 1,440 minutes). InnoDB always clusters rows by the primary key.

`rollup_marks` has one row per level (0 = raw results): `rolled_to`, below which that level's
buckets are complete, and `pruned_to`, below which its data may already be deleted.
"""

from __future__ import annotations

from typing import Any

import peewee
from peewee import CharField, CompositeKey, DoubleField, IntegerField, SmallIntegerField

from engine.storage.fields import InstantField, from_micros, to_micros
from engine.storage.records import BaseRecord
from pulsewatch.domain.rollups import Histogram, Level, Rollup

RAW = 0
"""The `rollup_marks` level of raw results."""

LEVEL_CODES = {Level.MINUTE: 1, Level.HOUR: 2, Level.DAY: 3}
"""How a level is stored (a SMALLINT)."""

LEVELS_BY_CODE = {code: level for level, code in LEVEL_CODES.items()}

HISTOGRAM_LIMIT = 1024
"""Longest encoded histogram: 86 buckets of 10-digit counts fit."""


class _WithoutRowidOnSqlite(peewee.SchemaManager):  # type: ignore[misc]
    """Creates the table WITHOUT ROWID on SQLite (see module docstring); MySQL has no such clause."""

    def create_table(self, safe: bool = True, **options: Any) -> None:
        db = self.database
        db = getattr(db, "obj", db)  # the records' DatabaseProxy → the real database
        self.model._meta.without_rowid = isinstance(db, peewee.SqliteDatabase)
        super().create_table(safe, **options)


class RollupRecord(BaseRecord):
    """One check's probes in one minute, hour or day bucket (a `pulsewatch.domain.rollups.Rollup`)."""

    check_id = IntegerField()
    level = SmallIntegerField()
    bucket_start = InstantField()
    probes = IntegerField()
    failures = IntegerField()
    degraded = IntegerField()
    latency_sum_ms = DoubleField()
    latency_min_ms = DoubleField()
    latency_max_ms = DoubleField()
    histogram = CharField(max_length=HISTOGRAM_LIMIT)

    class Meta:
        table_name = "rollups"
        primary_key = CompositeKey("check_id", "level", "bucket_start")
        indexes = ((("level", "bucket_start"), False),)
        schema_manager_class = _WithoutRowidOnSqlite

    COLUMNS = (
        "check_id",
        "level",
        "bucket_start",
        "probes",
        "failures",
        "degraded",
        "latency_sum_ms",
        "latency_min_ms",
        "latency_max_ms",
        "histogram",
    )

    @staticmethod
    def row(rollup: Rollup) -> tuple[Any, ...]:
        """The database values of `rollup`, in `COLUMNS` order (the upsert's fast path)."""
        return (
            rollup.check_id,
            LEVEL_CODES[rollup.level],
            to_micros(rollup.start),
            rollup.count,
            rollup.failures,
            rollup.degraded,
            rollup.latency_sum_ms,
            rollup.latency_min_ms,
            rollup.latency_max_ms,
            rollup.histogram.encode(),
        )

    @staticmethod
    def from_row(values: tuple[Any, ...]) -> Rollup:
        """A domain Rollup from a tuple of database values in `COLUMNS` order."""
        check_id, level, start, probes, failures, degraded, total, low, high, histogram = values
        return Rollup(
            check_id=int(check_id),
            level=LEVELS_BY_CODE[int(level)],
            start=from_micros(int(start)),
            count=int(probes),
            failures=int(failures),
            degraded=int(degraded),
            latency_sum_ms=float(total),
            latency_min_ms=float(low),
            latency_max_ms=float(high),
            histogram=Histogram.decode(histogram),
        )


class RollupMarkRecord(BaseRecord):
    """Per level (0 = raw results): complete below `rolled_to`, possibly pruned below `pruned_to`.

    Both are BIGINT microseconds since the epoch, like every instant (see `fields`); the rollup
    store reads and writes them as plain integers in its own SQL.
    """

    level = SmallIntegerField(primary_key=True)
    rolled_to = InstantField(null=True)
    pruned_to = InstantField(null=True)

    class Meta:
        table_name = "rollup_marks"


ROLLUP_RECORDS = (RollupRecord, RollupMarkRecord)
"""The tables of this context, in creation order."""
