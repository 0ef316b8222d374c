"""The filter bar above the grid: what to show, typed as you go, and what the grid is showing."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

PLACEHOLDER = "/ to filter: words  status:down,degraded  team:web  tag:prod"


class FilterBar(Horizontal):
    """An input for the filter and a line saying how many checks match and how they are ordered.

    The screen listens to the input's `Input.Changed` (every keystroke re-filters) and to `Done`.
    """

    HELP_SCOPE = "Filter"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Back to the grid", tooltip="Keep the filter and return to the grid.",
                id="pw.filter-done"),
    ]

    class Done(Message):
        """The person finished typing (enter or escape): focus goes back to the grid."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield Label("", id="filter-info", markup=False)

    @property
    def input(self) -> Input:
        """The text field."""
        return self.query_one("#filter-input", Input)

    def show_info(self, text: str, *, problem: bool = False) -> None:
        """Say what the grid shows; `problem` colours it as a warning (a part of the filter is wrong)."""
        info = self.query_one("#filter-info", Label)
        info.update(text)
        info.set_class(problem, "-problem")

    def action_done(self) -> None:
        """Leave the input, keeping what was typed."""
        self.post_message(self.Done())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done())
