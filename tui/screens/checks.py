"""The checks screen: the live grid of every check, a summary line, and the actions on one check."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from pulsewatch.domain.events import RunNow, SetPaused
from tui import render
from tui.messages import CommandRequested
from tui.model import Board, BoardChange
from tui.screens.detail import DetailScreen
from tui.widgets.status_table import StatusTable
from tui.widgets.summary_bar import SummaryBar

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from tui.model import CheckView

AGE_TICK_SECONDS = 1.0
"""How often "12s ago" and "for 3m" are refreshed when no event does it."""


class ChecksScreen(Screen[None]):
    """Every check with its status, latency, age and reason; enter opens its detail.

    Args:
        clock: the injected clock, for ages.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_now", "Run now", tooltip="Probe the selected check now.", id="pw.run-now"),
        Binding("p", "toggle_pause", "Pause/resume", tooltip="Pause or resume the selected check.",
                id="pw.pause"),
    ]

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(id="checks")
        self._clock = clock
        self._board = Board()

    def compose(self) -> ComposeResult:
        yield Header()
        yield SummaryBar(id="summary")
        yield StatusTable(id="checks-table")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(AGE_TICK_SECONDS, self._tick)

    @property
    def table(self) -> StatusTable:
        """The grid."""
        return self.query_one(StatusTable)

    @property
    def board(self) -> Board:
        """The last board shown."""
        return self._board

    def show(self, change: BoardChange) -> None:
        """Apply one drained batch: rewrite the rows that changed and recount the summary."""
        self._board = change.board
        self.table.show(change.board.views, change.changed, self._clock(), reset=change.reset)
        if change.changed or change.reset:
            states = (view.state for view in change.board.views.values())
            self.query_one(SummaryBar).show(render.summary_counts(states))

    def _tick(self) -> None:
        self.table.tick(self._clock())

    def action_run_now(self) -> None:
        """Ask the engine to probe the selected check outside its schedule."""
        view = self._selected()
        if view is not None:
            self.post_message(CommandRequested(RunNow(view.check_id), f"Probing {view.check.name} now"))

    def action_toggle_pause(self) -> None:
        """Pause the selected check, or resume it when it is paused."""
        view = self._selected()
        if view is not None:
            paused = not view.paused
            verb = "Pausing" if paused else "Resuming"
            self.post_message(CommandRequested(SetPaused(view.check_id, paused), f"{verb} {view.check.name}"))

    @on(StatusTable.CheckSelected)
    def _open_detail(self, event: StatusTable.CheckSelected) -> None:
        if event.check_id in self._board.views:
            self.app.push_screen(DetailScreen(event.check_id, self._board, self._clock))

    def _selected(self) -> CheckView | None:
        check_id = self.table.selected_check_id
        return None if check_id is None else self._board.views.get(check_id)
