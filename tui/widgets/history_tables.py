"""The detail screen's two history tables: recent probe results and status flips, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from pulsewatch.domain.monitoring import Status
from tui import render
from tui.themes import status_style

if TYPE_CHECKING:
    from datetime import datetime

    from textual.theme import Theme

    from tui.model import History


class _HistoryTable(DataTable[str | Text]):
    """A short (≤ 50 rows) table redrawn whole when its history changes, and on a theme change."""

    COLUMNS: tuple[tuple[str, str], ...] = ()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._last: tuple[History, datetime] | None = None
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._recolour)

    def show(self, history: History, now: datetime) -> None:
        """Replace the rows with `history` (a few dozen rows: cheaper to redraw than to diff)."""
        self._last = (history, now)
        cursor_row = self.cursor_row
        self.clear()
        for row in self._rows(history, now):
            self.add_row(*row)
        if self.row_count:
            self.move_cursor(row=min(cursor_row, self.row_count - 1), animate=False)

    def _rows(self, history: History, now: datetime) -> list[tuple[str | Text, ...]]:
        raise NotImplementedError

    def _recolour(self, _theme: Theme) -> None:
        if self._last is not None:
            self.show(*self._last)


class ResultsTable(_HistoryTable):
    """One row per probe: when, outcome (coloured), latency and the reason it failed."""

    COLUMNS = (("when", "When"), ("ago", "Ago"), ("outcome", "Result"), ("latency", "Latency"),
               ("reason", "Reason"))

    def _rows(self, history: History, now: datetime) -> list[tuple[str | Text, ...]]:
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
            for result in history.results
        ]


class FlipsTable(_HistoryTable):
    """One row per status change: when, old → new (coloured by the new status), and why."""

    COLUMNS = (("when", "When"), ("ago", "Ago"), ("change", "Change"), ("reason", "Reason"))

    def _rows(self, history: History, now: datetime) -> list[tuple[str | Text, ...]]:
        variables = self.app.theme_variables
        return [
            (
                render.format_timestamp(flip.at, now),
                render.format_ago(flip.at, now),
                Text(render.flip_label(flip), style=status_style(variables, flip.new)),
                Text(render.one_line(flip.reason, 80)),
            )
            for flip in history.flips
        ]
