"""The Engines screen: every engine on the database, alive or not, what it holds and how it keeps up.

Reads only. The roster comes from the `EngineDesk` (ClusterStore.roster) in a thread worker, again
every `RELOAD_SECONDS`: an engine that dies turns stale within one lease TTL, and the survivors'
shard counts grow as they take its checks over. The console's own engine (embedded mode) is one of
the rows — it registers like any other — and the heading names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label
from textual.worker import Worker, WorkerState

from pulsewatch.domain.engines import Liveness
from pulsewatch.domain.monitoring import Status
from tui.engine_rows import COLUMNS, engine_cells, roster_heading
from tui.themes import status_style

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.engines import EngineRoster, EngineSummary
    from tui.navigation import ConsoleContext

RELOAD_SECONDS = 2.0
"""How often the roster is read again (a heartbeat comes every lease/3, 10 s by default)."""

NO_STORE = "No engines here: the console runs without a database."
NO_ENGINES = ("No engine has registered with this database yet. Engines appear here once they run: "
              "`pulsewatch engine`, or the engine inside a console.")

STATE_COLOURS = {Liveness.ALIVE: Status.UP, Liveness.STALE: Status.DOWN, Liveness.STOPPED: Status.PAUSED}
"""The status colour each liveness is drawn in."""


class RosterLoaded(Message):
    """A read of the roster finished."""

    def __init__(self, roster: EngineRoster) -> None:
        super().__init__()
        self.roster = roster


class EnginesScreen(Screen[None]):
    """Engines with their state, leases, lateness and throughput.

    Args:
        context: the console's feed (for this console's own engine name) and services (`services.engines`).
    """

    HELP_SCOPE = "Engines"
    DEFAULT_CSS = """
    EnginesScreen #engines-heading { text-style: bold; padding: 0 1; }
    EnginesScreen #engines-message { padding: 1 2; color: $text-muted; }
    EnginesScreen #engines-table { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "reload", "Reload", tooltip="Read the engines again now.", id="pw.engines-reload"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="engines")
        self._pw = context
        self._roster: EngineRoster | None = None
        self._failing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Engines: reading…", id="engines-heading", markup=False)
        yield Label(NO_STORE if self._pw.services is None or self._pw.services.engines is None else "",
                    id="engines-message", markup=False)
        yield DataTable(id="engines-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, heading in COLUMNS:
            table.add_column(heading, key=key)
        available = self._pw.services is not None and self._pw.services.engines is not None
        self.query_one("#engines-message").display = not available
        if not available:
            self.query_one("#engines-heading", Label).update("Engines")
        self.set_interval(RELOAD_SECONDS, self._tick)
        table.focus()
        self.action_reload()

    def _tick(self) -> None:
        # Only while shown: behind another destination nobody reads it; on_screen_resume catches up.
        if self.is_current:
            self.action_reload()

    def on_screen_resume(self) -> None:
        if self._roster is not None:  # back from elsewhere (the first read is on_mount's)
            self.action_reload()

    @property
    def roster(self) -> EngineRoster | None:
        """The roster shown (None before the first read)."""
        return self._roster

    @work(thread=True, exclusive=True, exit_on_error=False, group="engines-reload")
    def _read(self) -> None:
        services = self._pw.services
        if services is None or services.engines is None:
            return
        self.post_message(RosterLoaded(services.engines.roster()))

    def on_roster_loaded(self, message: RosterLoaded) -> None:
        self._failing = False
        roster = self._roster = message.roster
        here = self._pw.feed.board.engine
        self.query_one("#engines-heading", Label).update(roster_heading(roster, here))
        notice = self.query_one("#engines-message", Label)
        notice.update("" if roster.engines else NO_ENGINES)
        notice.display = not roster.engines
        self._fill(roster, here)

    def _fill(self, roster: EngineRoster, here: str) -> None:
        """Update the table in place: the cells of engines shown already; rows only as engines come and go."""
        table = self.query_one(DataTable)
        rows = {e.name: self._cells(roster, e, here) for e in roster.engines}
        if [str(key.value) for key in table.rows] != list(rows):
            selected = self._selected_name(table)
            table.clear()
            for name, cells in rows.items():
                table.add_row(*(cells[key] for key, _ in COLUMNS), key=name)
            if selected in rows:
                table.move_cursor(row=list(rows).index(selected))
            return
        for name, cells in rows.items():
            for key, _ in COLUMNS:
                table.update_cell(name, key, cells[key])

    def _cells(self, roster: EngineRoster, engine: EngineSummary, here: str) -> dict[str, str | Text]:
        texts: dict[str, str | Text] = dict(engine_cells(roster, engine))
        colour = status_style(self.app.theme_variables, STATE_COLOURS[roster.liveness(engine)])
        texts["state"] = Text(str(texts["state"]), style=colour)
        if engine.name == here:
            texts["engine"] = Text(engine.name, style="bold")
        return texts

    @staticmethod
    def _selected_name(table: DataTable[str | Text]) -> str | None:
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A failed read (database unreachable) is said once, not every RELOAD_SECONDS while it lasts;
        # the reloads go on and the table fills again when the database is back.
        if event.state is WorkerState.ERROR and event.worker.error is not None and not self._failing:
            self._failing = True
            self.notify(str(event.worker.error), title="Could not read the engines", severity="error",
                        markup=False)

    def action_reload(self) -> None:
        """Read the engines again."""
        if self._pw.services is not None and self._pw.services.engines is not None:
            self._read()
