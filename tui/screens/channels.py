"""The Channels screen: every alert channel the person may see, with masked URLs and how its
deliveries have been going, and the delivery log (newest first).

Reads only: channels are defined in the config file. The data comes from the `ChannelDesk`
(services.console_channels.ChannelBoard) in a thread worker, again every `RELOAD_SECONDS` and when a
check changes status (a flip is what sends notifications).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label
from textual.worker import Worker, WorkerState

from tui.render import format_ago, format_timestamp, one_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.monitoring import Status
    from pulsewatch.domain.notifications import Notification
    from pulsewatch.services.alerting import ChannelView
    from tui.model import BoardChange
    from tui.navigation import ConsoleContext

RELOAD_SECONDS = 2.0
"""How often channels and deliveries are read again."""
LOG_LIMIT = 100
"""The most deliveries shown."""
NO_STORE = "No channels here: the console runs without a database."


class ChannelsLoaded(Message):
    """A reload finished."""

    def __init__(self, views: Sequence[ChannelView], deliveries: Sequence[Notification]) -> None:
        super().__init__()
        self.views = tuple(views)
        self.deliveries = tuple(deliveries)


def health_text(view: ChannelView) -> str:
    """"ok", "1 failed in a row" (retrying), or "failing (3 in a row)" once it counts as failing."""
    if view.failing:
        return f"failing ({view.consecutive_failures} in a row)"
    if view.consecutive_failures:
        return f"{view.consecutive_failures} failed in a row"
    return "ok"


class ChannelsScreen(Screen[None]):
    """Channels with health, and the delivery log.

    Args:
        context: the console's clock, board feed and services (`services.channels`).
    """

    HELP_SCOPE = "Channels"
    DEFAULT_CSS = """
    ChannelsScreen #channels-table { height: auto; max-height: 12; }
    ChannelsScreen #deliveries-box { height: 1fr; border-top: solid $primary; }
    ChannelsScreen .section-title { text-style: bold; padding: 0 1; }
    ChannelsScreen #channels-empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "reload", "Reload", tooltip="Read channels and deliveries again now.",
                id="pw.channels-reload"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="channels")
        self._pw = context
        self._statuses: dict[int, Status] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        if self._pw.services is None or self._pw.services.channels is None:
            yield Label(NO_STORE, id="channels-empty")
        yield Label("Channels", classes="section-title", id="channels-title")
        yield DataTable(id="channels-table", cursor_type="row", zebra_stripes=True)
        with Vertical(id="deliveries-box"):
            yield Label("Deliveries, newest first", classes="section-title", id="deliveries-title")
            yield DataTable(id="deliveries", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#channels-table", DataTable).add_columns(
            "Channel", "Org", "URLs", "Health", "Last success", "Last error")
        self.query_one("#deliveries", DataTable).add_columns(
            "Created", "Channel", "Event", "Status", "Tries", "Message")
        self._pw.feed.subscribe(self._on_board)
        self._statuses = {cid: view.state.status for cid, view in self._pw.feed.board.views.items()}
        self.set_interval(RELOAD_SECONDS, self.action_reload)
        self.query_one("#channels-table", DataTable).focus()
        self.action_reload()

    def on_unmount(self) -> None:
        self._pw.feed.unsubscribe(self._on_board)

    def _on_board(self, change: BoardChange) -> None:
        moved = False
        for check_id in change.changed:
            view = change.board.views.get(check_id)
            if view is not None and self._statuses.get(check_id) != view.state.status:
                self._statuses[check_id] = view.state.status
                moved = True
        if moved:
            self.action_reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="channels-reload")
    def _read(self) -> None:
        services = self._pw.services
        if services is None or services.channels is None:
            return
        desk, actor = services.channels, services.actor
        self.post_message(ChannelsLoaded(desk.views(actor), desk.deliveries(actor, limit=LOG_LIMIT)))

    def on_channels_loaded(self, message: ChannelsLoaded) -> None:
        now = self._pw.clock()
        channels = self.query_one("#channels-table", DataTable)
        channels.clear()
        for view in message.views:
            channels.add_row(view.name, view.org or "(all)", one_line(", ".join(view.masked_urls), 50),
                             health_text(view), format_ago(view.last_success_at, now),
                             one_line(view.last_error, 40), key=view.name)
        self.query_one("#channels-title", Label).update(
            f"Channels ({len(message.views)})" if message.views else "Channels: none configured")
        log = self.query_one("#deliveries", DataTable)
        log.clear()
        for sent in message.deliveries:
            text = sent.last_error or sent.reason or sent.title
            log.add_row(format_timestamp(sent.created_at, now), sent.channel, sent.event.value,
                        sent.status.value, str(sent.attempts), one_line(text, 60), key=str(sent.id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title="Could not read channels", severity="error",
                        markup=False)

    def action_reload(self) -> None:
        """Read channels and deliveries again."""
        if self._pw.services is not None and self._pw.services.channels is not None:
            self._read()
