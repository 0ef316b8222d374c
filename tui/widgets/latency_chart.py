"""A bar chart of probe latency over time, drawn with eighth blocks; failed columns in the down colour.

It charts either raw results (their own first-to-last stretch) or stored rollup buckets (the whole
chosen range, see tui.rollup_chart): both become the same columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from tui import chart, render, rollup_chart

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from rich.style import Style

    from pulsewatch.domain.monitoring import ProbeResult
    from pulsewatch.domain.rollups import Rollup

AXIS_WIDTH = 8
"""Room for the latency labels on the left ("1.25 s" and a space)."""


class LatencyChart(Widget):
    """Latency of the given results over the time they span: one column per slice of time.

    Each column is the slowest probe in its slice, so spikes are never averaged away; a column
    holding a failed probe is drawn in `$status-down`. The bottom line gives the first and last
    instants shown; the left axis the scale (0 to the slowest probe).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"latency-chart--bar", "latency-chart--fail",
                                             "latency-chart--axis"}

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id)
        self._columns: Callable[[int], list[chart.Column]] | None = None
        self._axis: tuple[datetime, datetime] | None = None
        self._now: datetime | None = None
        self._lines: list[Strip] = []
        self._drawn_for: tuple[int, int] | None = None

    def show(self, results: Sequence[ProbeResult], now: datetime) -> None:
        """Chart `results` (newest first, as loaded) over the stretch they span."""
        if results:
            stretch = (results[-1].started_at, results[0].started_at)
            self._plot(lambda width: chart.columns(results, width), stretch, now)
        else:
            self._plot(None, None, now)

    def show_buckets(self, rollups: Sequence[Rollup], since: datetime, until: datetime,
                     now: datetime) -> None:
        """Chart stored buckets over the whole range [since, until)."""
        if any(r.count for r in rollups):
            self._plot(lambda width: rollup_chart.bucket_columns(rollups, since, until, width),
                       (since, until), now)
        else:
            self._plot(None, None, now)

    def _plot(self, columns: Callable[[int], list[chart.Column]] | None,
              axis: tuple[datetime, datetime] | None, now: datetime) -> None:
        self._columns, self._axis, self._now = columns, axis, now
        self._drawn_for = None
        self.refresh()

    @property
    def slice_seconds(self) -> float:
        """How much time one column stands for at the current width (0 without a stretch to chart)."""
        width = self.size.width - AXIS_WIDTH
        if self._axis is None or width <= 0:
            return 0.0
        return (self._axis[1] - self._axis[0]).total_seconds() / width

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn_for = None

    def render_line(self, y: int) -> Strip:
        size = (self.size.width, self.size.height)
        if self._drawn_for != size:
            self._lines = self._draw(*size)
            self._drawn_for = size
        return self._lines[y] if y < len(self._lines) else Strip.blank(size[0], self.rich_style)

    def _draw(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        bar = base + self.get_component_rich_style("latency-chart--bar", partial=True)
        fail = base + self.get_component_rich_style("latency-chart--fail", partial=True)
        axis = base + self.get_component_rich_style("latency-chart--axis", partial=True)
        plot_width = width - AXIS_WIDTH
        bars_height = height - 1
        if plot_width <= 0 or bars_height <= 0:
            return []
        if self._columns is None or self._now is None:
            empty = [Strip.blank(width, base) for _ in range(height)]
            empty[bars_height // 2] = _text_line("no probes to chart".center(width), width, axis)
            return empty
        cols = self._columns(plot_width)
        top = max((c.worst_ms for c in cols if c.worst_ms is not None), default=0.0)
        rows = chart.bar_rows(cols, bars_height, top)
        lines: list[Strip] = []
        for index, row in enumerate(rows):
            label = render.format_latency(top) if index == 0 else ("0 ms" if index == bars_height - 1 else "")
            segments = [Segment(label.rjust(AXIS_WIDTH - 1) + " ", axis)]
            segments.extend(_runs(row, [c.failed for c in cols], bar, fail))
            lines.append(Strip(segments, width))
        first_at, last_at = self._axis or (self._now, self._now)
        first = render.format_timestamp(first_at, self._now)
        last = render.format_timestamp(last_at, self._now)
        gap = max(plot_width - len(first) - len(last), 1)
        lines.append(_text_line(" " * AXIS_WIDTH + first + " " * gap + last, width, axis))
        return lines


def _runs(row: str, failed: list[bool], bar: Style, fail: Style) -> list[Segment]:
    """The row's characters as segments, split where the failed flag changes."""
    segments: list[Segment] = []
    start = 0
    for index in range(1, len(row) + 1):
        if index == len(row) or failed[index] != failed[start]:
            segments.append(Segment(row[start:index], fail if failed[start] else bar))
            start = index
    return segments


def _text_line(text: str, width: int, style: Style) -> Strip:
    return Strip([Segment(text[:width].ljust(width), style)], width)
