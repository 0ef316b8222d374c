"""The console's reads of stored uptime and latency: the grid's 24h/7d counts for every check at once,
and one check's latency buckets for the detail chart.

**The grid tally** (`tally`) serves 10,000 checks at every console start and once a minute, so it
reads every check at once — grouped queries per stretch of the windows, never a query per check:
- the windows are cut into stretches served by the coarsest complete level
  (`pulsewatch.domain.rollups.cover`): days and hours for the old part, minute rollups for the hour
  not rolled into hours yet, raw results for the minutes the minute rollups lag (`retention.delay`);
- each stretch is summed per check so that every check costs one seek of its range in the primary
  key of `rollups` (check, level, bucket start) or the (check_id, started_at) index of `results`
  (which has no index on time alone). On SQLite that is one query, a walk of `checks` with the join
  order forced (`CROSS JOIN`); left to itself the planner scanned the whole index (5.9 s against
  0.67 s at 10,000 checks and a week of rollups). MariaDB reads only the (check, level) prefix in a
  join, every hour a check has ever kept, so there it is IN lists of IN_LIST ids, which it turns into
  one tight range per check (over 1,000 ids it turns the list back into such a join);
- the 24h part is picked out with a CASE on the bucket start (hour-aligned windows split no bucket);
- what is settled is not read twice: the day and hour stretches change only when the hour mark or
  the windows move (once an hour), and minute rollups already summed stay summed, so the tally a
  minute later reads the new minute rollups and the raw tail alone. (Past buckets rebuilt after a
  database outage show at the next hour.)
Every stretch stops at the start of the current minute: the console counts what it sees live from there.

**The detail chart** (`series`) reads one check's buckets of a chosen level (minute for 1h, hour for
24h to 30d), falling back to the next coarser level before that level's retention edge, and for the
stretch not rolled up yet, minute sums of the raw results (`RollupStore.report_rows`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from engine.storage.fields import to_micros
from engine.storage.records import database
from engine.storage.rollup_records import LEVEL_CODES, RollupMarkRecord
from engine.storage.rollup_sql import chunks
from engine.storage.rollup_store import RollupStore
from pulsewatch.domain.rollups import Level, cover
from pulsewatch.domain.uptime import UptimeCounts, UptimeTally, grid_windows

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from engine.storage.store import SqlStore
    from pulsewatch.domain.rollups import Piece, Rollup

COARSER = {Level.MINUTE: Level.HOUR, Level.HOUR: Level.DAY}
"""Where a chart looks before a level's retention edge (its rows there are pruned)."""

IN_LIST = 900
"""Check ids per IN list on MySQL/MariaDB: under MariaDB's `in_predicate_conversion_threshold`
(1,000), past which the list becomes a join that reads a check's whole level (see the docstring)."""

Sums = dict[int, list[int]]
"""Check id → [24h probes, 24h failures, 7d probes, 7d failures]."""


