"""The check detail screen: definition, current state, recent results and flips — kept live."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from pulsewatch.domain.events import LoadHistory, RunNow, SetPaused
from tui import render
from tui.messages import CommandRequested
from tui.model import HISTORY_LIMIT
from tui.widgets.history_tables import FlipsTable, ResultsTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from tui.model import Board, BoardChange, CheckView

AGE_TICK_SECONDS = 5.0
"""How often ages on this screen are redrawn when no event does it (coarser: it redraws tables)."""

STATUS_CLASSES = tuple(f"-{status}" for status in ("up", "down", "degraded", "paused", "unknown",
                                                    "maintenance"))


class DetailScreen(Screen[None]):
    """One check in depth. History is asked of the engine on mount and drawn when it arrives.

    Args:
        check_id: the check to show.
        board: the board as of opening, so the definition and state show at once.
        clock: the injected clock, for ages.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Return to the checks grid.", id="pw.back"),
        Binding("r", "run_now", "Run now", tooltip="Probe this check now.", id="pw.run-now"),
        Binding("p", "toggle_pause", "Pause/resume", tooltip="Pause or resume this check.", id="pw.pause"),
    ]

    def __init__(self, check_id: int, board: Board, clock: Callable[[], datetime]) -> None:
        super().__init__(id="detail")
        self.check_id = check_id
        self._board = board
        self._clock = clock

    def compose(self) -> ComposeResult:
        yield Header()
        # Names, reasons and conditions contain brackets ("[STATUS] == 200"): never parse them as markup.
        with Vertical(id="detail-head"):
            yield Label("", id="detail-name", markup=False)
            yield Label("", id="detail-state", markup=False)
            yield Static("", id="detail-config", markup=False)
        yield Label("Recent results", id="results-title", classes="section-title")
        yield ResultsTable(id="detail-results")
        yield Label("Flips", id="flips-title", classes="section-title")
        yield FlipsTable(id="detail-flips")
        yield Footer()

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(AGE_TICK_SECONDS, self._tick)
        self.post_message(CommandRequested(LoadHistory(self.check_id, limit=HISTORY_LIMIT)))
        self.query_one(ResultsTable).focus()

    @property
    def view(self) -> CheckView | None:
        """The check as last shown; None once it has been removed from the engine's list."""
        return self._board.views.get(self.check_id)

    def show(self, change: BoardChange) -> None:
        """Apply one drained batch, redrawing only what concerns this check."""
        self._board = change.board
        now = self._clock()
        if self.check_id in change.changed or change.reset:
            self._show_view(now)
        if self.check_id in change.histories:
            self._show_history(now)

    def _tick(self) -> None:
        now = self._clock()
        self._show_view(now)
        self._show_history(now)

    def _show_view(self, now: datetime) -> None:
        view = self.view
        state_label = self.query_one("#detail-state", Label)
        if view is None:
            self.query_one("#detail-name", Label).update("(check removed)")
            state_label.update("")
            return
        self.sub_title = view.check.name
        state = view.state
        self.query_one("#detail-name", Label).update(view.check.name)
        parts = [
            render.state_label(state, now),
            f"last checked {render.format_ago(state.last_checked_at, now)}",
            render.format_latency(state.last_latency_ms),
        ]
        if state.last_error:
            parts.append(render.one_line(state.last_error, 100))
        state_label.update(" · ".join(parts))
        state_label.remove_class(*STATUS_CLASSES)
        state_label.add_class(f"-{state.status.value}")
        self.query_one("#detail-config", Static).update("\n".join(render.check_config_lines(view.check)))

    def _show_history(self, now: datetime) -> None:
        history = self._board.histories.get(self.check_id)
        results_title = self.query_one("#results-title", Label)
        flips_title = self.query_one("#flips-title", Label)
        if history is None:
            results_title.update("Recent results (loading…)")
            flips_title.update("Flips (loading…)")
            return
        results_title.update(f"Recent results ({len(history.results)})")
        flips_title.update(f"Flips ({len(history.flips)})")
        self.query_one(ResultsTable).show(history, now)
        self.query_one(FlipsTable).show(history, now)

    def action_back(self) -> None:
        """Return to the grid."""
        self.dismiss()

    def action_run_now(self) -> None:
        """Ask the engine to probe this check now."""
        view = self.view
        if view is not None:
            self.post_message(CommandRequested(RunNow(self.check_id), f"Probing {view.check.name} now"))

    def action_toggle_pause(self) -> None:
        """Pause this check, or resume it when it is paused."""
        view = self.view
        if view is not None:
            paused = not view.paused
            verb = "Pausing" if paused else "Resuming"
            self.post_message(CommandRequested(SetPaused(self.check_id, paused), f"{verb} {view.check.name}"))
