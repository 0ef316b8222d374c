"""The detail screen's latency chart as pure data: time ranges, how much history to ask for, how
results fall into columns, and the honest sentence that says what the chart shows.

With a database the chart reads rollups (tui.rollup_chart). Without one (tests, a console without
a store) a range is served from raw results loaded with LoadHistory, whose only knob is a count.
`history_limit` turns a range into a count from the check's interval, capped at MAX_HISTORY; when
the cap (or the store) cannot cover the whole range, `describe_window` says which stretch of it is
shown instead of pretending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui import render
from tui.model import HISTORY_LIMIT, MAX_HISTORY

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from pulsewatch.domain.monitoring import ProbeResult

BAR_LEVELS = " ▁▂▃▄▅▆▇█"
"""Nine heights of a character cell, empty to full: a bar `height` cells tall has 8·height steps."""


@dataclass(frozen=True)
class TimeRange:
    """One of the detail screen's range selectors."""

    label: str
    seconds: int


RANGES: tuple[TimeRange, ...] = (
    TimeRange("1h", 3600),
    TimeRange("24h", 86_400),
    TimeRange("7d", 7 * 86_400),
    TimeRange("30d", 30 * 86_400),
)
"""The ranges offered, shortest first; the first is shown when a detail screen opens."""


def history_limit(time_range: TimeRange, interval: float) -> int:
    """How many results to ask for so that `time_range` is covered at the check's `interval`.

    A tenth more than the schedule produces (run-now probes, retries), at least HISTORY_LIMIT and
    at most MAX_HISTORY (a 30-day range of a 30 s check would be 86,400 results).
    """
    # Rounded first: 1440 × 1.1 is 1584.0000000000002 in binary floating point.
    expected = math.ceil(round(time_range.seconds / max(interval, 0.001) * 1.1, 6))
    return max(HISTORY_LIMIT, min(expected, MAX_HISTORY))


def in_range(results: Sequence[ProbeResult], time_range: TimeRange, now: datetime) -> list[ProbeResult]:
    """The results (newest first, as loaded) that started within `time_range` before `now`."""
    start = now.timestamp() - time_range.seconds
    return [r for r in results if r.started_at.timestamp() >= start]


@dataclass(frozen=True)
class Column:
    """One column of the chart: the slowest probe in its slice of time, and whether any failed."""

    worst_ms: float | None
    failed: bool
    count: int


def columns(results: Sequence[ProbeResult], width: int) -> list[Column]:
    """Spread `results` over `width` columns by time, from the oldest shown to the newest.

    Each column keeps the slowest probe in its slice (spikes stay visible) and whether any probe in
    it failed. Slices without probes are empty columns: gaps (a pause, an engine down) show.
    """
    if width <= 0:
        return []
    if not results:
        return [Column(None, False, 0)] * width
    stamps = [r.started_at.timestamp() for r in results]
    first, last = min(stamps), max(stamps)
    span = max(last - first, 1e-9)
    worst: list[float | None] = [None] * width
    failed = [False] * width
    counts = [0] * width
    for result, at in zip(results, stamps, strict=True):
        index = min(int((at - first) / span * width), width - 1)
        current = worst[index]
        if current is None or result.duration_ms > current:
            worst[index] = result.duration_ms
        failed[index] = failed[index] or not result.ok
        counts[index] += 1
    return [Column(worst[i], failed[i], counts[i]) for i in range(width)]


def bar_rows(cols: Sequence[Column], height: int, top_ms: float) -> list[str]:
    """The chart as `height` text lines, top line first: one vertical bar per column.

    Bars are scaled from 0 to `top_ms` in eighth-cell steps; a column with probes is at least one
    step tall, so a fast failure (connection refused in 0.3 ms) is never invisible.
    """
    steps = height * 8
    lines = [[" "] * len(cols) for _ in range(height)]
    for x, col in enumerate(cols):
        if col.worst_ms is None:
            continue
        filled = max(1, round(col.worst_ms / top_ms * steps)) if top_ms > 0 else 1
        filled = min(filled, steps)
        for row in range(height):
            level = min(max(filled - row * 8, 0), 8)
            lines[height - 1 - row][x] = BAR_LEVELS[level]
    return ["".join(line) for line in lines]


def describe_window(shown: Sequence[ProbeResult], time_range: TimeRange, now: datetime, *,
                    loaded: int, complete: bool, limit: int) -> str:
    """One honest sentence about what the chart shows for `time_range`.

    Args:
        shown: the loaded results within the range, newest first.
        time_range: the range the person picked.
        now: the current instant.
        loaded: how many results are loaded in all (within the range or not).
        complete: whether the store holds nothing older than the loaded results (History.complete).
        limit: the request the loaded history answers (History.limit).
    """
    if not shown:
        if loaded:
            return f"no probes in the last {time_range.label}"
        return f"no probes stored yet for the last {time_range.label}"
    oldest, newest = shown[-1].started_at, shown[0].started_at
    count = f"{render.format_count(len(shown))} probe{'' if len(shown) == 1 else 's'}"
    stretch = (f"{render.format_timestamp(oldest, now)} → {render.format_timestamp(newest, now)}"
               f" ({render.format_span((newest - oldest).total_seconds())})")
    covers = (now - oldest).total_seconds() >= time_range.seconds * 0.98
    if covers:
        return f"{count} in the last {time_range.label}, {stretch}"
    if not complete:
        return (f"{count}, {stretch}: only the newest {render.format_count(limit or loaded)} probes are"
                f" loaded, which do not reach back {time_range.label}")
    return f"{count}, {stretch}: no older probes are stored"
