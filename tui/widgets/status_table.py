"""The live checks grid: a Line-API widget that draws only the rows on screen.

A DataTable was measured at ~60 ms for a naive refresh (DESIGN §6) and it measures every cell of
every new row, which at 10,000 checks makes each re-filter cost hundreds of milliseconds. This grid
keeps no per-cell widgets or caches: the rows are a tuple of ids (from `tui.query.arrange`), the
cells are read from the current Board when a line is drawn, and an engine batch only marks the
lines of the changed checks that are on screen as dirty. Re-arranging (filter, sort, group) swaps
the tuple once per user action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pulsewatch.domain.monitoring import Status
from tui import render
from tui.grid_cells import COLUMNS, GAPS, NAME_WIDTH, RIGHT_ALIGNED, SORT_COLUMNS, cell_texts, fit, layout
from tui.model import Board
from tui.query import CheckRow, GroupRow, SortKey
from tui.themes import status_style
from tui.trends import EMPTY_TREND

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from datetime import datetime

    from textual import events
    from textual.binding import BindingType
    from textual.theme import Theme

    from pulsewatch.domain.uptime import UptimeTally
    from tui.model import CheckView
    from tui.query import Row

STYLE_CLASSES = ("header", "cursor", "hover", "odd-row", "group", "muted", "spark")


class StatusTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Checks and their live status, one row per check (or group heading), drawn on demand.

    Args:
        clock: the console's clock, for "for 3m" and "12s ago" (read when lines are drawn).
    """

    HELP_SCOPE = "Grid"
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"status-table--{name}" for name in STYLE_CLASSES}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", tooltip="Open the selected check's detail "
                "(on a group heading: fold or unfold the group).", id="pw.detail"),
        Binding("up", "cursor_up", "Up", show=False, tooltip="Move to the row above.", id="pw.cursor-up"),
        Binding("down", "cursor_down", "Down", show=False, tooltip="Move to the row below.",
                id="pw.cursor-down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="Move one screen up.", id="pw.page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="Move one screen down.",
                id="pw.page-down"),
        Binding("home", "first", "First", show=False, tooltip="Move to the first row.", id="pw.first-row"),
        Binding("end", "last", "Last", show=False, tooltip="Move to the last row.", id="pw.last-row"),
    ]

    @dataclass
    class CheckSelected(Message):
        """The person chose a check (enter, or a double click on its row)."""

        check_id: int

    @dataclass
    class GroupToggled(Message):
        """The person chose a group heading: fold or unfold it."""

        name: str

    @dataclass
    class HeaderClicked(Message):
        """The person clicked a column heading."""

        column: str

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._clock = clock
        self._board = Board()
        self._rows: tuple[Row, ...] = ()
        self._lines_of: dict[int, list[int]] = {}
        self._name_width = NAME_WIDTH[0]
        self._sort = SortKey.CONFIG
        self._reverse = False
        self.cursor_row = 0
        """The row under the cursor (0 when the grid is empty)."""
        self._hover_row = -1
        self._styles: dict[str, Style] = {}
        self._group_labels: dict[str, str] = {}
        self._tally: UptimeTally | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    # -- data in ------------------------------------------------------------------------------

    def show_rows(self, rows: Sequence[Row], board: Board, *, sort: SortKey = SortKey.CONFIG,
                  reverse: bool = False) -> None:
        """Replace the rows (a user action or a new check list); the cursor stays on its check."""
        kept = self.selected_check_id
        self._board = board
        self._group_labels.clear()
        self._rows = tuple(rows)
        self._sort, self._reverse = sort, reverse
        lines_of: dict[int, list[int]] = {}
        for index, row in enumerate(self._rows):
            if type(row) is CheckRow:
                lines_of.setdefault(row.check_id, []).append(index)
        self._lines_of = lines_of
        views = board.views
        names = (views[cid].check.name for cid in lines_of if cid in views)
        longest = max((len(n) if n.isascii() else cell_len(n) for n in names), default=0)
        self._name_width = max(NAME_WIDTH[0], min(longest, NAME_WIDTH[1]))
        target = self._lines_of.get(kept, [0])[0] if kept is not None else self.cursor_row
        self.cursor_row = min(target, max(len(self._rows) - 1, 0))
        self._resize_virtual()
        self._scroll_to_cursor()
        self.refresh()

    def update(self, board: Board, changed: Collection[int]) -> None:
        """Take a new board; repaint only the on-screen lines of checks in `changed`."""
        self._board = board
        self._group_labels.clear()
        if not changed or not self._rows:
            return
        top = round(self.scroll_offset.y)
        bottom = top + max(self.scrollable_content_region.height - 1, 0)
        if any(isinstance(row, GroupRow) for row in self._rows[top:bottom]):
            self.refresh()  # group headings count their checks' statuses
            return
        for check_id in changed:
            for index in self._lines_of.get(check_id, ()):
                if top <= index < bottom:
                    self.refresh_line(index + 1)

    def show_tally(self, tally: UptimeTally) -> None:
        """Take the stored uptime counts of every check (read again every minute) and redraw."""
        self._tally = tally
        self.refresh()

    @property
    def tally(self) -> UptimeTally | None:
        """The stored uptime counts in use (None: the uptime columns count what the console saw)."""
        return self._tally

    def tick(self) -> None:
        """Let time pass: redraw what is on screen ("12s ago" becomes "13s ago")."""
        self.refresh()

    # -- what is shown ------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the grid has (group headings included)."""
        return len(self._rows)

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows, in display order."""
        return self._rows

    @property
    def selected_check_id(self) -> int | None:
        """The check under the cursor; None on a group heading or in an empty grid."""
        if not self._rows:
            return None
        row = self._rows[self.cursor_row]
        return row.check_id if isinstance(row, CheckRow) else None

    def get_row_at(self, index: int) -> list[str]:
        """The texts of row `index` as drawn now: one per column, or the heading for a group."""
        row = self._rows[index]
        if isinstance(row, GroupRow):
            return [self._group_label(row)]
        view = self._board.views.get(row.check_id)
        if view is None:
            return [""] * len(COLUMNS)
        trend = self._board.trends.get(row.check_id, EMPTY_TREND)
        cells = cell_texts(view, trend, self._clock(), self._tally)
        return [cells[column.key] for column in COLUMNS]

    def get_cell(self, check_id: int | str, column: str) -> str:
        """The text of `column` in the (first) row of `check_id`, as drawn now."""
        index = self._lines_of[int(check_id)][0]
        return self.get_row_at(index)[[c.key for c in COLUMNS].index(column)]

    def row_index(self, check_id: int) -> int | None:
        """Where the check's (first) row is, or None when it is not shown."""
        lines = self._lines_of.get(check_id)
        return lines[0] if lines else None

    # -- cursor and actions -------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped) and scroll it into view."""
        if not self._rows:
            return
        old, self.cursor_row = self.cursor_row, max(0, min(row, len(self._rows) - 1))
        if old != self.cursor_row:
            self.refresh_line(old + 1)
            self.refresh_line(self.cursor_row + 1)
        self._scroll_to_cursor()

    def action_cursor_up(self) -> None:
        """Move to the row above."""
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        """Move to the row below."""
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        """Move one screen up."""
        self.move_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        """Move one screen down."""
        self.move_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        """Move to the first row."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """Move to the last row."""
        self.move_cursor(len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        """Open the check under the cursor, or fold/unfold the group heading under it."""
        if not self._rows:
            return
        row = self._rows[self.cursor_row]
        if isinstance(row, GroupRow):
            self.post_message(self.GroupToggled(row.name))
        else:
            self.post_message(self.CheckSelected(row.check_id))

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    def _scroll_to_cursor(self) -> None:
        visible = self.scrollable_content_region.height - 1
        if visible <= 0:
            return
        top = round(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows) + 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._resize_virtual()
        self._scroll_to_cursor()

    # -- mouse ----------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(self.HeaderClicked(column))
            return
        index = round(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self._rows):
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_select_cursor()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            self.tooltip = next((c.tooltip for c in COLUMNS if c.key == column), None)
            hover = -1
        else:
            self.tooltip = None
            hover = round(self.scroll_offset.y) + event.y - 1
        if hover != self._hover_row:
            self._refresh_rows(self._hover_row, hover)
            self._hover_row = hover

    def on_leave(self, _event: events.Leave) -> None:
        self._refresh_rows(self._hover_row)
        self._hover_row = -1

    def _refresh_rows(self, *indexes: int) -> None:
        for index in indexes:
            if index >= 0:
                self.refresh_line(index + 1)

    def column_x(self, key: str) -> int | None:
        """Where the column `key` starts on screen (its padding), or None when it does not fit."""
        return next((x for k, x, _ in self._layout(self.scrollable_content_region.width) if k == key), None)

    def _column_at(self, x: int) -> str | None:
        for key, start, width in self._layout(self.scrollable_content_region.width):
            if start <= x < start + width + GAPS[key]:
                return key
        return None

    # -- drawing ------------------------------------------------------------------------------

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _restyle(self, _theme: Theme | None = None) -> None:
        self._styles.clear()
        self.refresh()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            if name.startswith("status-"):
                style = status_style(self.app.theme_variables, Status(name.removeprefix("status-")))
            else:
                style = self.get_component_rich_style(f"status-table--{name}", partial=True)
            self._styles[name] = style
        return style

    def _layout(self, width: int) -> list[tuple[str, int, int]]:
        return layout(width, self._name_width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base + self._style("header"))
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._rows):
            return Strip([Segment(" " * width, base)], width)
        row_style = base
        if index % 2:
            row_style += self._style("odd-row")
        if index == self._hover_row:
            row_style += self._style("hover")
        overlay = self._style("cursor") if index == self.cursor_row else None
        row = self._rows[index]
        if isinstance(row, GroupRow):
            style = row_style + self._style("group")
            text = fit(" " + self._group_label(row), width)
            return Strip([Segment(text, style + overlay if overlay else style)], width)
        return self._check_line(row.check_id, width, row_style, overlay)

    def _header(self, width: int, style: Style) -> Strip:
        segments: list[Segment] = []
        used = 0
        arrow = "▲" if self._reverse else "▼"
        for key, _, size in self._layout(width):
            column = next(c for c in COLUMNS if c.key == key)
            label = column.label
            if SORT_COLUMNS.get(key) is self._sort:
                label = f"{label} {arrow}"
            segments.append(Segment(" " * GAPS[key], style))
            segments.append(Segment(fit(label, size, right=column.right), style))
            used += GAPS[key] + size
        segments.append(Segment(" " * max(width - used, 0), style))
        return Strip(segments, width)

    def _check_line(self, check_id: int, width: int, row_style: Style, overlay: Style | None) -> Strip:
        view = self._board.views.get(check_id)
        if view is None:
            return Strip([Segment(" " * width, row_style)], width)
        trend = self._board.trends.get(check_id, EMPTY_TREND)
        cells = cell_texts(view, trend, self._clock(), self._tally)
        segments: list[Segment] = []
        used = 0
        for key, _, size in self._layout(width):
            style = row_style + self._cell_style(key, view)
            if overlay is not None:
                style += overlay
            segments.append(Segment(" " * GAPS[key], row_style + overlay if overlay else row_style))
            if key == "trend":
                segments.extend(self._spark(cells["trend"], trend.failed, style, overlay))
            else:
                segments.append(Segment(fit(cells[key], size, right=key in RIGHT_ALIGNED), style))
            used += GAPS[key] + size
        tail = row_style + overlay if overlay else row_style
        segments.append(Segment(" " * max(width - used, 0), tail))
        return Strip(segments, width)

    def _cell_style(self, key: str, view: CheckView) -> Style:
        if key == "status":
            return self._style(f"status-{view.state.status.value}")
        if key in ("checked", "up24", "up7"):
            return self._style("muted")
        if key == "trend":
            return self._style("spark")
        return Style()

    def _spark(self, text: str, failed: Sequence[bool], style: Style, overlay: Style | None) -> list[Segment]:
        size = len(text)
        recent = list(failed[-size:])
        flags = [False] * (size - len(recent)) + recent
        down = style + self._style("status-down")
        if overlay is not None:
            down += overlay
        segments: list[Segment] = []
        start = 0
        for i in range(1, size + 1):
            if i == size or flags[i] != flags[start]:
                segments.append(Segment(text[start:i], down if flags[start] else style))
                start = i
        return segments

    def _group_label(self, row: GroupRow) -> str:
        label = self._group_labels.get(row.name)
        if label is None:
            views = self._board.views
            counts = render.summary_counts(views[cid].state for cid in row.check_ids if cid in views)
            marker = "▸" if row.collapsed else "▾"
            label = self._group_labels[row.name] = f"{marker} {row.name} · {render.summary_text(counts)}"
        return label

