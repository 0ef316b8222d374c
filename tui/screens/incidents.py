"""The Incidents screen: open, acknowledged and resolved incidents, their timeline, and the actions
a person on call takes (acknowledge with a note, resolve, add a note).

Everything comes from the `IncidentDesk` in the console's services (AlertingAccess in production),
which checks the acting user's role: a refusal comes back as an error and is shown as a
notification. Store calls block, so they run in thread workers that post messages back. The lists
reload when a check changes status (a flip opens or resolves incidents) and every
`RELOAD_SECONDS`, since other people (the CLI, another console) act on the same incidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from pulsewatch.domain.alerting import IncidentStatus
from pulsewatch.errors import PulseWatchError
from tui.render import format_span, format_timestamp, one_line
from tui.screens.text_prompt import TextPrompt

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.alerting import Incident, TimelineEntry
    from pulsewatch.domain.monitoring import Status
    from tui.model import BoardChange
    from tui.navigation import ConsoleContext

RELOAD_SECONDS = 2.0
"""How often the lists are read again, for changes made elsewhere."""
LIMIT = 200
"""The most incidents one reload reads (newest first)."""
LISTS: tuple[tuple[IncidentStatus, str], ...] = (
    (IncidentStatus.OPEN, "Open"),
    (IncidentStatus.ACKNOWLEDGED, "Acknowledged"),
    (IncidentStatus.RESOLVED, "Resolved"),
)
NO_STORE = "No incidents here: the console runs without a database."


class IncidentsLoaded(Message):
    """A reload finished: every incident the actor may see, newest first."""

    def __init__(self, incidents: Sequence[Incident]) -> None:
        super().__init__()
        self.incidents = tuple(incidents)


class TimelineLoaded(Message):
    """The selected incident's history, oldest first."""

    def __init__(self, incident: Incident, entries: Sequence[TimelineEntry]) -> None:
        super().__init__()
        self.incident = incident
        self.entries = tuple(entries)


class ActionFinished(Message):
    """An action ran: `error` is None when it succeeded, else what the service refused or failed."""

    def __init__(self, done: str, error: PulseWatchError | None = None) -> None:
        super().__init__()
        self.done = done
        self.error = error


