"""The PulseWatch console: wires themes, key bindings, navigation, the engine link and the screens.

Nothing here formats or decides anything: events from the engine are coalesced by the inbox,
folded into an immutable Board by `tui.model`, and published on the BoardFeed that every screen
listens to. Top-level screens come from `tui.navigation.DESTINATIONS`, one Textual mode each.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding

from pulsewatch.domain.commands import CommandForwarded, CommandOutcome, CommandSettled
from pulsewatch.domain.events import RunNow, SetPaused
from tui.commands import GlobalCommands
from tui.feed import BoardFeed
from tui.inbox import EventInbox
from tui.messages import CommandRequested, EventsPending
from tui.model import apply_events
from tui.navigation import DESTINATIONS, ConsoleContext, destination_bindings
from tui.screens.engine_error import EngineErrorScreen
from tui.screens.help import HelpScreen, help_entries
from tui.screens.login import LoginScreen
from tui.services import CONSOLE_ACTOR
from tui.themes import DEFAULT_THEME, load_themes, shipped_theme_directory, status_variable_defaults
from tui.visibility import command_refusal, visible_change

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textual.binding import BindingType
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.theme import Theme
    from textual.timer import Timer

    from pulsewatch.domain.accounts import Actor
    from pulsewatch.domain.events import EngineEvent
    from tui.bridge import EngineLink
    from tui.model import Board, BoardChange
    from tui.navigation import Destination
    from tui.preferences import Preferences
    from tui.services import ConsoleServices

REFRESH_INTERVAL = 0.25
"""Shortest time between two applied batches of engine events: the console draws at ≤ 4 Hz."""


def utc_now() -> datetime:
    """The console's default clock."""
    return datetime.now(UTC)


