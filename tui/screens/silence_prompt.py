"""A small dialog that asks how long to silence a check, and why.

Dismisses with a `SilenceRequest` once both make sense (a duration like `2h` or `1h30m`, and a
reason: the audit log and the next person on call need one), or None on escape. A duration that
does not parse is said under the inputs, so the person fixes it without retyping the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from pulsewatch.config_schema import parse_duration

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

HINT = "enter: silence · escape: cancel · durations like 30m, 2h, 1h30m, 1d"


@dataclass(frozen=True)
class SilenceRequest:
    """What the person asked for: `seconds` (> 0) and a non-empty `reason`."""

    seconds: float
    reason: str


class SilencePrompt(ModalScreen[SilenceRequest | None]):
    """Ask for a duration and a reason.

    Args:
        title: what is being silenced, e.g. "Silence api".
        duration: the duration filled in at first.
    """

    DEFAULT_CSS = """
    SilencePrompt { align: center middle; }
    SilencePrompt > Vertical {
        width: 70; height: auto; padding: 1 2;
        background: $panel; border: tall $accent;
    }
    SilencePrompt .prompt-title { text-style: bold; margin-bottom: 1; }
    SilencePrompt .prompt-hint { color: $text-muted; margin-top: 1; }
    SilencePrompt #silence-problem { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pw.prompt-cancel"),
    ]

    def __init__(self, title: str, *, duration: str = "1h") -> None:
        super().__init__()
        self._title = title
        self._duration = duration

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="prompt-title", markup=False)
            yield Input(self._duration, placeholder="duration, e.g. 2h", id="silence-duration")
            yield Input(placeholder="reason, e.g. deploying the new pool", id="silence-reason")
            yield Label("", id="silence-problem", markup=False)
            yield Label(HINT, classes="prompt-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#silence-reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.query_one("#silence-problem", Label)
        duration = self.query_one("#silence-duration", Input)
        reason = self.query_one("#silence-reason", Input)
        try:
            seconds = parse_duration(duration.value)
        except ValueError as error:  # pydantic's PydanticCustomError is a ValueError
            problem.update(f"Duration: {error}")
            duration.focus()
            return
        if not reason.value.strip():
            problem.update("Say why: the reason goes into the audit log.")
            reason.focus()
            return
        self.dismiss(SilenceRequest(seconds, reason.value.strip()))

    def action_cancel(self) -> None:
        """Close without silencing."""
        self.dismiss(None)
