"""The checks screen: the live grid of every check, its filter bar, a summary line, and the actions."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import Worker, WorkerState

from pulsewatch.domain.events import RunNow, SetPaused
from pulsewatch.domain.monitoring import Status
from tui import render
from tui.commands import ChecksCommands
from tui.grid_cells import SORT_COLUMNS
from tui.messages import CommandRequested
from tui.query import GridQuery, Grouping, SortKey, arrange, parse_filter
from tui.screens.detail import DetailScreen
from tui.widgets.filter_bar import FilterBar
from tui.widgets.status_table import StatusTable
from tui.widgets.summary_bar import SummaryBar

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.uptime import UptimeTally
    from tui.model import Board, BoardChange, CheckView
    from tui.navigation import ConsoleContext

AGE_TICK_SECONDS = 1.0
"""How often "12s ago" and "for 3m" are redrawn when no event does it (only visible lines are)."""

TALLY_SECONDS = 60.0
"""How often the stored uptime of every check is read again (rollups move on by the minute)."""

SORT_CYCLE: tuple[SortKey, ...] = tuple(SortKey)
GROUP_CYCLE: tuple[Grouping, ...] = tuple(Grouping)


class TallyLoaded(Message):
    """The stored uptime counts of every check were read."""

    def __init__(self, tally: UptimeTally) -> None:
        super().__init__()
        self.tally = tally


class ChecksScreen(Screen[None]):
    """Every check with its status, latency, trend, uptime, age and reason; enter opens its detail.

    Args:
        context: the console's clock and board feed.
    """

    COMMANDS: ClassVar[set[type[ChecksCommands]]] = {ChecksCommands}  # type: ignore[assignment]
    HELP_SCOPE = "Checks"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_now", "Run now", tooltip="Probe the selected check now.", id="pw.run-now"),
        Binding("p", "toggle_pause", "Pause/resume", tooltip="Pause or resume the selected check.",
                id="pw.pause"),
        Binding("slash", "focus_filter", "Filter", tooltip="Type to filter: words, status:, team:, tag:.",
                id="pw.filter"),
        Binding("s", "cycle_sort", "Sort", tooltip="Order by the next of: as configured, name, status, "
                "latency, last checked.", id="pw.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, tooltip="Reverse the order.",
                id="pw.sort-reverse"),
        Binding("g", "cycle_group", "Group", tooltip="Group by team, by tag, or not at all.", id="pw.group"),
        Binding("f5", "rearrange", "Re-sort", show=False, tooltip="Apply the filter and order again to "
                "the latest statuses (rows do not move by themselves while you look).", id="pw.rearrange"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="checks")
        self._pw = context
        self._board = context.feed.board
        self._query = GridQuery()
        self._matched = 0
        self._stale = False
        self._counts: Counter[Status] = Counter()
        self._tally_failing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield SummaryBar(id="summary")
        yield FilterBar(id="filter-bar")
        yield StatusTable(self._pw.clock, id="checks-table")
        yield Footer()

    def on_mount(self) -> None:
        self._pw.feed.subscribe(self.show)
        self.set_interval(AGE_TICK_SECONDS, self.table.tick)
        self.table.focus()
        self._rearrange()
        self._count()
        if self._pw.services is not None and self._pw.services.rollups is not None:
            self.reload_uptime()
            self.set_interval(TALLY_SECONDS, self.reload_uptime)

    def on_unmount(self) -> None:
        self._pw.feed.unsubscribe(self.show)

    @property
    def table(self) -> StatusTable:
        """The grid."""
        return self.query_one(StatusTable)

    @property
    def board(self) -> Board:
        """The last board shown."""
        return self._board

    @property
    def grid_query(self) -> GridQuery:
        """The filter, order and grouping in force."""
        return self._query

    def show(self, change: BoardChange) -> None:
        """Apply one drained batch: repaint the changed rows on screen and recount the summary.

        Rows are re-arranged only when the check list itself changed (a new engine, a check added or
        removed);
        otherwise a check that no longer fits the filter or the order stays put until the next
        user action, and the filter bar says so.
        """
        old = self._board
        self._board = change.board
        added = any(cid not in old.views for cid in change.changed)
        structural = change.reset or bool(change.removed) or added
        if structural:
            self._rearrange()
            self._count()
            return
        self.table.update(change.board, change.changed)
        if change.changed and self._query.depends_on_state and not self._stale:
            self._stale = True
            self._show_info()
        if change.changed:
            # Only the changed checks move between counts: O(batch), not O(checks).
            for check_id in change.changed:
                before, after = old.views.get(check_id), change.board.views.get(check_id)
                if before is not None:
                    self._counts[before.state.status] -= 1
                if after is not None:
                    self._counts[after.state.status] += 1
            self.query_one(SummaryBar).show(render.summary_counts_from(self._counts))

    # -- stored uptime ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="uptime-tally")
    def reload_uptime(self) -> None:
        """Read the stored uptime of every check again (every TALLY_SECONDS, and at start)."""
        services = self._pw.services
        if services is not None and services.rollups is not None:
            self.post_message(TallyLoaded(services.rollups.uptime(self._pw.clock())))

    def on_tally_loaded(self, message: TallyLoaded) -> None:
        self._tally_failing = False
        self.table.show_tally(message.tally)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Said once while the database cannot be read; the grid keeps the last tally meanwhile.
        if event.state is WorkerState.ERROR and event.worker.error is not None and not self._tally_failing:
            self._tally_failing = True
            self.notify(f"{event.worker.error}; the uptime columns keep the last figures read.",
                        title="Could not read stored uptime", severity="warning", markup=False)

    def _count(self) -> None:
        self._counts = Counter(view.state.status for view in self._board.views.values())
        self.query_one(SummaryBar).show(render.summary_counts_from(self._counts))

    def _rearrange(self) -> None:
        arrangement = arrange(self._board.views, self._query)
        self._matched = arrangement.matched
        self._stale = False
        self.table.show_rows(arrangement.rows, self._board, sort=self._query.sort,
                             reverse=self._query.reverse)
        self._show_info()

    def _set_query(self, query: GridQuery) -> None:
        self._query = query
        self._rearrange()

    def _show_info(self) -> None:
        query = self._query
        total = len(self._board.views)
        parts = [f"{render.format_count(self._matched)} of {render.format_count(total)} checks"
                 if query.filter.active else f"{render.format_count(total)} checks"]
        parts.append(f"sort: {query.sort.label}{' (reversed)' if query.reverse else ''}")
        if query.group is not Grouping.NONE:
            parts.append(f"group: {query.group.value}")
        if self._stale:
            parts.append("statuses changed: F5 re-sorts")
        problems = query.filter.problems
        bar = self.query_one(FilterBar)
        bar.show_info(" · ".join([*problems, *parts]), problem=bool(problems))

    # -- filter, order, grouping ----------------------------------------------------------------

    @on(Input.Changed, "#filter-input")
    def _filter_typed(self, event: Input.Changed) -> None:
        self._set_query(replace(self._query, filter=parse_filter(event.value)))

    @on(FilterBar.Done)
    def _filter_done(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter bar."""
        self.query_one(FilterBar).input.focus()

    def action_set_filter(self, text: str) -> None:
        """Replace the filter with `text` (as if typed) and return to the grid."""
        self.query_one(FilterBar).input.value = text
        self._set_query(replace(self._query, filter=parse_filter(text)))
        self.table.focus()

    def action_clear_filter(self) -> None:
        """Show every check again."""
        self.action_set_filter("")

    def action_cycle_sort(self) -> None:
        """Order by the next key: as configured → name → status → latency → last checked."""
        following = SORT_CYCLE[(SORT_CYCLE.index(self._query.sort) + 1) % len(SORT_CYCLE)]
        self.action_sort_by(following.value)

    def action_sort_by(self, key: str) -> None:
        """Order by `key` (a SortKey value), in its natural direction."""
        self._set_query(replace(self._query, sort=SortKey(key), reverse=False))

    def action_reverse_sort(self) -> None:
        """Flip the order."""
        self._set_query(replace(self._query, reverse=not self._query.reverse))

    def action_cycle_group(self) -> None:
        """Group by the next of: team → tag → none."""
        following = GROUP_CYCLE[(GROUP_CYCLE.index(self._query.group) + 1) % len(GROUP_CYCLE)]
        self.action_group_by(following.value)

    def action_group_by(self, key: str) -> None:
        """Group by `key` (a Grouping value: none, team, tag); every group starts unfolded."""
        self._set_query(replace(self._query, group=Grouping(key), collapsed=frozenset()))

    def action_rearrange(self) -> None:
        """Apply the filter and order again to the latest statuses."""
        self._rearrange()

    @on(StatusTable.HeaderClicked)
    def _header_clicked(self, event: StatusTable.HeaderClicked) -> None:
        key = SORT_COLUMNS.get(event.column)
        if key is None:
            return
        if key is self._query.sort:
            self.action_reverse_sort()
        else:
            self.action_sort_by(key.value)

    @on(StatusTable.GroupToggled)
    def _group_toggled(self, event: StatusTable.GroupToggled) -> None:
        collapsed = self._query.collapsed ^ {event.name}
        self._set_query(replace(self._query, collapsed=collapsed))

    # -- actions on the selected check ----------------------------------------------------------

    def action_run_now(self) -> None:
        """Ask the engine to probe the selected check outside its schedule."""
        view = self._selected()
        if view is not None:
            self.post_message(CommandRequested(RunNow(view.check_id), f"Probing {view.check.name} now"))

    def action_toggle_pause(self) -> None:
        """Pause the selected check, or resume it when it is paused."""
        view = self._selected()
        if view is not None:
            paused = not view.paused
            verb = "Pausing" if paused else "Resuming"
            self.post_message(CommandRequested(SetPaused(view.check_id, paused), f"{verb} {view.check.name}"))

    def action_open_selected(self) -> None:
        """Open the selected check's detail."""
        check_id = self.table.selected_check_id
        if check_id is not None:
            self._open(check_id)

    @on(StatusTable.CheckSelected)
    def _check_selected(self, event: StatusTable.CheckSelected) -> None:
        self._open(event.check_id)

    def _open(self, check_id: int) -> None:
        if check_id in self._board.views:
            self.app.push_screen(DetailScreen(check_id, self._pw))

    def _selected(self) -> CheckView | None:
        check_id = self.table.selected_check_id
        return None if check_id is None else self._board.views.get(check_id)
