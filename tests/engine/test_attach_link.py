"""The attach link over a real SQLite file: what engines write becomes the events the console consumes,
and screen commands become rows of the commands table. The writers here are the store's own methods,
called as an engine calls them (a real engine drives the link in tests/integration/test_attach_console.py).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from engine.attach import AttachedDatabase
from engine.attach_cursor import IdCursor
from engine.storage.change_reads import SqlChangeReads
from engine.storage.command_store import SqlCommandStore
from engine.storage.store import open_store
from pulsewatch.domain.commands import CommandOutcome, CommandSettled
from pulsewatch.domain.events import (
    CheckChanged,
    CheckFlipped,
    CheckUpdated,
    EngineStarted,
    HistoryLoaded,
    LoadHistory,
    ReloadChecks,
    SetPaused,
)
from pulsewatch.domain.monitoring import CheckState, Flip, ProbeResult, Status
from tests.engine.helpers import http_check

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore
    from pulsewatch.domain.events import EngineEvent


class TestIdCursor:
    def test_new_ids_advance_it_and_skipped_ones_are_asked_for_again(self) -> None:
        cursor = IdCursor(10)
        assert cursor.take([11, 12, 15], now=0.0) == {11, 12, 15}
        assert (cursor.last, cursor.holes) == (15, [13, 14])
        assert cursor.take([14, 16], now=1.0) == {14, 16}  # 14 committed late: it is new, once
        assert cursor.holes == [13]
        assert cursor.take([12, 16], now=2.0) == set()  # read twice: not new twice

    def test_holes_are_given_up_after_a_while_and_jumps_are_capped(self) -> None:
        cursor = IdCursor(0, hole_seconds=5.0, max_holes=3)
        cursor.take([2], now=0.0)
        assert cursor.holes == [1]
        cursor.take([], now=6.0)
        assert cursor.holes == []
        cursor.take([1_000_000], now=7.0)
        assert cursor.holes == [999_997, 999_998, 999_999]


class Posted:
    """The console's `post`: collects events from the link's thread."""

    def __init__(self) -> None:
        self.events: list[EngineEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate: Callable[[Posted], object], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"never happened; events: {self.events[-10:]}")
            time.sleep(0.02)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'attach.db'}")
    yield opened
    opened.close()


@pytest.fixture
def link(store: SqlStore) -> Iterator[AttachedDatabase]:
    attached = AttachedDatabase(SqlChangeReads(store), store, SqlCommandStore(store),
                                requester=lambda: "console", name="attached", poll=0.05)
    yield attached
    attached.close()


def ok(check_id: int, status: int = 200) -> ProbeResult:
    return ProbeResult(check_id=check_id, started_at=datetime.now(UTC), duration_ms=4.0, ok=status == 200,
                       status_code=status, engine="e1")


def test_it_shows_what_engines_write_and_sends_what_the_console_asks(
    store: SqlStore, link: AttachedDatabase
) -> None:
    api, web = store.sync_checks([http_check("api"), http_check("web")]).added
    assert api.id is not None
    assert web.id is not None
    posted = Posted()
    link.start(posted)
    posted.wait_for(lambda p: p.of(EngineStarted))
    [started] = posted.of(EngineStarted)
    assert sorted(c.name for c in started.checks) == ["api", "web"]

    # results and flips, as the recorder writes them: one batch
    now = datetime.now(UTC)
    up = CheckState(api.id, Status.UP, since=now, consecutive_successes=2)
    store.record([ok(api.id), ok(api.id)], [up], [Flip(api.id, now, Status.UNKNOWN, Status.UP, "200")])
    posted.wait_for(lambda p: len(p.of(CheckUpdated)) == 2 and p.of(CheckFlipped))
    assert all(e.state.status is Status.UP for e in posted.of(CheckUpdated))

    # a pause written by an engine: a state without a result
    store.set_paused(web.id, True, datetime.now(UTC))
    posted.wait_for(lambda p: any(e.check.name == "web" and e.state.status is Status.PAUSED
                                  for e in p.of(CheckChanged)))

    # a check added elsewhere: the list is sent again
    store.sync_checks([http_check("api"), http_check("web"), http_check("db")])
    posted.wait_for(lambda p: len(p.of(EngineStarted)) == 2)
    assert sorted(c.name for c in posted.of(EngineStarted)[-1].checks) == ["api", "db", "web"]

    # history is read at once; a pause becomes a command row that an engine answers
    assert link.send(LoadHistory(api.id, limit=10))
    posted.wait_for(lambda p: p.of(HistoryLoaded))
    assert len(posted.of(HistoryLoaded)[0].results) == 2
    assert not link.send(ReloadChecks())  # nothing to reload in a console
    assert link.send(SetPaused(api.id, True))
    commands = SqlCommandStore(store)
    deadline = time.monotonic() + 10
    while not (waiting := commands.open_commands()) and time.monotonic() < deadline:
        time.sleep(0.02)
    [row] = waiting
    assert (row.action.value, row.check_id) == ("pause", api.id)
    assert (row.org, row.requested_by) == ("default", "console")
    assert row.id is not None
    assert commands.claim_command(row.id, "e1", datetime.now(UTC))
    assert commands.finish_command(row.id, "e1", CommandOutcome.OK, "api paused", datetime.now(UTC))
    posted.wait_for(lambda p: p.of(CommandSettled))
    assert posted.of(CommandSettled)[0].text == "pause api: sent → done by engine e1 (api paused)"