class UptimeStore:
    """Uptime and latency reads for the console, on the SqlStore's database (thread-safe like it)."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._rollups = RollupStore(store)
        self._mysql = store.is_mysql
        self._p = "%s" if store.is_mysql else "?"
        self._lock = threading.Lock()
        self._settled: tuple[object, Sums] | None = None
        """The day and hour stretches' sums, and the stretches and 24h start they were read for."""
        self._minutes: tuple[object, datetime, Sums] | None = None
        """Minute rollups summed so far: for which stretch start, up to where, the sums."""

    def tally(self, now: datetime) -> UptimeTally:
        """Every check's stored probes in the grid's 24h and 7d windows, up to the start of `now`'s minute.

        Raises:
            StorageError: the database failed.
        """
        until = Level.MINUTE.floor(now)
        day_since, week_since = grid_windows(now)
        with self._lock, self._store.session("read uptime from"):
            marks = self._marks()
            pieces = _merged([*cover(week_since, day_since, marks), *cover(day_since, until, marks)])
            ids = [int(i) for (i,) in database.execute_sql("SELECT id FROM checks ORDER BY id").fetchall()]
            settled = tuple(p for p in pieces if p[0] in (Level.HOUR, Level.DAY))
            if self._settled is None or self._settled[0] != (day_since, settled):
                sums: Sums = {}
                for level, start, end in settled:
                    self._sum(sums, ids, level, start, end, day_since)
                self._settled = ((day_since, settled), sums)
            counts = {i: list(c) for i, c in self._settled[1].items()}
            for level, start, end in pieces:
                if level is Level.MINUTE:
                    _add(counts, self._minute_sums(ids, start, end, day_since))
                elif level is None:
                    self._sum(counts, ids, None, start, end, day_since)
        return UptimeTally(
            until=until, day_since=day_since, week_since=week_since,
            counts={i: UptimeCounts(d_total - d_failed, d_total, w_total - w_failed, w_total)
                    for i, (d_total, d_failed, w_total, w_failed) in counts.items()},
        )

    def series(self, check_id: int, level: Level, since: datetime, until: datetime) -> list[Rollup]:
        """One check's latency buckets over [since, until), oldest first, mostly of `level`.

        Before the level's `pruned_to` mark the next coarser level's rows stand in; after its
        `rolled_to` mark, the finer levels' and minute sums of raw results (as reports read them).

        Raises:
            StorageError: the database failed.
        """
        marks = self._rollups.marks()
        rolled_to, pruned_to = marks.get(LEVEL_CODES[level], (None, None))
        start = level.floor(since)
        rows: list[Rollup] = []
        coarser = COARSER.get(level)
        if pruned_to is not None and pruned_to > start and coarser is not None:
            edge = min(coarser.ceil(pruned_to), until)
            rows += self._rollups.rollups([check_id], coarser, coarser.floor(since), edge)
            start = max(start, edge)
        split = min(max(level.floor(rolled_to), start), until) if rolled_to is not None else start
        if start < split:
            rows += self._rollups.rollups([check_id], level, start, split)
        if split < until:
            rows += self._rollups.report_rows([check_id], split, until)[check_id]
        return sorted(rows, key=lambda r: r.start)

    # -- internals ------------------------------------------------------------------------------

    def _marks(self) -> dict[Level, datetime]:
        by_code = {code: level for level, code in LEVEL_CODES.items()}
        return {
            by_code[r.level]: r.rolled_to
            for r in RollupMarkRecord.select().where(RollupMarkRecord.level.in_(list(by_code)))
            if r.rolled_to is not None
        }

    def _minute_sums(self, ids: list[int], start: datetime, end: datetime, day_since: datetime) -> Sums:
        """The minute stretch's sums, reading only the minutes rolled up since the previous tally."""
        key = (day_since, start)
        if self._minutes is not None and self._minutes[0] == key and self._minutes[1] <= end:
            _, read_to, sums = self._minutes
        else:
            read_to, sums = start, {}
        if read_to < end:
            self._sum(sums, ids, Level.MINUTE, read_to, end, day_since)
        self._minutes = (key, end, sums)
        return sums

    def _sum(self, into: Sums, ids: list[int], level: Level | None, start: datetime, end: datetime,
             day_since: datetime) -> None:
        """Add the sums of one stretch of `level` (None: raw results) in [start, end) for every check."""
        p = self._p
        if level is None:
            table, at, counted = "results", "started_at", ("1", "CASE WHEN r.ok = 0 THEN 1 ELSE 0 END")
            extra: list[Any] = []
        else:
            table, at, counted = "rollups", "bucket_start", ("r.probes", "r.failures")
            extra = [LEVEL_CODES[level]]
        head = (
            f"SELECT r.check_id, SUM(CASE WHEN r.{at} >= {p} THEN {counted[0]} ELSE 0 END), "
            f"SUM(CASE WHEN r.{at} >= {p} THEN {counted[1]} ELSE 0 END), "
            f"SUM({counted[0]}), SUM({counted[1]}) "
        )
        where = f"AND r.{at} >= {p} AND r.{at} < {p}"
        if level is not None:
            where = f"AND r.level = {p} {where}"
        day = to_micros(day_since)
        span = [*extra, to_micros(start), to_micros(end)]
        if not self._mysql:  # one walk of `checks`, the join order forced (see the module docstring)
            sql = (f"{head}FROM checks c CROSS JOIN {table} r ON r.check_id = c.id {where} "
                   "GROUP BY r.check_id")
            _add(into, _rows(sql, [day, day, *span]))
            return
        for part in chunks(ids, IN_LIST):
            ids_in = ", ".join([p] * len(part))
            sql = f"{head}FROM {table} r WHERE r.check_id IN ({ids_in}) {where} GROUP BY r.check_id"
            _add(into, _rows(sql, [day, day, *part, *span]))


def _rows(sql: str, params: list[Any]) -> Sums:
    rows = database.execute_sql(sql, params).fetchall()
    return {int(row[0]): [int(v or 0) for v in row[1:]] for row in rows}


def _add(into: Sums, sums: Sums) -> None:
    for check_id, values in sums.items():
        have = into.setdefault(check_id, [0, 0, 0, 0])
        for index, value in enumerate(values):
            have[index] += value


def _merged(pieces: Sequence[Piece]) -> list[Piece]:
    """Adjacent pieces of the same source joined, so the windows' split adds no range to the queries."""
    merged: list[Piece] = []
    for level, start, end in pieces:
        if merged and merged[-1][0] == level and merged[-1][2] == start:
            merged[-1] = (level, merged[-1][1], end)
        else:
            merged.append((level, start, end))
    return merged
