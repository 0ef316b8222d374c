"""The checks grid's columns and the text of each cell: pure functions of a check, its trend and `now`.

No Textual here (the grid widget draws what these return), so the column layout and every cell's
wording are tested with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size

from tui import render
from tui.query import SortKey
from tui.trends import SPARK_POINTS, grid_uptime

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.uptime import UptimeTally
    from tui.model import CheckView
    from tui.trends import Trend

UPTIME_NOTE = ("the current hour and the ones before it, from the stored rollups (read again every "
               "minute) plus the probes this console has seen since; without a database, only what "
               "this console has seen")


@dataclass(frozen=True)
class Column:
    """One grid column: its key, header label, width (None: sized by content or the rest) and tooltip."""

    key: str
    label: str
    width: int | None
    tooltip: str
    right: bool = False
    gap: int = 1
    """Blank cells before the column (two where a left-aligned column follows a right-aligned one)."""


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", None, "The check's name. Click to sort by name."),
    Column("status", "Status", 21, "Status and for how long. Click to sort, worst first."),
    Column("latency", "Latency", 8, "Duration of the last probe. Click to sort, slowest first.", right=True),
    Column("trend", "Trend", SPARK_POINTS,
           f"The last {SPARK_POINTS} probe durations this console has seen, oldest on the left, "
           "scaled to the row's own range; failed probes in the down colour."),
    Column("up24", "24h", 6, f"Probes that succeeded in the last 24 hours: {UPTIME_NOTE}.", right=True),
    Column("up7", "7d", 6, f"Probes that succeeded in the last 7 days: {UPTIME_NOTE}.", right=True),
    Column("checked", "Checked", 8, "Time since the last probe. Click to sort, stalest first.", gap=2),
    Column("reason", "Reason", None, "Why the last probe failed."),
)
"""The grid's columns, in display order."""

SORT_COLUMNS: dict[str, SortKey] = {
    "name": SortKey.NAME, "status": SortKey.STATUS, "latency": SortKey.LATENCY, "checked": SortKey.CHECKED,
}
"""Columns whose header sorts the grid when clicked."""

NAME_WIDTH = (6, 28)
"""Narrowest and widest the name column gets (it is sized to the longest name in between)."""


RIGHT_ALIGNED = frozenset(column.key for column in COLUMNS if column.right)


def layout(width: int, name_width: int) -> list[tuple[str, int, int]]:
    """(column key, x where its gap starts, text width) of the columns that fit.

    Every column but the name and the reason has a fixed width; the name column is `name_width`
    and the reason takes what is left. Columns that do not fit at all are left out, from the right.
    """
    gaps = sum(c.gap for c in COLUMNS)
    fixed = sum(c.width or 0 for c in COLUMNS if c.key not in ("name", "reason"))
    reason = width - gaps - fixed - name_width
    placed: list[tuple[str, int, int]] = []
    x = 0
    for column in COLUMNS:
        size = {"name": name_width, "reason": reason}.get(column.key, column.width or 0)
        if size <= 0 or x + column.gap + size > width:
            break
        placed.append((column.key, x, size))
        x += column.gap + size
    return placed


GAPS = {column.key: column.gap for column in COLUMNS}


def cell_texts(view: CheckView, trend: Trend, now: datetime,
               tally: UptimeTally | None = None) -> dict[str, str]:
    """The text of every cell of a check's row, by column key (uptime from `tally` when there is one)."""
    state = view.state
    day, week = grid_uptime(trend, now, tally, view.check_id)
    return {
        "name": view.check.name,
        "status": render.state_label(state, now),
        "latency": render.format_latency(state.last_latency_ms),
        "trend": render.sparkline(trend.latencies, SPARK_POINTS),
        "up24": render.format_uptime(*day),
        "up7": render.format_uptime(*week),
        "checked": render.format_ago(state.last_checked_at, now),
        "reason": render.one_line(state.last_error, 200),
    }


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` cells."""
    if text.isascii():
        if len(text) > width:
            return text[: max(width - 1, 0)] + "…" if width else ""
        return text.rjust(width) if right else text.ljust(width)
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
    padding = " " * (width - length)
    return padding + text if right else text + padding
