"""What the grid shows about a check's recent past: a latency ring buffer and uptime counts.

With a database, the uptime columns are the stored rollups (`pulsewatch.domain.uptime.UptimeTally`,
read for every check at once and again every minute) plus the results this console has seen since
the tally's end: `recent` counts live results per minute for that. Without one (tests, a console
without a store) the console counts what it sees: every result an engine event carries while it
runs, plus the older results a detail screen loads (LoadHistory), in hourly buckets. Figures are
never invented: a check with nothing counted shows "—".

Memory per check is bounded however long the console runs: at most 168 hourly buckets,
RECENT_MINUTES minute buckets and SPARK_POINTS latencies. Everything is immutable: a new `Trend` per
result, which `tui.model.apply_events` stores on the Board.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from pulsewatch.domain.monitoring import ProbeResult
    from pulsewatch.domain.uptime import UptimeTally

SPARK_POINTS = 16
"""Latencies kept per check for the grid's sparkline (the newest ones)."""

BUCKET_SECONDS = 3600
"""Uptime is counted per hour: windows are whole hours, the current one partly elapsed."""

WINDOW_BUCKETS = 7 * 24
"""Buckets kept: enough for the 7-day column."""

RECENT_MINUTES = 15
"""Minutes of live results counted per minute, to add to a stored tally: it is read again every
minute and ends at the start of the minute it was read in, so a few minutes are plenty; longer
only matters while the database cannot be read (the figures then miss the older minutes)."""

Bucket = tuple[int, int, int]
"""(hour number since the epoch, successful probes, all probes)."""


def bucket_of(at: datetime) -> int:
    """The hourly bucket an instant falls in."""
    return int(at.timestamp()) // BUCKET_SECONDS


@dataclass(frozen=True, slots=True)
class Trend:
    """The recent latencies and hourly success counts of one check, as far as the console knows."""

    latencies: tuple[float, ...] = ()
    """Newest SPARK_POINTS probe durations in ms, oldest first."""
    failed: tuple[bool, ...] = ()
    """Whether each of `latencies` was a failed probe (drawn in the down colour)."""
    buckets: tuple[Bucket, ...] = ()
    """Hourly counts, oldest first, at most WINDOW_BUCKETS hours back from the newest."""
    earliest: datetime | None = None
    """The oldest result counted: loaded history only adds results older than this, never twice."""
    recent: tuple[Bucket, ...] = ()
    """Live results per minute (minute number since the epoch, ok, all), oldest first, at most
    RECENT_MINUTES back from the newest: what a stored tally does not hold yet."""

    def add(self, result: ProbeResult) -> Trend:
        """This trend with one more (live) result."""
        ok = 1 if result.ok else 0
        stamp = int(result.started_at.timestamp())
        buckets = _count(self.buckets, stamp // BUCKET_SECONDS, ok, WINDOW_BUCKETS)
        recent = _count(self.recent, stamp // 60, ok, RECENT_MINUTES)
        earliest = self.earliest
        if earliest is None or result.started_at < earliest:
            earliest = result.started_at
        return Trend(
            latencies=(*self.latencies, result.duration_ms)[-SPARK_POINTS:],
            failed=(*self.failed, not result.ok)[-SPARK_POINTS:],
            buckets=buckets,
            earliest=earliest,
            recent=recent,
        )

    def fold_history(self, results: Iterable[ProbeResult]) -> Trend:
        """This trend with the stored results that are older than anything counted so far.

        Args:
            results: a check's stored results, in any order (LoadHistory answers newest first).
        """
        older = sorted((r for r in results if self.earliest is None or r.started_at < self.earliest),
                       key=lambda r: r.started_at)
        if not older:
            return self
        counts: dict[int, tuple[int, int]] = {}
        for result in older:
            bucket = bucket_of(result.started_at)
            ok, total = counts.get(bucket, (0, 0))
            counts[bucket] = (ok + (1 if result.ok else 0), total + 1)
        room = SPARK_POINTS - len(self.latencies)
        earlier = older[-room:] if room > 0 else []
        # `recent` stays live-only: loaded results are stored ones, which a tally already holds.
        return Trend(
            latencies=(*(r.duration_ms for r in earlier), *self.latencies),
            failed=(*(not r.ok for r in earlier), *self.failed),
            buckets=_merge(self.buckets, counts, WINDOW_BUCKETS),
            earliest=older[0].started_at,
            recent=self.recent,
        )

    def uptime(self, now: datetime, hours: int) -> tuple[int, int]:
        """(successful, all) probes counted in the last `hours` hourly buckets up to `now`."""
        first = bucket_of(now) - hours + 1
        ok = total = 0
        for bucket, bucket_ok, bucket_total in reversed(self.buckets):
            if bucket < first:
                break
            ok += bucket_ok
            total += bucket_total
        return ok, total

    def recent_counts(self, since: datetime) -> tuple[int, int]:
        """(successful, all) live results in the minutes from `since` (a minute start) on."""
        first = int(since.timestamp()) // 60
        ok = total = 0
        for minute, minute_ok, minute_total in reversed(self.recent):
            if minute < first:
                break
            ok += minute_ok
            total += minute_total
        return ok, total


EMPTY_TREND = Trend()
"""The trend of a check nothing has been seen of."""


def grid_uptime(trend: Trend, now: datetime, tally: UptimeTally | None,
                check_id: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """((ok, all) over 24h, (ok, all) over 7d) for the grid's uptime columns.

    With a tally: its stored counts plus the live results from its end on. Without: the console's
    own hourly counts.
    """
    if tally is None:
        return trend.uptime(now, 24), trend.uptime(now, WINDOW_BUCKETS)
    counts = tally.of(check_id).plus(*trend.recent_counts(tally.until))
    return (counts.day_ok, counts.day_total), (counts.week_ok, counts.week_total)


def _count(buckets: tuple[Bucket, ...], bucket: int, ok: int, window: int) -> tuple[Bucket, ...]:
    """`buckets` with one result counted in `bucket`."""
    if buckets and buckets[-1][0] == bucket:  # the common case: the newest hour or minute
        last = buckets[-1]
        return (*buckets[:-1], (bucket, last[1] + ok, last[2] + 1))
    return _merge(buckets, {bucket: (ok, 1)}, window)


def _merge(buckets: tuple[Bucket, ...], counts: dict[int, tuple[int, int]],
           window: int) -> tuple[Bucket, ...]:
    """Add `counts` into `buckets` (kept in order), then drop buckets more than `window` before the newest."""
    merged = list(buckets)
    keys = [b[0] for b in merged]
    for bucket, (ok, total) in sorted(counts.items()):
        index = bisect_left(keys, bucket)
        if index < len(keys) and keys[index] == bucket:
            _, old_ok, old_total = merged[index]
            merged[index] = (bucket, old_ok + ok, old_total + total)
        else:
            merged.insert(index, (bucket, ok, total))
            keys.insert(index, bucket)
    newest = merged[-1][0] if merged else 0
    start = bisect_left(keys, newest - window + 1)
    return tuple(merged[start:])
