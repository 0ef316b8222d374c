"""The help screen (`?`): every key that works where the person is, generated from the bindings.

Nothing here is written by hand: the entries are read from the active bindings of the screen the
help was opened on (its focused widget, the screen, the app), with keymap remaps already applied,
so the list can never disagree with what the keys do. The binding ids are shown because they are
what a `console.keymap` entry in the config names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

KEYMAP_HINT = ("Move any key in the config file: console: {keymap: {pw.run-now: x}} "
               "(binding id → keys). ctrl+p finds every command by name.")


@dataclass(frozen=True)
class HelpEntry:
    """One action and the keys that run it."""

    scope: str
    """Where it works: "Everywhere", the screen's title, or the focused widget's."""
    keys: str
    description: str
    tooltip: str
    binding_id: str


def help_entries(screen: Screen[object]) -> list[HelpEntry]:
    """The keys active on `screen` now, one entry per action, most specific scope first."""
    app = screen.app
    grouped: dict[tuple[int, str], tuple[object, Binding, list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.system:
            continue
        identity = (id(active.node), binding.id or binding.action)
        display = app.get_key_display(binding.with_key(key))
        if identity in grouped:
            grouped[identity][2].append(display)
        else:
            grouped[identity] = (active.node, binding, [display])
    entries = [
        HelpEntry(_scope(node, screen), ", ".join(keys), binding.description, binding.tooltip,
                  binding.id or "")
        for node, binding, keys in grouped.values()
    ]
    order = {"Everywhere": 2, _scope(screen, screen): 1}
    return sorted(entries, key=lambda e: order.get(e.scope, 0))


def _scope(node: object, screen: Screen[object]) -> str:
    if isinstance(node, App):
        return "Everywhere"
    if node is screen:
        return str(getattr(screen, "HELP_SCOPE", type(screen).__name__.removesuffix("Screen")))
    return str(getattr(node, "HELP_SCOPE", type(node).__name__))


class HelpScreen(ModalScreen[None]):
    """A list of the keys of the screen below it, with what each does and its binding id.

    Args:
        title: the name of the screen the keys belong to.
        entries: what to list (see `help_entries`).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="pw.help-close"),
    ]

    def __init__(self, title: str, entries: list[HelpEntry]) -> None:
        super().__init__(id="help")
        self._title = title
        self._entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(f"Keys: {self._title}", id="help-title", markup=False)
            table: DataTable[str] = DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Where", "Keys", "Action", "Binding id", "What it does")
            for entry in self._entries:
                table.add_row(entry.scope, entry.keys, entry.description, entry.binding_id, entry.tooltip)
            yield table
            yield Label(KEYMAP_HINT, id="help-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
