"""The rollup store's SQL text, per backend: aggregation of raw results, the upsert, batch deletes.

Written as text rather than peewee queries because the aggregation groups by computed expressions
(minute start, histogram bucket) and the deletes need backend-specific forms; everything else about
the two backends is the same. Placeholders are `?` on SQLite and `%s` on MySQL (pymysql), so no
statement with parameters may contain a literal `%`: MySQL gets `MOD()` instead.

Only placeholders, column names and numeric constants of this package are put into the text — never
a value from outside — hence the `noqa: S608` on the f-strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.storage.rollup_records import RollupRecord
from pulsewatch.domain.rollups import LATENCY_BOUNDS_MS

if TYPE_CHECKING:
    from collections.abc import Sequence

MINUTE_MICROS = 60_000_000


def _bucket_expression(low: int = 0, high: int = len(LATENCY_BOUNDS_MS)) -> str:
    """The histogram bucket of `duration_ms` in SQL: how many bounds are at or below it.

    A binary search written as nested CASEs (seven comparisons a row; a sum of 85 comparisons
    measured 8× slower on SQLite) that agrees exactly with `bisect_right` in
    `pulsewatch.domain.rollups.bucket_index` — no logarithm whose rounding could put a latency on a
    bound into the neighbouring bucket. Bounds are written with an exponent so MySQL reads them as
    DOUBLE (like the column), not DECIMAL, and with 17 digits so they round-trip exactly.

    Args:
        low: the smallest bucket index the latency can have here.
        high: the largest.
    """
    if low == high:
        return str(low)
    middle = (low + high + 1) // 2  # at or above bound middle-1: bucket middle or higher
    return (
        f"CASE WHEN duration_ms >= {LATENCY_BOUNDS_MS[middle - 1]:.17e} "
        f"THEN {_bucket_expression(middle, high)} ELSE {_bucket_expression(low, middle - 1)} END"
    )


@dataclass(frozen=True)
class RollupSql:
    """Every statement the rollup store runs, built once per store for its backend."""

    is_mysql: bool
    param: str
    minute_aggregate_head: str
    """SELECT ... FROM results WHERE check_id IN ( — the caller adds the placeholders."""
    minute_aggregate_tail: str
    """) AND started_at >= ? AND started_at < ? GROUP BY ..."""
    upsert: str
    prune_raw: str
    prune_rollups: str
    oldest_result: str
    """The oldest result of one check (through the (check_id, started_at) index)."""
    oldest_rollup: str
    """The oldest bucket of one level (through the (level, bucket_start) index)."""
    checks_in_span: str
    """The checks with rollups of one level in a time range."""
    first_result_after: str
    """The lowest result id above a given id."""

    @classmethod
    def build(cls, is_mysql: bool) -> RollupSql:
        """The statements for MySQL/MariaDB (`is_mysql`) or SQLite."""
        p = "%s" if is_mysql else "?"
        minute = (
            f"started_at - MOD(started_at, {MINUTE_MICROS})"
            if is_mysql
            else f"started_at - (started_at % {MINUTE_MICROS})"
        )
        head = (
            f"SELECT check_id, {minute} AS minute_start, ({_bucket_expression()}) AS bucket, COUNT(*), "  # noqa: S608
            "SUM(CASE WHEN ok = 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN degraded <> 0 THEN 1 ELSE 0 END), "
            "SUM(duration_ms), MIN(duration_ms), MAX(duration_ms) "
            "FROM results WHERE check_id IN ("
        )
        tail = (
            f") AND started_at >= {p} AND started_at < {p} "
            "GROUP BY check_id, minute_start, bucket ORDER BY check_id, minute_start"
        )
        if is_mysql:
            # ORDER BY keeps the statement deterministic for statement-based replication.
            prune_rollups = (
                "DELETE FROM rollups WHERE level = %s AND bucket_start < %s "
                "ORDER BY level, bucket_start LIMIT %s"
            )
        else:
            # SQLite's DELETE has no LIMIT (a compile-time option), and the table has no rowid.
            prune_rollups = (
                "DELETE FROM rollups WHERE (check_id, level, bucket_start) IN ("
                "SELECT check_id, level, bucket_start FROM rollups "
                "WHERE level = ? AND bucket_start < ? LIMIT ?)"
            )
        return cls(
            is_mysql=is_mysql,
            param=p,
            minute_aggregate_head=head,
            minute_aggregate_tail=tail,
            upsert=_upsert(is_mysql),
            prune_raw=f"DELETE FROM results WHERE id >= {p} AND id < {p} AND started_at < {p}",  # noqa: S608
            prune_rollups=prune_rollups,
            oldest_result=f"SELECT MIN(started_at) FROM results WHERE check_id = {p}",  # noqa: S608
            oldest_rollup=f"SELECT MIN(bucket_start) FROM rollups WHERE level = {p}",  # noqa: S608
            checks_in_span=(
                f"SELECT DISTINCT check_id FROM rollups WHERE level = {p} AND bucket_start >= {p} "  # noqa: S608
                f"AND bucket_start < {p} ORDER BY check_id"
            ),
            first_result_after=f"SELECT MIN(id) FROM results WHERE id > {p}",  # noqa: S608
        )

    def minute_aggregate(self, check_count: int) -> str:
        """Raw results of `check_count` checks in a time range, grouped by (check, minute, bucket)."""
        return self.minute_aggregate_head + self.placeholders(check_count) + self.minute_aggregate_tail

    def select_rollups(self, check_count: int) -> str:
        """Rollups of `check_count` checks at one level in a time range, in bucket order."""
        p = self.param
        return (
            f"SELECT {', '.join(RollupRecord.COLUMNS)} FROM rollups "  # noqa: S608
            f"WHERE check_id IN ({self.placeholders(check_count)}) "
            f"AND level = {p} AND bucket_start >= {p} AND bucket_start < {p} "
            "ORDER BY check_id, bucket_start"
        )

    def placeholders(self, count: int) -> str:
        """`?, ?, ?` (or `%s, ...`) for an IN list."""
        return ", ".join([self.param] * count)


def _upsert(is_mysql: bool) -> str:
    """INSERT one rollup row, replacing every value of an existing row with the same key."""
    fields = [getattr(RollupRecord, c) for c in RollupRecord.COLUMNS]
    query = RollupRecord.insert_many([tuple(None for _ in fields)], fields=fields)
    keep = fields[3:]
    if is_mysql:
        query = query.on_conflict(preserve=keep)  # ON DUPLICATE KEY UPDATE c = VALUES(c)
    else:
        key = [RollupRecord.check_id, RollupRecord.level, RollupRecord.bucket_start]
        query = query.on_conflict(conflict_target=key, preserve=keep)
    sql: str = query.sql()[0]
    return sql


def chunks(ids: Sequence[int], size: int) -> list[tuple[int, ...]]:
    """`ids` cut into tuples of at most `size` (IN lists stay short; transactions stay small)."""
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]
