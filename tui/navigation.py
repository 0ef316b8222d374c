"""The console's top-level destinations: one registration each puts a screen in the navigation.

Each `Destination` becomes a Textual mode (its own screen stack, so a detail screen opened on
Checks is still there when the person comes back), a key binding (`go` to it, remappable by id
`pw.go-<mode>`), a command-palette entry "Go to <title>" (tui/commands.py) and a line in the help
screen. The app reads `DESTINATIONS` at class creation; a later context's screen slots in with one
entry below, e.g.:

    Destination("incidents", "Incidents", "2", "Open, acknowledged and resolved incidents.",
                make=_incidents),

where `_incidents(context)` imports and builds the screen. Screens get what they need from the
`ConsoleContext`; a context that brings a new service adds one optional field to it (and the app
one keyword argument that fills it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from textual.screen import Screen

    from tui.feed import BoardFeed
    from tui.preferences import Preferences
    from tui.services import ConsoleServices


@dataclass(frozen=True)
class ConsoleContext:
    """What every screen may use. Built once by the app and handed to each destination's factory."""

    clock: Callable[[], datetime]
    """The console's clock: every age and window is measured from it (tests freeze it)."""
    feed: BoardFeed
    """The engine's view, as the latest board and a stream of changes."""
    preferences: Preferences | None = None
    """Where remembered choices go (None: nothing is remembered, as in most tests)."""
    services: ConsoleServices | None = None
    """Stored incidents (and who acts on them); None when the console runs without a store."""


@dataclass(frozen=True)
class Destination:
    """A top-level screen of the console.

    Args:
        mode: the Textual mode name, also the binding id suffix (`pw.go-<mode>`).
        title: what the palette, help and header call it.
        key: the default key that goes there.
        description: one sentence for the palette and the help screen.
        make: builds the screen (called once, the first time the person goes there).
    """

    mode: str
    title: str
    key: str
    description: str
    make: Callable[[ConsoleContext], Screen[Any]]

    @property
    def binding_id(self) -> str:
        """The id a `console.keymap` entry uses to move this destination's key."""
        return f"pw.go-{self.mode}"

    def binding(self) -> Binding:
        """The app-level binding that switches to this destination."""
        return Binding(self.key, f"app.go({self.mode!r})", self.title, show=False,
                       tooltip=self.description, id=self.binding_id)


def _checks(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.checks import ChecksScreen

    return ChecksScreen(context)


def _channels(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.channels import ChannelsScreen

    return ChannelsScreen(context)


def _teams(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.teams import TeamsScreen

    return TeamsScreen(context)


def _audit(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.audit import AuditScreen

    return AuditScreen(context)


def _billing(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.billing import BillingScreen

    return BillingScreen(context)


def _engines(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.engines import EnginesScreen

    return EnginesScreen(context)


def _incidents(context: ConsoleContext) -> Screen[Any]:
    from tui.screens.incidents import IncidentsScreen

    return IncidentsScreen(context)


DESTINATIONS: tuple[Destination, ...] = (
    Destination("checks", "Checks", "1", "Every check with its live status, latency and uptime.",
                make=_checks),
    Destination("incidents", "Incidents", "2", "Open, acknowledged and resolved incidents.",
                make=_incidents),
    Destination("teams", "Teams", "3", "Members and roles of your organizations.", make=_teams),
    Destination("channels", "Channels", "4", "Alert channels, their health and the delivery log.",
                make=_channels),
    Destination("billing", "Billing", "5", "Plan, usage against limits, projected and past invoices.",
                make=_billing),
    Destination("audit", "Audit", "6", "Who changed what, when: before and after.", make=_audit),
    Destination("engines", "Engines", "7", "Engines on the database: alive or stale, leases, lateness, "
                "probes per second.", make=_engines),
)
"""The destinations, in menu order; the first is where the console opens."""


def destination_bindings(destinations: Iterable[Destination]) -> list[Binding]:
    """One `go` binding per destination, for the app's BINDINGS."""
    return [destination.binding() for destination in destinations]