class IncidentsScreen(Screen[None]):
    """Incidents by status, the selected one's timeline, and ack / resolve / note.

    Args:
        context: the console's clock, board feed and services (`services.incidents`).
    """

    HELP_SCOPE = "Incidents"
    DEFAULT_CSS = """
    IncidentsScreen #incident-lists { height: 1fr; }
    IncidentsScreen #timeline-box { height: 14; border-top: solid $primary; }
    IncidentsScreen #timeline-title { text-style: bold; padding: 0 1; }
    IncidentsScreen #incidents-empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "Acknowledge", tooltip="Acknowledge the selected incident, with a note.",
                id="pw.incident-ack"),
        Binding("r", "resolve", "Resolve", tooltip="Resolve the selected incident by hand.",
                id="pw.incident-resolve"),
        Binding("n", "note", "Note", tooltip="Add a note to the selected incident's timeline.",
                id="pw.incident-note"),
        Binding("right_square_bracket", "next_list", "Next list",
                tooltip="Show the next list: open, acknowledged, resolved.", id="pw.incident-next-list"),
        Binding("left_square_bracket", "previous_list", "Previous list", show=False,
                tooltip="Show the previous list.", id="pw.incident-previous-list"),
        Binding("f5", "reload", "Reload", show=False, tooltip="Read the incidents again now.",
                id="pw.incident-reload"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="incidents")
        self._pw = context
        self._incidents: dict[int, Incident] = {}
        self._statuses: dict[int, Status] = {}
        self._shown_timeline: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        if self._pw.services is None:
            yield Label(NO_STORE, id="incidents-empty")
        with TabbedContent(id="incident-lists"):
            for status, title in LISTS:
                with TabPane(title, id=f"list-{status.value}"):
                    yield DataTable(id=f"table-{status.value}", cursor_type="row", zebra_stripes=True)
        with Vertical(id="timeline-box"):
            yield Label("Timeline", id="timeline-title", markup=False)
            yield DataTable(id="timeline", cursor_type="row", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        for status, _ in LISTS:
            self._table(status).add_columns("#", "Check", "Org", "Severity", "Opened", "Lasted", "By",
                                            "Reason")
        self.query_one("#timeline", DataTable).add_columns("At", "What", "By", "Text")
        self._pw.feed.subscribe(self._on_board)
        self._statuses = {cid: view.state.status for cid, view in self._pw.feed.board.views.items()}
        self.set_interval(RELOAD_SECONDS, self.action_reload)
        self._table(IncidentStatus.OPEN).focus()
        self.action_reload()

    def on_unmount(self) -> None:
        self._pw.feed.unsubscribe(self._on_board)

    # -- what is shown ----------------------------------------------------------------------------

    def _table(self, status: IncidentStatus) -> DataTable[str]:
        return self.query_one(f"#table-{status.value}", DataTable)

    @property
    def shown_status(self) -> IncidentStatus:
        """The list in front."""
        active = self.query_one(TabbedContent).active or f"list-{IncidentStatus.OPEN.value}"
        return IncidentStatus(active.removeprefix("list-"))

    @property
    def selected(self) -> Incident | None:
        """The incident under the cursor of the list in front (None when that list is empty)."""
        table = self._table(self.shown_status)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._incidents.get(int(key)) if key is not None else None

    def _on_board(self, change: BoardChange) -> None:
        """A check changing status opens or resolves incidents: read them again."""
        moved = False
        for check_id in change.changed:
            view = change.board.views.get(check_id)
            status = view.state.status if view else None
            if status is not None and self._statuses.get(check_id) != status:
                self._statuses[check_id] = status
                moved = True
        if moved:
            self.action_reload()

    def on_incidents_loaded(self, message: IncidentsLoaded) -> None:
        self._incidents = {i.id: i for i in message.incidents if i.id is not None}
        now = self._pw.clock()
        tabs = self.query_one(TabbedContent)
        for status, title in LISTS:
            rows = [i for i in message.incidents if i.status is status and i.id is not None]
            self._fill(self._table(status), rows, now)
            tabs.get_tab(f"list-{status.value}").label = f"{title} ({len(rows)})"
        self._load_selected_timeline()

    def _fill(self, table: DataTable[str], incidents: Sequence[Incident], now: datetime) -> None:
        kept = None
        if table.row_count:
            kept = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for incident in incidents:
            who = incident.resolved_by or incident.acknowledged_by or ""
            table.add_row(
                f"#{incident.id}", incident.check_name, incident.org, incident.severity.value,
                format_timestamp(incident.opened_at, now),
                format_span(incident.duration(now).total_seconds()), who, one_line(incident.reason, 50),
                key=str(incident.id),
            )
        keys = [str(i.id) for i in incidents]
        if kept in keys:
            table.move_cursor(row=keys.index(kept), animate=False)

    def on_timeline_loaded(self, message: TimelineLoaded) -> None:
        incident = message.incident
        self._shown_timeline = incident.id
        title = f"Timeline of #{incident.id} {incident.check_name} ({incident.status.value})"
        if incident.ack_note:
            title += f" · ack note: {incident.ack_note}"
        self.query_one("#timeline-title", Label).update(title)
        table = self.query_one("#timeline", DataTable)
        table.clear()
        now = self._pw.clock()
        for entry in message.entries:
            table.add_row(format_timestamp(entry.at, now), entry.kind.value, entry.actor or "",
                          one_line(entry.text, 70))

    def _load_selected_timeline(self) -> None:
        incident = self.selected
        if incident is None or incident.id is None:
            self.query_one("#timeline-title", Label).update("Timeline (no incident selected)")
            self.query_one("#timeline", DataTable).clear()
            self._shown_timeline = None
            return
        self._read_timeline(incident.id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "timeline":
            self._load_selected_timeline()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._table(self.shown_status).focus()
        self._load_selected_timeline()

    def on_action_finished(self, message: ActionFinished) -> None:
        if message.error is not None:
            self.notify(message.error.message, title=message.error.title, severity="error", markup=False)
        else:
            self.notify(message.done, timeout=3, markup=False)
        self.action_reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers do not stop the app on error (exit_on_error=False): say what broke instead.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title="Could not read or change incidents",
                        severity="error", markup=False)

    # -- store calls, off the event loop ------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="incidents-reload")
    def _read_incidents(self) -> None:
        services = self._pw.services
        if services is not None:
            self.post_message(IncidentsLoaded(services.incidents.incidents(services.actor, limit=LIMIT)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="incidents-timeline")
    def _read_timeline(self, incident_id: int) -> None:
        services = self._pw.services
        if services is not None:
            incident, entries = services.incidents.incident(services.actor, incident_id)
            self.post_message(TimelineLoaded(incident, entries))

    @work(thread=True, exclusive=True, exit_on_error=False, group="incidents-action")
    def _act(self, change: Callable[[], object], done: str) -> None:
        try:
            change()
        except PulseWatchError as error:  # refusals, resolved incidents, empty notes: the person's to fix
            self.post_message(ActionFinished(done, error))
            return
        self.post_message(ActionFinished(done))

    # -- actions ------------------------------------------------------------------------------------

    def action_reload(self) -> None:
        """Read the incidents again."""
        if self._pw.services is not None:
            self._read_incidents()

    def _target(self, verb: str) -> Incident | None:
        if self._pw.services is None:
            self.notify(NO_STORE, severity="warning")
            return None
        incident = self.selected
        if incident is None:
            self.notify(f"No incident to {verb} in this list.", severity="warning")
        return incident

    def action_acknowledge(self) -> None:
        """Ask for a note, then acknowledge the selected incident as the signed-in person."""
        incident = self._target("acknowledge")
        if incident is None or incident.id is None:
            return
        if incident.status is IncidentStatus.RESOLVED:
            self.notify(f"#{incident.id} is already resolved.", severity="warning")
            return
        incident_id = incident.id

        def acknowledge(note: str | None) -> None:
            services = self._pw.services
            if note is None or services is None:
                return
            now = self._pw.clock()
            self._act(lambda: services.incidents.acknowledge(services.actor, incident_id, note, now),
                      f"#{incident_id} {incident.check_name} acknowledged")

        self.app.push_screen(TextPrompt(f"Acknowledge #{incident_id} {incident.check_name}",
                                        "enter: acknowledge (the note is optional) · escape: cancel",
                                        placeholder="note, e.g. looking into it"), acknowledge)

    def action_resolve(self) -> None:
        """Resolve the selected incident by hand (pages not yet sent are dropped)."""
        incident = self._target("resolve")
        services = self._pw.services
        if incident is None or incident.id is None or services is None:
            return
        if incident.status is IncidentStatus.RESOLVED:
            self.notify(f"#{incident.id} is already resolved.", severity="warning")
            return
        incident_id, now = incident.id, self._pw.clock()
        self._act(lambda: services.incidents.resolve(services.actor, incident_id, now),
                  f"#{incident_id} {incident.check_name} resolved")

    def action_note(self) -> None:
        """Ask for a note and add it to the selected incident's timeline."""
        incident = self._target("add a note to")
        if incident is None or incident.id is None:
            return
        incident_id = incident.id

        def add(text: str | None) -> None:
            services = self._pw.services
            if text is None or services is None:
                return
            now = self._pw.clock()
            self._act(lambda: services.incidents.note(services.actor, incident_id, text, now),
                      f"note added to #{incident_id}")

        self.app.push_screen(TextPrompt(f"Note on #{incident_id} {incident.check_name}",
                                        "enter: add to the timeline · escape: cancel"), add)

    def _cycle_list(self, step: int) -> None:
        order = [f"list-{status.value}" for status, _ in LISTS]
        tabs = self.query_one(TabbedContent)
        tabs.active = order[(order.index(f"list-{self.shown_status.value}") + step) % len(order)]

    def action_next_list(self) -> None:
        """Show the next list (open → acknowledged → resolved)."""
        self._cycle_list(1)

    def action_previous_list(self) -> None:
        """Show the previous list."""
        self._cycle_list(-1)
