"""The detail screen's two history tables: recent probe results and status flips, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from rich.text import Text
from textual.widgets import DataTable

from pulsewatch.domain.monitoring import Status
from tui import render
from tui.themes import status_style

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from textual.theme import Theme

    from pulsewatch.domain.monitoring import Flip, ProbeResult

Item = TypeVar("Item")


class _HistoryTable(DataTable[str | Text], Generic[Item]):
    """A short (≤ 100 rows) table redrawn whole when its items change, and on a theme change."""

    COLUMNS: tuple[tuple[str, str], ...] = ()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._last: tuple[Sequence[Item], datetime] | None = None
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._recolour)

    def show(self, items: Sequence[Item], now: datetime) -> None:
        """Replace the rows with `items`, newest first (a hundred rows: cheaper to redraw than diff)."""
        self._last = (items, now)
        cursor_row = self.cursor_row
        self.clear()
        for row in self._rows(items, now):
            self.add_row(*row)
        if self.row_count:
            self.move_cursor(row=min(cursor_row, self.row_count - 1), animate=False)

    def _rows(self, items: Sequence[Item], now: datetime) -> list[tuple[str | Text, ...]]:
        raise NotImplementedError

    def _recolour(self, _theme: Theme) -> None:
        if self._last is not None:
            self.show(*self._last)


class ResultsTable(_HistoryTable["ProbeResult"]):
    """One row per probe: when, outcome (coloured), latency and the reason it failed."""

    COLUMNS = (("when", "When"), ("ago", "Ago"), ("outcome", "Result"), ("latency", "Latency"),
               ("reason", "Reason"))

    def _rows(self, items: Sequence[ProbeResult], now: datetime) -> list[tuple[str | Text, ...]]:
        variables = self.app.theme_variables
        return [
            (
                render.format_timestamp(result.started_at, now),
                render.format_ago(result.started_at, now),
                Text(render.result_outcome(result),
                     style=status_style(variables, Status.UP if result.ok else Status.DOWN)),
                Text(render.format_latency(result.duration_ms), justify="right"),
                Text(render.one_line(render.result_reason(result), 80)),
            )
            for result in items
        ]


class FlipsTable(_HistoryTable["Flip"]):
    """One row per status change: when, old → new (coloured by the new status), and why."""

    COLUMNS = (("when", "When"), ("ago", "Ago"), ("change", "Change"), ("reason", "Reason"))

    def _rows(self, items: Sequence[Flip], now: datetime) -> list[tuple[str | Text, ...]]:
        variables = self.app.theme_variables
        return [
            (
                render.format_timestamp(flip.at, now),
                render.format_ago(flip.at, now),
                Text(render.flip_label(flip), style=status_style(variables, flip.new)),
                Text(render.one_line(flip.reason, 80)),
            )
            for flip in items
        ]
