"""The detail chart from stored rollups, as pure data: which level serves each range, how buckets fall
into columns, and the sentence that says what is shown.

With a database the chart no longer depends on how many raw results a LoadHistory can carry: a
range is read as buckets (minutes for 1h; hours for 24h, 7d and 30d — 720 of them at most, finer
than any terminal is wide) whose slowest probe and failure count are all a column needs. The time
axis is the whole range, so a stretch without probes (a pause, an outage of the engines) shows as a
gap rather than being squeezed out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulsewatch.domain.rollups import Level
from tui import render
from tui.chart import Column

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from pulsewatch.domain.rollups import Rollup
    from tui.chart import TimeRange

RANGE_LEVELS: dict[str, Level] = {"1h": Level.MINUTE, "24h": Level.HOUR, "7d": Level.HOUR, "30d": Level.HOUR}
"""The rollup level each of `tui.chart.RANGES` is read at (by label)."""

LEVEL_WORDS = {Level.MINUTE: "minute", Level.HOUR: "hourly", Level.DAY: "daily"}


def level_for(time_range: TimeRange) -> Level:
    """The level a range is read at (hours for any range not listed)."""
    return RANGE_LEVELS.get(time_range.label, Level.HOUR)


def bucket_columns(rollups: Sequence[Rollup], since: datetime, until: datetime, width: int) -> list[Column]:
    """Spread buckets over `width` columns of the time axis [since, until).

    Each column keeps the slowest probe of the buckets starting in its slice and whether any of
    them had a failure; buckets outside the axis are left out.
    """
    if width <= 0:
        return []
    start, span = since.timestamp(), max((until - since).total_seconds(), 1e-9)
    worst: list[float | None] = [None] * width
    failed = [False] * width
    counts = [0] * width
    for bucket in rollups:
        offset = bucket.start.timestamp() - start
        if bucket.count == 0 or offset < -bucket.level.value or offset >= span:
            continue
        index = max(0, min(int(offset / span * width), width - 1))
        current = worst[index]
        if current is None or bucket.latency_max_ms > current:
            worst[index] = bucket.latency_max_ms
        failed[index] = failed[index] or bucket.failures > 0
        counts[index] += bucket.count
    return [Column(worst[i], failed[i], counts[i]) for i in range(width)]


def describe_buckets(rollups: Sequence[Rollup], time_range: TimeRange, level: Level) -> str:
    """"2,880 probes in the last 24h, from hourly rollups · 99.93% ok", or that none are stored."""
    probes = sum(r.count for r in rollups)
    if not probes:
        return f"no probes stored for the last {time_range.label}"
    ok = probes - sum(r.failures for r in rollups)
    count = f"{render.format_count(probes)} probe{'' if probes == 1 else 's'}"
    return (f"{count} in the last {time_range.label}, from {LEVEL_WORDS[level]} rollups"
            f" · {render.format_uptime(ok, probes)} ok")
