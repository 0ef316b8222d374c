"""The PulseWatch console: wires themes, key bindings, the engine link and the screens together.

Nothing here formats or decides anything: events from the engine are coalesced by the inbox,
folded into an immutable Board by `tui.model`, and handed down to the screens, which draw them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.widgets import HelpPanel

from tui.inbox import EventInbox
from tui.messages import CommandRequested, EventsPending
from tui.model import Board, BoardChange, apply_events
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen
from tui.screens.engine_error import EngineErrorScreen
from tui.themes import DEFAULT_THEME, load_themes, shipped_theme_directory, status_variable_defaults

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textual.binding import BindingType
    from textual.screen import Screen
    from textual.timer import Timer

    from pulsewatch.domain.events import EngineEvent
    from tui.bridge import EngineLink

REFRESH_INTERVAL = 0.25
"""Shortest time between two applied batches of engine events: the console draws at ≤ 4 Hz."""


def utc_now() -> datetime:
    """The console's default clock."""
    return datetime.now(UTC)


class PulseWatchApp(App[None]):
    """The live console over one engine link.

    Args:
        link: the engine to show and command (EmbeddedEngine, or a fake in tests).
        theme: the theme to start with; an unknown name falls back to pulsewatch-dark, with a notice.
        clock: where "now" comes from, for every age shown; tests freeze it.
        keymap: binding id → keys, from the config's `console.keymap` (e.g. {"pw.run-now": "x"}).
        title: the header title.
        theme_dirs: extra folders of user theme files, read after the shipped ones.
        refresh_interval: shortest time between two applied batches; tests use 0 to apply at once.
    """

    CSS_PATH = "app.tcss"
    TITLE = "PulseWatch"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Stop the engine and leave the console.", id="pw.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="pw.quit-now"),
        Binding("t", "cycle_theme", "Theme", tooltip="Switch to the next PulseWatch theme.", id="pw.theme"),
        Binding("question_mark", "toggle_help", "Help", tooltip="Show or hide the keys.", id="pw.help"),
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
    ) -> None:
        super().__init__()
        self._link = link
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._inbox = EventInbox()
        self._board = Board()
        self._last_drain = float("-inf")
        self._drain_timer: Timer | None = None
        self._crash: str | None = None
        self._dropped_reported = 0
        themes, self._theme_problems = load_themes([shipped_theme_directory(), *theme_dirs])
        for loaded in themes.values():
            self.register_theme(loaded)
        self.theme_names: tuple[str, ...] = tuple(themes)
        """The themes `t` cycles through: the shipped ones and the user's, in file-name order."""
        self.theme = self._pick_theme(theme)
        if title:
            self.title = title
        if keymap:
            self.set_keymap(keymap)

    def _pick_theme(self, wanted: str) -> str:
        if wanted in self.available_themes:
            return wanted
        fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self._theme_problems.append(f"theme {wanted!r} is not available; using {fallback}")
        return fallback

    def get_default_screen(self) -> Screen[None]:
        return ChecksScreen(self._clock)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return status_variable_defaults(self.current_theme)

    @property
    def board(self) -> Board:
        """Everything known about the engine, as of the last applied batch."""
        return self._board

    def on_mount(self) -> None:
        if self._theme_problems:
            self.notify("\n".join(self._theme_problems), title="Some themes could not be used",
                        severity="warning", timeout=10, markup=False)
        self.sub_title = "starting the engine…"

    def on_ready(self) -> None:
        # Only once the first screen is composed: the first batch of events needs its widgets.
        self._link.start(self._receive)

    async def on_unmount(self) -> None:
        # The asyncio loop is still alive here, so waiting for the engine thread cannot deadlock.
        await self._link.stop()

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
        change = apply_events(self._board, self._inbox.drain())
        self._board = change.board
        self._route(change)
        if self._inbox.dropped > self._dropped_reported:
            lost, self._dropped_reported = self._inbox.dropped - self._dropped_reported, self._inbox.dropped
            self.notify(f"The console fell behind and skipped {lost} engine events; the grid may lag.",
                        severity="warning")

    def _route(self, change: BoardChange) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, ChecksScreen | DetailScreen):
                screen.show(change)
        board = change.board
        self.sub_title = f"{board.engine or 'engine'} · {'running' if board.running else 'stopped'}"
        if change.stopped is None:
            return
        if change.stopped.error and self._crash is None:
            self._crash = change.stopped.error
            self.push_screen(EngineErrorScreen(change.stopped.error))
        elif not change.stopped.error:
            self.notify("The engine stopped; the data shown is no longer updated.", severity="warning")

    def on_command_requested(self, message: CommandRequested) -> None:
        if not self._link.send(message.command):
            self.notify("The engine is busy or stopped; the command was not sent. Try again.",
                        title="Not sent", severity="warning")
        elif message.describe:
            self.notify(message.describe, timeout=3, markup=False)

    def action_cycle_theme(self) -> None:
        """Switch to the next theme in `theme_names`."""
        if not self.theme_names:
            return
        index = self.theme_names.index(self.theme) + 1 if self.theme in self.theme_names else 0
        self.theme = self.theme_names[index % len(self.theme_names)]

    def action_toggle_help(self) -> None:
        """Show the keys of the current screen in a side panel, or hide it."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    async def action_quit(self) -> None:
        """Leave; the engine link is stopped on unmount. A crashed engine makes the exit code 1."""
        self.exit(return_code=1 if self._crash else 0)
