"""The console over a REAL engine thread: EmbeddedEngine + Engine + SQLite + a local HTTP server.

Nothing is faked: probes go to 127.0.0.1 (port 0), results go to a SQLite file, events cross from
the trio thread to Textual's loop through the bridge, and commands go back through the TrioToken.
Waits are bounded loops over `pilot.pause(...)`, never assertions about how fast things happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.notifications import Notify

from engine.runtime import Engine
from engine.storage.store import open_store
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.events import RunNow
from pulsewatch.domain.monitoring import Check
from tests.integration.servers import counting_server
from tui.app import PulseWatchApp
from tui.bridge import EmbeddedEngine, describe_crash
from tui.screens.detail import DetailScreen
from tui.screens.engine_error import EngineErrorScreen
from tui.widgets.history_tables import ResultsTable
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.message import Message
    from textual.pilot import Pilot

    from pulsewatch.domain.events import EngineEvent

SIZE = (120, 36)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], *, rounds: int = 300) -> None:
    """Poll the live console (0.1 s a round, 30 s at most) until `condition()` holds."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("the console did not reach the expected state in 30 s")


def status_of(app: PulseWatchApp, name: str) -> str:
    table = app.screen.query_one(StatusTable)
    for row_index in range(table.row_count):
        row = table.get_row_at(row_index)
        if str(row[0]) == name:
            return str(row[1])
    return ""


def check_id(app: PulseWatchApp, name: str) -> int:
    return next(view.check_id for view in app.board.views.values() if view.check.name == name)


def http_check(name: str, url: str) -> Check:
    return Check(name=name, url=url, kind="http", interval=0.2, timeout=2.0,
                 conditions=(parse_condition("[STATUS] == 200"),))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_real_engine_fills_the_grid_answers_commands_and_stops_cleanly(tmp_path: Path) -> None:
    with counting_server() as server:
        store = open_store(f"sqlite:///{tmp_path / 'bridge.db'}")
        checks = [http_check("healthy", f"{server.base_url}/ok"),
                  http_check("broken", f"{server.base_url}/fail")]

        def make_engine(emit: Callable[[EngineEvent], None]) -> Engine:
            return Engine(store, checks, name="bridge-test", emit=emit)

        link = EmbeddedEngine(make_engine, name="bridge-test")
        app = PulseWatchApp(link)
        messages: list[Message] = []
        try:
            async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
                await wait_until(pilot, lambda: status_of(app, "healthy").startswith("UP")
                                 and status_of(app, "broken").startswith("DOWN"))
                assert link.alive
                assert app.sub_title == "bridge-test · running"

                # Commands cross into the trio thread: directly, and from the keyboard (row 0 is "healthy").
                assert link.send(RunNow(check_id(app, "healthy"))) is True
                await pilot.press("r")
                await wait_until(pilot, lambda: any(isinstance(m, Notify) for m in messages))
                notices = [m.notification.message for m in messages if isinstance(m, Notify)]
                assert notices == ["Probing healthy now"]

                # The history round trip: LoadHistory → the engine reads the store → HistoryLoaded.
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen)
                                 and app.screen.query_one(ResultsTable).row_count > 0)

                await pilot.press("escape", "q")
                await wait_until(pilot, lambda: not app.is_running)
            assert not link.alive, "quitting joined the engine thread"
            assert app.return_code == 0
            assert store.recent_results(check_id(app, "healthy"), 5), "results were flushed on stop"
            assert link.send(RunNow(check_id(app, "healthy"))) is False, "a finished engine refuses commands"
        finally:
            store.close()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_an_engine_that_cannot_start_becomes_an_error_screen_and_exit_code_1() -> None:
    def make_engine(emit: Callable[[EngineEvent], None]) -> Engine:
        raise RuntimeError("cannot open the database: disk full")

    link = EmbeddedEngine(make_engine, name="doomed")
    app = PulseWatchApp(link)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EngineErrorScreen)
                         and bool(app.screen.query("#engine-error-text")))
        assert "RuntimeError: cannot open the database: disk full" in str(
            app.screen.query_one("#engine-error-text").render())
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 1
    assert not link.alive


@pytest.mark.asyncio
async def test_send_and_stop_before_start_are_harmless() -> None:
    def never(emit: Callable[[EngineEvent], None]) -> Engine:
        raise AssertionError("the engine must not be built before start()")

    link = EmbeddedEngine(never, name="idle")
    assert link.send(RunNow(1)) is False
    await link.stop()
    assert not link.alive


def test_describe_crash_reaches_the_first_real_error() -> None:
    group = ExceptionGroup("unhandled errors in a TaskGroup", [ValueError("bad value\nmore")])
    assert describe_crash(ExceptionGroup("outer", [group])) == "ValueError: bad value"
    assert describe_crash(KeyError()) == "KeyError"
