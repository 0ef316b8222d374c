"""The live checks grid: one row per check, updated cell by cell as engine events arrive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tui import render
from tui.themes import status_style

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from datetime import datetime

    from textual.binding import BindingType
    from textual.theme import Theme

    from tui.model import CheckView

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Name", None),
    ("status", "Status", None),
    ("latency", "Latency", 9),
    ("checked", "Checked", 9),
    ("reason", "Reason", None),
)
"""(key, label, fixed width or None for content width), in display order."""

_GROWING = frozenset(key for key, _, width in COLUMNS if width is None)

REASON_LIMIT = 60
"""Longest reason shown in the grid; the detail screen shows it whole."""


class StatusTable(DataTable[str | Text]):
    """Checks and their live status. Rows are keyed by check id; only changed cells are rewritten.

    A naive full refresh of a DataTable was measured at ~60 ms (DESIGN §6), so the table keeps the
    last text of every cell and calls `update_cell` only where the text differs.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", tooltip="Open the selected check's detail.",
                id="pw.detail"),
    ]
    """Replaces DataTable's hidden `enter` binding so the footer shows it and a keymap can move it."""

    @dataclass
    class CheckSelected(Message):
        """The person chose a check (enter on its row)."""

        check_id: int

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[int, dict[str, str]] = {}
        self._views: dict[int, CheckView] = {}
        # Columns exist from construction: the first batch of events may arrive before on_mount.
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._recolour)

    @property
    def selected_check_id(self) -> int | None:
        """The check under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def show(self, views: Mapping[int, CheckView], changed: Collection[int], now: datetime,
             *, reset: bool = False) -> None:
        """Bring the rows up to date with `views`.

        Args:
            views: every check, by id, in display order.
            changed: ids whose view changed since the last call; rows are added for new ids.
            now: the current instant, for "12s ago".
            reset: the check list was replaced; rows for ids no longer in `views` are removed.
        """
        if reset:
            for gone in [cid for cid in self._shown if cid not in views]:
                self.remove_row(str(gone))
                del self._shown[gone]
                self._views.pop(gone, None)
        for check_id in changed:
            view = views.get(check_id)
            if view is not None:
                self._put_row(view, now)

    def tick(self, now: datetime) -> None:
        """Let time pass: rewrite the "for 3m" and "12s ago" cells that now read differently."""
        for view in self._views.values():
            self._put_row(view, now, only=("status", "checked"))

    def _put_row(self, view: CheckView, now: datetime, only: tuple[str, ...] = ()) -> None:
        check_id = view.check_id
        self._views[check_id] = view
        texts = _row_texts(view, now)
        shown = self._shown.get(check_id)
        if shown is None:
            self._shown[check_id] = texts
            self.add_row(*(self._cell(key, texts[key], view) for key, _, _ in COLUMNS), key=str(check_id))
            return
        for key in only or texts:
            if shown[key] != texts[key]:
                shown[key] = texts[key]
                self.update_cell(str(check_id), key, self._cell(key, texts[key], view),
                                 update_width=key in _GROWING)

    def _cell(self, key: str, text: str, view: CheckView) -> str | Text:
        if key == "status":
            return Text(text, style=status_style(self.app.theme_variables, view.state.status))
        if key == "latency":
            return Text(text, justify="right")
        # Names and reasons come from config and from targets: never let them parse as markup.
        return Text(text)

    def _recolour(self, _theme: Theme) -> None:
        for check_id, texts in self._shown.items():
            view = self._views[check_id]
            self.update_cell(str(check_id), "status", self._cell("status", texts["status"], view))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.CheckSelected(int(event.row_key.value)))


def _row_texts(view: CheckView, now: datetime) -> dict[str, str]:
    state = view.state
    return {
        "name": view.check.name,
        "status": render.state_label(state, now),
        "latency": render.format_latency(state.last_latency_ms),
        "checked": render.format_ago(state.last_checked_at, now),
        "reason": render.one_line(state.last_error, REASON_LIMIT),
    }
