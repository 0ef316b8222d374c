"""The console's view of the engine: immutable snapshots built from engine events, no Textual.

The app folds each drained batch of events into a new `Board` with `apply_events()` and hands the
result, with the ids that changed, down to the screens. Keeping this pure means the update rules
(what a late CheckUpdated does, how history stays live) are tested without booting a UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from pulsewatch.domain.events import (
    CheckChanged,
    CheckFlipped,
    CheckRemoved,
    CheckUpdated,
    EngineStarted,
    EngineStopped,
    HistoryLoaded,
    StorageDown,
    StorageRestored,
)
from pulsewatch.domain.monitoring import CheckState, Status
from tui.trends import EMPTY_TREND, Trend

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check, Flip, ProbeResult

HISTORY_LIMIT = 50
"""The smallest LoadHistory limit the detail screen asks for (its table shows this many at least)."""

MAX_HISTORY = 10_000
"""Results and flips kept per check at most, however much history a detail screen asked for."""


@dataclass(frozen=True)
class CheckView:
    """One check as the console shows it: its definition and what is believed about it now."""

    check: Check
    state: CheckState

    @property
    def check_id(self) -> int:
        """The storage id; checks reach the console from the engine, so it is always set."""
        assert self.check.id is not None  # noqa: S101 - the engine only emits stored checks
        return self.check.id

    @property
    def paused(self) -> bool:
        """True when the operator paused the check (the flag, or the state the engine reports)."""
        return self.check.paused or self.state.status is Status.PAUSED


@dataclass(frozen=True)
class History:
    """Recent results and flips of one check, newest first, kept live once loaded."""

    results: tuple[ProbeResult, ...] = ()
    flips: tuple[Flip, ...] = ()
    limit: int = 0
    """The LoadHistory limit these answer (0: everything stored was sent)."""
    complete: bool = True
    """True when the store holds no results older than these (it sent fewer than `limit`)."""

    def supersedes(self, limit: int) -> bool:
        """Whether this history already holds what an answer to a request for `limit` would.

        A kept history grows with every live result, so an answer to a shorter request adds nothing;
        arriving after a longer one (answers may come out of order) it would throw results away.
        """
        return (self.limit == 0 or self.limit > limit) and limit != 0


@dataclass(frozen=True)
class Board:
    """Everything the console knows, as of the last drained batch of engine events."""

    engine: str = ""
    running: bool = False
    error: str | None = None
    views: Mapping[int, CheckView] = field(default_factory=lambda: MappingProxyType({}))
    """Checks by id, in the order the engine listed them (new ones at the end)."""
    histories: Mapping[int, History] = field(default_factory=lambda: MappingProxyType({}))
    """Only checks whose history was asked for: the detail screen's data."""
    trends: Mapping[int, Trend] = field(default_factory=lambda: MappingProxyType({}))
    """Latency ring buffers and uptime counts, for checks the console has seen results of."""
    storage_down: StorageDown | None = None
    """Set while the engine cannot write to the database (it keeps probing and holds results)."""


@dataclass(frozen=True)
class BoardChange:
    """The outcome of one batch: the new board and what a screen must redraw."""

    board: Board
    changed: frozenset[int] = frozenset()
    """Checks whose definition or state changed."""
    histories: frozenset[int] = frozenset()
    """Checks whose history changed (loaded, or a new result or flip arrived)."""
    reset: bool = False
    """The check list was replaced (EngineStarted): rows not on the board must go."""
    removed: frozenset[int] = frozenset()
    """Checks that left the engine (CheckRemoved, e.g. deleted by a reload): their rows must go."""
    stopped: EngineStopped | None = None
    """Set when the engine stopped during this batch."""


def apply_events(board: Board, events: Iterable[EngineEvent]) -> BoardChange:
    """Fold a batch of engine events, in order, into a new board.

    The maps are copied once per batch, not once per event: a drain can carry an update for every
    check, and the console must stay cheap at thousands of checks.

    Args:
        board: the board before the batch.
        events: the events in the order the engine emitted them.

    Returns:
        The new board and the ids that changed.
    """
    views = dict(board.views)
    histories = dict(board.histories)
    trends = dict(board.trends)
    engine, running, error = board.engine, board.running, board.error
    storage_down = board.storage_down
    changed: set[int] = set()
    history_changed: set[int] = set()
    removed: set[int] = set()
    reset = False
    stopped: EngineStopped | None = None

    for event in events:
        if isinstance(event, EngineStarted):
            states = {state.check_id: state for state in event.states}
            views = {}
            for check in event.checks:
                if check.id is not None:
                    views[check.id] = CheckView(check, states.get(check.id) or CheckState(check.id))
            histories = {cid: h for cid, h in histories.items() if cid in views}
            trends = {cid: t for cid, t in trends.items() if cid in views}
            engine, running, error, reset = event.engine, True, None, True
            changed.update(views)
        elif isinstance(event, CheckUpdated):
            view = views.get(event.state.check_id)
            if view is None:
                continue
            check_id = view.check_id
            views[check_id] = CheckView(view.check, event.state)
            trends[check_id] = trends.get(check_id, EMPTY_TREND).add(event.result)
            changed.add(check_id)
            if check_id in histories:
                old = histories[check_id]
                kept = old.complete and len(old.results) < MAX_HISTORY  # else the oldest falls off
                histories[check_id] = replace(old, results=(event.result, *old.results)[:MAX_HISTORY],
                                              complete=kept)
                history_changed.add(check_id)
        elif isinstance(event, CheckChanged):
            if event.check.id is None:
                continue
            views[event.check.id] = CheckView(event.check, event.state)
            changed.add(event.check.id)
            removed.discard(event.check.id)
        elif isinstance(event, CheckRemoved):
            cid = event.check_id
            if views.pop(cid, None) is not None:
                removed.add(cid)
            histories.pop(cid, None)
            trends.pop(cid, None)
            changed.discard(cid)
            history_changed.discard(cid)
        elif isinstance(event, CheckFlipped):
            cid = event.flip.check_id
            if cid in histories:
                old = histories[cid]
                histories[cid] = replace(old, flips=(event.flip, *old.flips)[:MAX_HISTORY])
                history_changed.add(cid)
        elif isinstance(event, HistoryLoaded):
            cid = event.check_id
            old_history = histories.get(cid)
            if old_history is not None and old_history.supersedes(event.limit):
                continue
            complete = event.limit == 0 or len(event.results) < event.limit
            histories[cid] = History(event.results[:MAX_HISTORY], event.flips[:MAX_HISTORY], event.limit,
                                     complete and len(event.results) <= MAX_HISTORY)
            history_changed.add(cid)
            if cid in views:
                trends[cid] = trends.get(cid, EMPTY_TREND).fold_history(event.results)
                changed.add(cid)
        elif isinstance(event, EngineStopped):
            running, error, stopped = False, event.error, event
        elif isinstance(event, StorageDown):
            storage_down = event
        elif isinstance(event, StorageRestored):
            storage_down = None

    new_board = Board(
        engine=engine,
        running=running,
        error=error,
        views=MappingProxyType(views),
        histories=MappingProxyType(histories),
        trends=MappingProxyType(trends),
        storage_down=storage_down,
    )
    return BoardChange(new_board, frozenset(changed), frozenset(history_changed), reset,
                       frozenset(removed - views.keys()), stopped)

