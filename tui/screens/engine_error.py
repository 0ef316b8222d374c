"""The screen shown when the embedded engine crashes: what broke, and that quitting is the way out."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType


class EngineErrorScreen(ModalScreen[None]):
    """The engine stopped because something broke; the console keeps the last data visible below.

    Args:
        error: the engine's description of what broke.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # A modal screen hides the app's bindings, so quitting is declared here again.
        Binding("q", "app.quit", "Quit", id="pw.quit"),
        Binding("escape", "dismiss", "Look at the last data", id="pw.dismiss-error"),
    ]

    def __init__(self, error: str) -> None:
        super().__init__(id="engine-error")
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="engine-error-box"):
            yield Label("The engine stopped", id="engine-error-title")
            # The error text comes from an exception: never interpret it as markup.
            yield Static(self._error, id="engine-error-text", markup=False)
            yield Label("Probing has stopped. Press q to quit, escape to look at the last data.",
                        id="engine-error-hint")
