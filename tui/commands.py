"""The command palette (ctrl+p): every action the console has, by name.

`GlobalCommands` is the app's one provider (App.COMMANDS): themes, help, quit and a "Go to" per
navigation destination. Screen-only commands come from the providers below, listed in each
screen's COMMANDS. A command only names an action; running it calls the same `action_*` method a
key binding calls, so nothing is implemented twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual.command import DiscoveryHit, Hit, Provider

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.command import Hits

    from tui.navigation import Destination


@dataclass(frozen=True)
class PaletteCommand:
    """One palette entry: what it is called, what it does, and the action it runs."""

    title: str
    help: str
    action: str
    """An action string, run with the calling screen as its namespace ("app." reaches the app)."""


class ConsoleApp(Protocol):
    """What the global commands need from the app (kept structural: this module must not import it)."""

    theme_names: tuple[str, ...]
    destinations: tuple[Destination, ...]


class ActionProvider(Provider):
    """A provider whose commands are a plain list of PaletteCommands."""

    def commands(self) -> Iterable[PaletteCommand]:
        """The commands on offer right now."""
        raise NotImplementedError

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.title, partial(self._run, command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), partial(self._run, command),
                          help=command.help)

    async def _run(self, command: PaletteCommand) -> None:
        await self.screen.run_action(command.action)


class GlobalCommands(ActionProvider):
    """Commands that work on every screen."""

    def commands(self) -> Iterable[PaletteCommand]:
        app = cast("ConsoleApp", self.app)
        for destination in app.destinations:
            yield PaletteCommand(f"Go to {destination.title}", destination.description,
                                 f"app.go({destination.mode!r})")
        yield PaletteCommand("Switch theme", "Switch to the next PulseWatch theme (remembered).",
                             "app.cycle_theme")
        for name in app.theme_names:
            yield PaletteCommand(f"Theme: {name}", f"Use the {name} theme (remembered).",
                                 f"app.use_theme({name!r})")
        yield PaletteCommand("Show keys", "List every key of this screen and what it does.", "app.help")
        yield PaletteCommand("Quit", "Stop the engine and leave the console.", "app.quit")


class ChecksCommands(ActionProvider):
    """Commands of the checks grid."""

    def commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("Filter checks", "Type words, status:, team: or tag: to narrow the grid.",
                             "focus_filter")
        yield PaletteCommand("Clear the filter", "Show every check again.", "clear_filter")
        yield PaletteCommand("Show only down checks", "Filter: status:down.", "set_filter('status:down')")
        yield PaletteCommand("Show problems", "Filter: down, degraded or unknown checks.",
                             "set_filter('status:down,degraded,unknown')")
        for key, label in (("config", "as configured"), ("name", "name"), ("status", "status, worst first"),
                           ("latency", "latency, slowest first"), ("checked", "last checked, stalest first")):
            yield PaletteCommand(f"Sort by {label}", f"Order the grid by {label}.", f"sort_by({key!r})")
        yield PaletteCommand("Reverse the order", "Flip the grid's order.", "reverse_sort")
        yield PaletteCommand("Group by team", "One group per team.", "group_by('team')")
        yield PaletteCommand("Group by tag", "One group per tag; a check may appear under several.",
                             "group_by('tag')")
        yield PaletteCommand("Ungroup", "One flat list.", "group_by('none')")
        yield PaletteCommand("Re-sort", "Apply the filter and order to the latest statuses.", "rearrange")
        yield PaletteCommand("Open the selected check", "Its latency chart, results, flips and config.",
                             "open_selected")
        yield PaletteCommand("Run the selected check now", "Probe it outside its schedule.", "run_now")
        yield PaletteCommand("Pause or resume the selected check", "Stop or restart its probes.",
                             "toggle_pause")


class DetailCommands(ActionProvider):
    """Commands of a check's detail screen."""

    def commands(self) -> Iterable[PaletteCommand]:
        from tui.chart import RANGES

        for index, time_range in enumerate(RANGES):
            yield PaletteCommand(f"Show the last {time_range.label}",
                                 f"Chart and results over the last {time_range.label}.",
                                 f"show_range({index})")
        yield PaletteCommand("Run this check now", "Probe it outside its schedule.", "run_now")
        yield PaletteCommand("Pause or resume this check", "Stop or restart its probes.", "toggle_pause")
        yield PaletteCommand("Silence this check", "Mute its alerts for a while, with a reason.", "silence")
        yield PaletteCommand("Back to the grid", "Close this check's detail.", "back")