class PulseWatchApp(App[None]):
    """The live console over one engine link.

    Args:
        link: the engine to show and command (EmbeddedEngine, or a fake in tests).
        theme: the config's theme; an unknown name falls back to pulsewatch-dark, with a notice.
        clock: where "now" comes from, for every age shown; tests freeze it.
        keymap: binding id → keys, from the config's `console.keymap` (e.g. {"pw.run-now": "x"}).
        title: the header title.
        theme_dirs: extra folders of user theme files, read after the shipped ones.
        refresh_interval: shortest time between two applied batches; tests use 0 to apply at once.
        preferences: where a theme picked at runtime is remembered (None: not remembered).
        services: stored incidents and who acts on them (None: the Incidents screen says why it is empty).
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")
    """Absolute, so a subclass defined elsewhere (a test, a later context) finds it too."""
    TITLE = "PulseWatch"
    COMMANDS: ClassVar[set[type[GlobalCommands]]] = {GlobalCommands}  # type: ignore[assignment]
    DESTINATIONS: ClassVar[tuple[Destination, ...]] = DESTINATIONS
    """The top-level screens (see tui/navigation.py); a subclass that changes them rebinds BINDINGS."""
    DEFAULT_MODE = DESTINATIONS[0].mode
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Stop the engine and leave the console.", id="pw.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="pw.quit-now"),
        Binding("t", "cycle_theme", "Theme", tooltip="Switch to the next PulseWatch theme (remembered).",
                id="pw.theme"),
        Binding("question_mark", "help", "Help", tooltip="List every key of this screen.", id="pw.help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True,
                tooltip="Find any command by name.", id="pw.palette"),
        *destination_bindings(DESTINATIONS),
    ]

    def __init__(
        self,
        link: EngineLink,
        *,
        theme: str = DEFAULT_THEME,
        clock: Callable[[], datetime] = utc_now,
        keymap: dict[str, str] | None = None,
        title: str | None = None,
        theme_dirs: Iterable[Path] = (),
        refresh_interval: float = REFRESH_INTERVAL,
        preferences: Preferences | None = None,
        services: ConsoleServices | None = None,
    ) -> None:
        super().__init__()
        self._link = link
        self._refresh_interval = refresh_interval
        self._inbox = EventInbox()
        self._feed = BoardFeed()
        self._last_drain = float("-inf")
        self._drain_timer: Timer | None = None
        self._crash: str | None = None
        self._dropped_reported = 0
        self._preferences = preferences
        self._configured_theme = theme
        self._signed_in = services is None or services.signin is None
        self.console_context = ConsoleContext(clock=clock, feed=self._feed, preferences=preferences,
                                              services=services)
        """What every screen is built with."""
        self.destinations: tuple[Destination, ...] = self.DESTINATIONS
        for destination in self.destinations:
            self.add_mode(destination.mode, partial(destination.make, self.console_context))
        themes, self._problems = load_themes([shipped_theme_directory(), *theme_dirs])
        for loaded in themes.values():
            self.register_theme(loaded)
        self.theme_names: tuple[str, ...] = tuple(themes)
        """The themes `t` cycles through: the shipped ones and the user's, in file-name order."""
        remembered = preferences.theme_for(theme) if preferences else None
        if preferences and preferences.problem:
            self._problems.append(preferences.problem)
        self.theme = self._pick_theme(remembered if remembered in self.available_themes else theme)
        if title:
            self.title = title
        if keymap:
            self.set_keymap(keymap)

    def _pick_theme(self, wanted: str | None) -> str:
        if wanted in self.available_themes:
            return wanted
        fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self._problems.append(f"theme {wanted!r} is not available; using {fallback}")
        return fallback

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return status_variable_defaults(self.current_theme)

    @property
    def board(self) -> Board:
        """Everything known about the engine, as of the last applied batch."""
        return self._feed.board

    def on_mount(self) -> None:
        if self._problems:
            self.notify("\n".join(self._problems), title="Some themes or settings could not be used",
                        severity="warning", timeout=10, markup=False)
        self.sub_title = "starting the engine…"
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    @property
    def actor(self) -> Actor:
        """Who the console acts as: the signed-in person, else the all-allowed console actor."""
        services = self.console_context.services
        return services.actor if services is not None else CONSOLE_ACTOR

    def on_ready(self) -> None:
        # Only once the first screen is composed: the first batch of events needs its widgets.
        services = self.console_context.services
        if services is not None and services.signin is not None:
            # Accounts exist: nothing of the engine is shown (or started) before someone signs in.
            self.push_screen(LoginScreen(services.signin, self.console_context.clock), self._signed_in_as)
            return
        self._link.start(self._receive)

    def _signed_in_as(self, actor: Actor | None) -> None:
        services = self.console_context.services
        if actor is None or services is None:
            return
        services.actor = actor
        self._signed_in = True
        self.notify(f"Signed in as {actor.name}.", timeout=3, markup=False)
        self._link.start(self._receive)

    async def on_unmount(self) -> None:
        # The asyncio loop is still alive here, so waiting for the engine thread cannot deadlock.
        await self._link.stop()

    # -- engine events ----------------------------------------------------------------------------

    def _receive(self, event: EngineEvent) -> None:
        """The link's `post`: runs on the engine thread, so it only files the event and maybe wakes us."""
        if self._inbox.put(event):
            self.post_message(EventsPending())

    def on_events_pending(self, _message: EventsPending) -> None:
        wait = self._last_drain + self._refresh_interval - time.monotonic()
        if wait <= 0:
            self._drain()
        elif self._drain_timer is None:
            self._drain_timer = self.set_timer(wait, self._drain)

    def _drain(self) -> None:
        self._drain_timer = None
        self._last_drain = time.monotonic()
        events = self._inbox.drain()
        change = visible_change(apply_events(self._feed.board, events), self.actor)
        self._route(change)
        self._report_commands(events)
        if self._inbox.dropped > self._dropped_reported:
            lost, self._dropped_reported = self._inbox.dropped - self._dropped_reported, self._inbox.dropped
            self.notify(f"The console fell behind and skipped {lost} engine events; the grid may lag.",
                        severity="warning")

    def _route(self, change: BoardChange) -> None:
        before = self._feed.board.storage_down
        self._feed.publish(change)
        board = change.board
        self.sub_title = f"{board.engine or 'engine'} · {'running' if board.running else 'stopped'}"
        outage = board.storage_down
        if outage is not None:
            self.sub_title += " · DATABASE UNREACHABLE: results held"
        if outage is not None and before is None:
            self.notify(f"The database is unreachable ({outage.error}); the engine keeps probing and "
                        "holds every result until it is back.", title="Database unreachable",
                        severity="error", timeout=30, markup=False)
        elif outage is None and before is not None:
            self.notify("The database is back; held results are being written.", title="Database restored")
        if change.stopped is None:
            return
        if change.stopped.error and self._crash is None:
            self._crash = change.stopped.error
            self.push_screen(EngineErrorScreen(change.stopped.error))
        elif not change.stopped.error:
            self.notify("The engine stopped; the data shown is no longer updated.", severity="warning")

    def _report_commands(self, events: Iterable[EngineEvent]) -> None:
        """Say how each command this console left for the engines ended (attach mode), and which ones
        its own engine handed to the engine holding the check (a cluster)."""
        for event in events:
            if isinstance(event, CommandForwarded):
                self.notify(event.text, title="Command", severity="warning" if event.error else "information",
                            timeout=6, markup=False)
            if isinstance(event, CommandSettled):
                outcome = event.command.outcome
                severity: SeverityLevel = "information" if outcome is CommandOutcome.OK else (
                    "warning" if outcome is CommandOutcome.REFUSED else "error")
                self.notify(event.text, title="Command", severity=severity, timeout=6, markup=False)

    def on_command_requested(self, message: CommandRequested) -> None:
        refusal = command_refusal(self.actor, message.command, self.board)
        if refusal is not None:
            self.notify(refusal, title="Not allowed", severity="warning", markup=False)
            return
        command = message.command
        if isinstance(command, RunNow | SetPaused):
            # Who asked: when another engine holds the check, the command left for it acts as them.
            command = replace(command, requested_by=self.actor.name)
        if not self._link.send(command):
            self.notify("The engine is busy or stopped; the command was not sent. Try again.",
                        title="Not sent", severity="warning")
        elif message.describe:
            self.notify(message.describe, timeout=3, markup=False)

    # -- global actions -----------------------------------------------------------------------------

    def action_go(self, mode: str) -> None:
        """Switch to the destination `mode` (its screens stay as they were left); not before sign-in."""
        if self._signed_in:
            self.switch_mode(mode)

    def action_cycle_theme(self) -> None:
        """Switch to the next theme in `theme_names`."""
        if not self.theme_names:
            return
        index = self.theme_names.index(self.theme) + 1 if self.theme in self.theme_names else 0
        self.theme = self.theme_names[index % len(self.theme_names)]

    def action_use_theme(self, name: str) -> None:
        """Switch to the theme `name`."""
        if name in self.available_themes:
            self.theme = name

    def _remember_theme(self, theme: Theme) -> None:
        if self._preferences is None:
            return
        self._preferences.remember_theme(theme.name, self._configured_theme)
        if self._preferences.problem:
            self.notify(self._preferences.problem, title="Theme not remembered", severity="warning",
                        markup=False)
            self._preferences.problem = None

    def action_help(self) -> None:
        """List the keys of the current screen (or close the list when it is open)."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        screen: Screen[object] = self.screen
        title = str(getattr(screen, "HELP_SCOPE", type(screen).__name__))
        self.push_screen(HelpScreen(title, help_entries(screen)))

    async def action_quit(self) -> None:
        """Leave; the engine link is stopped on unmount. A crashed engine makes the exit code 1."""
        self.exit(return_code=1 if self._crash else 0)
