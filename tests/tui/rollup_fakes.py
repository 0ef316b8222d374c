"""A FakeRollupDesk: stored uptime counts and latency buckets at the frozen instant; records what is read."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.rollups import Histogram, Level, Rollup
from pulsewatch.domain.uptime import UptimeCounts, UptimeTally, grid_windows
from tests.tui.fakes import NOW

if TYPE_CHECKING:
    from datetime import datetime


def tally(counts: dict[int, UptimeCounts], until: datetime = NOW) -> UptimeTally:
    """A tally read at `until` (a minute start)."""
    day, week = grid_windows(until)
    return UptimeTally(until=until, day_since=day, week_since=week, counts=counts)


TALLY = tally({
    1: UptimeCounts(day_ok=2870, day_total=2880, week_ok=20100, week_total=20160),
    2: UptimeCounts(day_ok=1400, day_total=1440, week_ok=9950, week_total=10080),
})
"""'api' and 'checkout' with a day and a week of stored probes; the others with none."""


def minute_buckets(check_id: int, *, failing_last: int = 3) -> list[Rollup]:
    """An hour of minute buckets, two probes each (40–99 ms); the newest `failing_last` each had a failure."""
    start = NOW - timedelta(hours=1)
    return [
        Rollup(check_id, Level.MINUTE, start + timedelta(minutes=m), 2, 1 if m >= 60 - failing_last else 0,
               0, 2 * (40.0 + m), 40.0 + m - 1, 40.0 + m, Histogram.of([40.0 + m - 1, 40.0 + m]))
        for m in range(60)
    ]


class FakeRollupDesk:
    """Serves `tally` and canned buckets by (check, level); `asked` records every bucket read."""

    def __init__(self, stored: UptimeTally = TALLY,
                 buckets: dict[tuple[int, Level], list[Rollup]] | None = None) -> None:
        self.tally = stored
        self.buckets = buckets if buckets is not None else {(2, Level.MINUTE): minute_buckets(2)}
        self.tallies_read = 0
        self.asked: list[tuple[int, Level, datetime, datetime]] = []

    def uptime(self, now: datetime) -> UptimeTally:
        self.tallies_read += 1
        return self.tally

    def latency_buckets(self, check_id: int, level: Level, since: datetime, until: datetime) -> list[Rollup]:
        self.asked.append((check_id, level, since, until))
        return list(self.buckets.get((check_id, level), []))
