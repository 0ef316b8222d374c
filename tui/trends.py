"""What the grid shows about a check's recent past: a latency ring buffer and uptime counts.

Storage keeps no rollups yet, so the console counts what it sees: every result an engine event
carries while the console runs, plus the older results a detail screen loads (LoadHistory). The
figures are therefore "since the console started", and the grid says so in the column tooltips.
They are never invented: a check with nothing seen shows "—".

Counts are kept in hourly buckets for seven days, so memory per check is bounded (at most 168
buckets and SPARK_POINTS latencies) however long the console runs. Everything is immutable: a new
`Trend` per result, which `tui.model.apply_events` stores on the Board.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from pulsewatch.domain.monitoring import ProbeResult

SPARK_POINTS = 16
"""Latencies kept per check for the grid's sparkline (the newest ones)."""

BUCKET_SECONDS = 3600
"""Uptime is counted per hour: windows are whole hours, the current one partly elapsed."""

WINDOW_BUCKETS = 7 * 24
"""Buckets kept: enough for the 7-day column."""

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

    def add(self, result: ProbeResult) -> Trend:
        """This trend with one more (live) result."""
        bucket = bucket_of(result.started_at)
        ok = 1 if result.ok else 0
        buckets = self.buckets
        if buckets and buckets[-1][0] == bucket:  # the common case: the current hour
            last = buckets[-1]
            buckets = (*buckets[:-1], (bucket, last[1] + ok, last[2] + 1))
        else:
            buckets = _merge(buckets, {bucket: (ok, 1)})
        earliest = self.earliest
        if earliest is None or result.started_at < earliest:
            earliest = result.started_at
        return Trend(
            latencies=(*self.latencies, result.duration_ms)[-SPARK_POINTS:],
            failed=(*self.failed, not result.ok)[-SPARK_POINTS:],
            buckets=buckets,
            earliest=earliest,
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
        return Trend(
            latencies=(*(r.duration_ms for r in earlier), *self.latencies),
            failed=(*(not r.ok for r in earlier), *self.failed),
            buckets=_merge(self.buckets, counts),
            earliest=older[0].started_at,
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


EMPTY_TREND = Trend()
"""The trend of a check nothing has been seen of."""


def _merge(buckets: tuple[Bucket, ...], counts: dict[int, tuple[int, int]]) -> tuple[Bucket, ...]:
    """Add `counts` into `buckets` (kept in order), then drop buckets beyond the 7-day window."""
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
    start = bisect_left(keys, newest - WINDOW_BUCKETS + 1)
    return tuple(merged[start:])
