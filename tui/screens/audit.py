"""The Audit screen: who changed what, when, with the state before and after, newest first.

Issue 5 asks that the audit log be viewable in the console, not only through `pulsewatch audit`. The
screen reads through the `AuditDesk` (services.accounts.Accounts in production), which checks that the
acting person may view the log (admin or owner); a refusal replaces the table with its reason so a
member sees why the log stays closed. One organization at a time (`o` shows the next); the store call
runs in a thread worker.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label
from textual.worker import Worker, WorkerState

from pulsewatch.errors import PulseWatchError
from tui.render import next_org, orgs_hint

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.audit import AuditEntry, JsonDict
    from tui.navigation import ConsoleContext
    from tui.services import AuditDesk

NO_STORE = "No audit log here: the console runs without a database."
LIMIT = 200
"""How many entries one screenful reads: the CLI (`pulsewatch audit`) is for digging further back."""


class AuditLoaded(Message):
    """A reload finished: the organizations, the one shown, and its entries or the refusal."""

    def __init__(self, orgs: Sequence[str], org: str | None, entries: Sequence[AuditEntry],
                 refusal: str | None = None) -> None:
        super().__init__()
        self.orgs = tuple(orgs)
        self.org = org
        self.entries = tuple(entries)
        self.refusal = refusal


def compact(state: JsonDict | None) -> str:
    """A before/after state on one short line: `role=admin, team=web`, or `—` when absent."""
    if state is None:
        return "—"
    parts = [f"{key}={value if isinstance(value, str) else json.dumps(value, default=str)}"
             for key, value in state.items()]
    return ", ".join(parts) or "{}"


class AuditScreen(Screen[None]):
    """The audit log of one organization at a time, newest first.

    Args:
        context: the console's services (`services.audit`, `services.teams`, `services.actor`).
    """

    HELP_SCOPE = "Audit"
    DEFAULT_CSS = """
    AuditScreen #audit-org { text-style: bold; padding: 0 1; }
    AuditScreen #audit-refusal { padding: 1 2; color: $warning; }
    AuditScreen #audit-entries { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "next_org", "Next organization", tooltip="Show the audit log of your next organization.",
                id="pw.audit-next-org"),
        Binding("f5", "reload", "Reload", show=False, tooltip="Read the audit log again now.",
                id="pw.audit-reload"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="audit")
        self._pw = context
        self._orgs: tuple[str, ...] = ()
        self._org: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(NO_STORE if self._desk() is None else "Organization: …", id="audit-org", markup=False)
        yield Label("", id="audit-refusal", markup=False)
        yield DataTable(id="audit-entries", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#audit-entries", DataTable)
        table.add_columns("When", "Who", "Action", "Target", "Before → after")
        self.query_one("#audit-refusal", Label).display = False
        table.focus()
        self.action_reload()

    def _desk(self) -> AuditDesk | None:
        services = self._pw.services
        return services.audit if services is not None else None

    @property
    def org(self) -> str | None:
        """The organization shown (None: every organization the actor may audit)."""
        return self._org

    # -- loading ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-reload")
    def _read(self, wanted: str | None) -> None:
        services, desk = self._pw.services, self._desk()
        if services is None or desk is None:
            return
        orgs: list[str] = []
        if services.teams is not None:
            orgs = [o.slug for o in services.teams.organizations(services.actor)]
        org = wanted if wanted in orgs else (orgs[0] if orgs else None)
        try:
            entries = desk.audit_log(services.actor, org=org, limit=LIMIT)
        except PulseWatchError as error:  # PermissionDenied: viewing the log needs admin
            self.post_message(AuditLoaded(orgs, org, (), refusal=error.message))
            return
        self.post_message(AuditLoaded(orgs, org, entries))

    def on_audit_loaded(self, message: AuditLoaded) -> None:
        self._orgs, self._org = message.orgs, message.org
        table = self.query_one("#audit-entries", DataTable)
        refusal = self.query_one("#audit-refusal", Label)
        table.clear()
        refusal.update(message.refusal or "")
        refusal.display = message.refusal is not None
        table.display = message.refusal is None
        for entry in sorted(message.entries, key=lambda e: e.at, reverse=True):
            when = entry.at.astimezone(self._pw.clock().tzinfo).strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(when, entry.actor, entry.action, entry.target,
                          f"{compact(entry.before)} → {compact(entry.after)}")
        label = f"Organization: {self._org or 'all'}"
        if message.refusal is None:
            label += f" · {len(message.entries)} entries, newest first"
        label += orgs_hint(self._orgs)
        self.query_one("#audit-org", Label).update(label)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title="Could not read the audit log", severity="error",
                        markup=False)

    def action_next_org(self) -> None:
        """Show the next organization's audit log."""
        following = next_org(self._orgs, self._org)
        if following is not None:
            self._org = following
            self.action_reload()

    def action_reload(self) -> None:
        """Read the audit log again."""
        if self._desk() is not None:
            self._read(self._org)
