"""RollupStore: minute/hour/day rollups built from raw results, pruning, and report reads.

**Building.** Each level has a mark, `rolled_to`: its buckets before the mark are complete. Minutes
are built from raw results once they ended `delay` ago (late results: a probe started at 12:00:59
with a 30 s timeout is written after 12:01:29, so the minute 12:00 must wait); hours are built from
minute rollups below the minute mark, days from hour rollups below the hour mark. Every bucket is
computed from its complete source and written by an upsert keyed on (check, level, start), so work
done twice — by two engines sharing the database, or after a crash between a bucket and its mark —
writes the same values again. A mark moves only by compare-and-set from the value the work started
at, so a concurrent `rewind` is never overwritten. Minutes come from `results` grouped by SQL
(count, failures, degraded, latency sum/min/max per histogram bucket); hours and days merge finer
rows in Python (histograms are text). Work is cut into bounded pieces: a span of buckets ×
`checks_per_batch` checks, each one short transaction.

**Late results.** A result written more than `delay` after its minute ended, into a minute already
rolled up, is kept raw but missed by the rollups — unless the writer calls `rewind(since)`, which
moves the marks back so the next passes rebuild from there (the spool that replays results after a
database outage should). Rewinding stops short of data already pruned at the finer level.

**Pruning** deletes in batches of short transactions: raw results by ranges of their primary key
(roughly time-ordered; a range with nothing old left ends the pass), rollups through the
(level, bucket_start) index with a LIMIT. Nothing is pruned that the next level has not been built
from: the raw cutoff never passes the minute mark, the minute cutoff never the hour mark, and so on.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.storage.fields import from_micros, to_micros
from engine.storage.records import CheckRecord, FlipRecord, database
from engine.storage.rollup_records import LEVEL_CODES, RAW, RollupMarkRecord, RollupRecord
from engine.storage.rollup_sql import RollupSql, chunks
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.rollups import Histogram, Level, Rollup, cover, merge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import Flip

SPAN = {Level.MINUTE: timedelta(minutes=15), Level.HOUR: timedelta(hours=1), Level.DAY: timedelta(days=1)}
"""How much time one piece of roll-up work covers, per level it builds."""

SOURCE = {Level.HOUR: Level.MINUTE, Level.DAY: Level.HOUR}
"""Which level each coarser level is built from (minutes come from raw results)."""

REWIND_MARGIN = timedelta(hours=1)
"""Rewinding keeps this far clear of the retention edge, where pruning may delete source rows
between the rewind and the rebuild."""


@dataclass(frozen=True)
class RollupWork:
    """One piece of roll-up work: build `level` buckets in [start, end) for `check_ids`."""

    level: Level
    start: datetime
    end: datetime
    check_ids: tuple[int, ...]


@dataclass(frozen=True)
class PruneTarget:
    """What one pruning run deletes: `level` (None: raw results) data older than `cutoff`."""

    level: Level | None
    cutoff: datetime


@dataclass(frozen=True)
class PruneBatch:
    """The outcome of one delete batch; pass `resume_after` to the next batch of the same target."""

    deleted: int
    more: bool
    resume_after: int = 0


class RollupStore:
    """Rollups and pruning on the SqlStore's database (SQLite or MySQL/MariaDB).

    Args:
        store: the open SqlStore; its sessions and transactions are used for every call.
        checks_per_batch: how many checks one roll-up transaction covers.
    """

    def __init__(self, store: SqlStore, *, checks_per_batch: int = 100) -> None:
        self._store = store
        self._sql = RollupSql.build(store.is_mysql)
        self._checks_per_batch = checks_per_batch

    # -- building -------------------------------------------------------------------------------

    def next_work(self, now: datetime, delay: float) -> RollupWork | None:
        """The next piece of roll-up work, finest level first; None when every level is current."""
        with self._store.session("plan rollups in"):
            marks = self._rolled_marks()
            for level in (Level.MINUTE, Level.HOUR, Level.DAY):
                if level is Level.MINUTE:
                    target: datetime | None = Level.MINUTE.floor(now - timedelta(seconds=delay))
                else:
                    source_mark = marks.get(SOURCE[level])
                    target = None if source_mark is None else level.floor(source_mark)
                if target is None:
                    continue
                mark = marks.get(level)
                if mark is None:
                    mark = self._start_mark(level, target)
                    marks[level] = mark
                if mark < target:
                    end = min(target, mark + SPAN[level])
                    return RollupWork(level, mark, end, self._source_checks(level, mark, end))
        return None

    def roll_up(self, work: RollupWork, check_ids: Sequence[int]) -> int:
        """Build (or rebuild) the work's buckets for `check_ids`; returns how many were written."""
        if not check_ids:
            return 0
        with self._store.session("roll up results in"):
            if work.level is Level.MINUTE:
                rollups = self._aggregate_raw(check_ids, work.start, work.end)
            else:
                finer = self._select(check_ids, SOURCE[work.level], work.start, work.end)
                rollups = _regroup(finer, work.level)
            if rollups:
                with self._store.atomic():
                    cursor = database.cursor()
                    cursor.executemany(self._sql.upsert, [RollupRecord.row(r) for r in rollups])
        return len(rollups)

    def finish(self, work: RollupWork) -> bool:
        """Move the level's mark to the work's end, unless someone moved it meanwhile.

        Returns:
            True when this call moved it (False: another engine finished first, or a rewind).
        """
        with self._store.session("save rollup progress in"), self._store.atomic():
            moved = (
                RollupMarkRecord.update(rolled_to=work.end)
                .where(
                    (RollupMarkRecord.level == LEVEL_CODES[work.level])
                    & (RollupMarkRecord.rolled_to == work.start)
                )
                .execute()
            )
        return bool(moved)

    def roll_up_pending(self, now: datetime, delay: float) -> int:
        """Do all pending roll-up work now, in this thread; returns the buckets written.

        The engine interleaves the same steps with its other writes (engine.maintenance); this is
        for one-shot callers: benchmarks, tests, command-line tools.
        """
        written = 0
        while (work := self.next_work(now, delay)) is not None:
            for ids in chunks(work.check_ids, self._checks_per_batch):
                written += self.roll_up(work, ids)
            self.finish(work)
        return written

    @property
    def checks_per_batch(self) -> int:
        """How many checks one `roll_up` call should cover."""
        return self._checks_per_batch

    def rewind(self, since: datetime, now: datetime, retention: RetentionSettings) -> None:
        """Make the next passes rebuild every level from `since` (results arrived late).

        Each level goes back at most to where its source is still complete: not before the finer
        level's `pruned_to` mark, nor near that level's retention edge.
        """
        horizon = {
            Level.MINUTE: (RAW, retention.raw),
            Level.HOUR: (LEVEL_CODES[Level.MINUTE], retention.minute),
            Level.DAY: (LEVEL_CODES[Level.HOUR], retention.hour),
        }
        with self._store.session("rewind rollups in"), self._store.atomic():
            pruned = {r.level: r.pruned_to for r in RollupMarkRecord.select()}
            for level, (source, keep) in horizon.items():
                edge = now - timedelta(seconds=keep) + REWIND_MARGIN
                source_pruned = pruned.get(source)
                if source_pruned is not None:
                    edge = max(edge, source_pruned)
                # The bucket holding `since` is rebuilt; one straddling the edge cannot be.
                back_to = max(level.floor(since), level.ceil(edge))
                RollupMarkRecord.update(rolled_to=back_to).where(
                    (RollupMarkRecord.level == LEVEL_CODES[level]) & (RollupMarkRecord.rolled_to > back_to)
                ).execute()

    # -- pruning --------------------------------------------------------------------------------

    def prune_targets(self, now: datetime, retention: RetentionSettings) -> list[PruneTarget]:
        """What to prune now, finest first, each cutoff capped by the next level's mark.

        Each target's `pruned_to` mark is raised before anything is deleted, so `rewind` never
        relies on rows a running prune may be deleting.
        """
        with self._store.session("plan pruning in"), self._store.atomic():
            marks = self._rolled_marks()
            plan: list[tuple[Level | None, float, datetime | None]] = [
                (None, retention.raw, marks.get(Level.MINUTE)),
                (Level.MINUTE, retention.minute, marks.get(Level.HOUR)),
                (Level.HOUR, retention.hour, marks.get(Level.DAY)),
                (Level.DAY, retention.day, now),
            ]
            targets = []
            for level, keep, built_to in plan:
                if built_to is None:
                    continue  # the next level is not built yet: keep everything
                cutoff = min(now - timedelta(seconds=keep), built_to)
                code = RAW if level is None else LEVEL_CODES[level]
                RollupMarkRecord.insert(level=code).on_conflict_ignore().execute()
                RollupMarkRecord.update(pruned_to=cutoff).where(
                    (RollupMarkRecord.level == code)
                    & (RollupMarkRecord.pruned_to.is_null() | (RollupMarkRecord.pruned_to < cutoff))
                ).execute()
                targets.append(PruneTarget(level, cutoff))
        return targets

    def prune_batch(self, target: PruneTarget, batch: int, resume_after: int = 0) -> PruneBatch:
        """Delete up to about `batch` rows of the target in one short transaction."""
        cutoff = to_micros(target.cutoff)
        with self._store.session("prune old data in"):
            if target.level is None:
                return self._prune_raw(cutoff, batch, resume_after)
            with self._store.atomic():
                cursor = database.execute_sql(
                    self._sql.prune_rollups, (LEVEL_CODES[target.level], cutoff, batch)
                )
                deleted = int(cursor.rowcount)
        return PruneBatch(deleted=deleted, more=deleted >= batch)

    def prune_all(self, now: datetime, retention: RetentionSettings, batch: int = 5000) -> int:
        """Prune everything due now, in this thread; returns the rows deleted (see roll_up_pending)."""
        deleted = 0
        for target in self.prune_targets(now, retention):
            step = PruneBatch(0, more=True)
            while step.more:
                step = self.prune_batch(target, batch, step.resume_after)
                deleted += step.deleted
        return deleted

    # -- reading --------------------------------------------------------------------------------

    def marks(self) -> dict[int, tuple[datetime | None, datetime | None]]:
        """Level code (0 raw, 1 minute, 2 hour, 3 day) → (rolled_to, pruned_to)."""
        with self._store.session("read rollup progress from"):
            return {r.level: (r.rolled_to, r.pruned_to) for r in RollupMarkRecord.select()}

    def rollups(
        self, check_ids: Sequence[int], level: Level, since: datetime, until: datetime
    ) -> list[Rollup]:
        """Stored rollups of one level whose buckets start in [since, until), by check and time."""
        with self._store.session("read rollups from"):
            return self._select(check_ids, level, since, until)

    def report_rows(
        self, check_ids: Sequence[int], since: datetime, until: datetime
    ) -> dict[int, list[Rollup]]:
        """Buckets covering [since, until) per check: the coarsest complete level for each stretch
        (`pulsewatch.domain.rollups.cover`) and, for the newest minutes, raw results summed the way
        minutes are. Pass a `since` aligned to what retention still holds (see `report_since`)."""
        found: dict[int, list[Rollup]] = {i: [] for i in check_ids}
        with self._store.session("read report data from"):
            marks = self._rolled_marks()
            for level, start, end in cover(since, until, marks):
                rows = (
                    self._aggregate_raw(check_ids, start, end)
                    if level is None
                    else self._select(check_ids, level, start, end)
                )
                for row in rows:
                    found[row.check_id].append(row)
        return found

    def added(self, check_ids: Sequence[int]) -> dict[int, datetime]:
        """When each check was first stored (a config change keeps the date)."""
        with self._store.session("read checks from"):
            query = CheckRecord.select(CheckRecord.id, CheckRecord.created_at).where(
                CheckRecord.id.in_(list(check_ids))
            )
            return {r.id: r.created_at for r in query}

    def flips(self, check_ids: Sequence[int], since: datetime, until: datetime) -> list[Flip]:
        """Flips of these checks in [since, until), oldest first."""
        with self._store.session("read flips from"):
            query = (
                FlipRecord.select()
                .where(
                    FlipRecord.check_id.in_(list(check_ids))
                    & (FlipRecord.at >= since)
                    & (FlipRecord.at < until)
                )
                .order_by(FlipRecord.at, FlipRecord.id)
            )
            return [r.to_domain() for r in query]

    # -- internals ------------------------------------------------------------------------------

    def _rolled_marks(self) -> dict[Level, datetime]:
        by_code = {code: level for level, code in LEVEL_CODES.items()}
        return {
            by_code[r.level]: r.rolled_to
            for r in RollupMarkRecord.select().where(RollupMarkRecord.level.in_(list(by_code)))
            if r.rolled_to is not None
        }

    def _start_mark(self, level: Level, target: datetime) -> datetime:
        """A level's first mark: the start of its oldest source data (or `target` when there is none).

        Another engine may be doing the same: the first stored mark wins and is returned.
        """
        oldest = self._oldest_source(level)
        start = level.floor(oldest) if oldest is not None and oldest < target else target
        code = LEVEL_CODES[level]
        with self._store.atomic():
            RollupMarkRecord.insert(level=code).on_conflict_ignore().execute()
            RollupMarkRecord.update(rolled_to=start).where(
                (RollupMarkRecord.level == code) & RollupMarkRecord.rolled_to.is_null()
            ).execute()
        stored: datetime = RollupMarkRecord.get(RollupMarkRecord.level == code).rolled_to
        return stored

    def _oldest_source(self, level: Level) -> datetime | None:
        if level is Level.MINUTE:
            # Per check, through the (check_id, started_at) index: `results` has no index on time alone.
            oldest = None
            for check_id in self._check_ids():
                (value,) = database.execute_sql(self._sql.oldest_result, (check_id,)).fetchone()
                if value is not None and (oldest is None or value < oldest):
                    oldest = value
            return _instant(oldest)
        (value,) = database.execute_sql(self._sql.oldest_rollup, (LEVEL_CODES[SOURCE[level]],)).fetchone()
        return _instant(value)

    def _check_ids(self) -> list[int]:
        return [int(i) for (i,) in database.execute_sql("SELECT id FROM checks ORDER BY id").fetchall()]

    def _source_checks(self, level: Level, start: datetime, end: datetime) -> tuple[int, ...]:
        """The checks with data to roll: every stored check for minutes (results are only indexed by
        check), those with finer rollups in the span for hours and days."""
        if level is Level.MINUTE:
            return tuple(self._check_ids())
        params = (LEVEL_CODES[SOURCE[level]], to_micros(start), to_micros(end))
        rows = database.execute_sql(self._sql.checks_in_span, params).fetchall()
        return tuple(int(i) for (i,) in rows)

    def _aggregate_raw(self, check_ids: Sequence[int], since: datetime, until: datetime) -> list[Rollup]:
        """Raw results summed into minute rollups: SQL groups by (check, minute, histogram bucket),
        rows arrive ordered by (check, minute), and each run of rows makes one rollup."""
        rollups: list[Rollup] = []
        for ids in chunks(check_ids, max(self._checks_per_batch, 1)):
            params = (*ids, to_micros(since), to_micros(until))
            rows = database.execute_sql(self._sql.minute_aggregate(len(ids)), params).fetchall()
            for (check_id, start), group in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
                parts = list(group)
                if len(parts) == 1:  # the usual case: one probe a minute, one bucket
                    _, _, bucket, n, failed, degraded, total, low, high = parts[0]
                    histogram = Histogram(int(bucket), (int(n),))
                else:
                    n, failed, degraded = (sum(int(p[i]) for p in parts) for i in (3, 4, 5))
                    total = math.fsum(float(p[6]) for p in parts)
                    low, high = min(float(p[7]) for p in parts), max(float(p[8]) for p in parts)
                    histogram = Histogram.from_buckets({int(p[2]): int(p[3]) for p in parts})
                rollups.append(
                    Rollup(
                        int(check_id), Level.MINUTE, from_micros(int(start)), int(n), int(failed),
                        int(degraded), float(total), float(low), float(high), histogram,
                    )
                )
        return rollups

    def _select(
        self, check_ids: Sequence[int], level: Level, since: datetime, until: datetime
    ) -> list[Rollup]:
        rows: list[Rollup] = []
        for ids in chunks(check_ids, max(self._checks_per_batch, 1)):
            params = (*ids, LEVEL_CODES[level], to_micros(since), to_micros(until))
            cursor = database.execute_sql(self._sql.select_rollups(len(ids)), params)
            rows.extend(RollupRecord.from_row(tuple(r)) for r in cursor.fetchall())
        return rows

    def _prune_raw(self, cutoff: int, batch: int, resume_after: int) -> PruneBatch:
        (low,) = database.execute_sql(self._sql.first_result_after, (resume_after,)).fetchone()
        if low is None:
            return PruneBatch(deleted=0, more=False)
        high = int(low) + batch
        with self._store.atomic():
            deleted = int(database.execute_sql(self._sql.prune_raw, (int(low), high, cutoff)).rowcount)
        # Ids grow with time (roughly: engines write in batches): a range with nothing old in it
        # means the old part of the table is behind us.
        return PruneBatch(deleted=deleted, more=deleted > 0, resume_after=high - 1)


def _regroup(rows: Sequence[Rollup], level: Level) -> list[Rollup]:
    groups: dict[tuple[int, datetime], list[Rollup]] = defaultdict(list)
    for row in rows:
        groups[(row.check_id, level.floor(row.start))].append(row)
    return [merge(g, check_id=c, level=level, start=s) for (c, s), g in sorted(groups.items())]


def _instant(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(int(micros))
