"""A small dialog that asks for one line of text (an acknowledgement note, a timeline note).

Dismisses with the text typed (possibly empty) on enter, or None on escape, so the caller can tell
"acknowledge without a note" from "never mind".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text.

    Args:
        title: what is being asked, e.g. "Acknowledge #3 checkout".
        hint: the line under the input (what enter and escape do).
        placeholder: shown in the empty input.
        password: hide what is typed.
    """

    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical {
        width: 70; height: auto; padding: 1 2;
        background: $panel; border: tall $accent;
    }
    TextPrompt .prompt-title { text-style: bold; margin-bottom: 1; }
    TextPrompt .prompt-hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pw.prompt-cancel"),
    ]

    def __init__(self, title: str, hint: str, *, placeholder: str = "", password: bool = False) -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._placeholder = placeholder
        self._password = password

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="prompt-title", markup=False)
            yield Input(placeholder=self._placeholder, password=self._password, id="prompt-input")
            yield Label(self._hint, classes="prompt-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)
