"""Pilot tests: the console driven through its keys against a FakeEngine; assertions on state and messages."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from textual.notifications import Notify
from textual.widgets import HelpPanel, Label

from pulsewatch.domain.events import (
    CheckChanged,
    CheckFlipped,
    EngineStopped,
    LoadHistory,
    RunNow,
    SetPaused,
)
from pulsewatch.domain.monitoring import Flip, Status
from tests.tui.fakes import (
    CHECKOUT_HISTORY,
    CHECKS,
    NOW,
    STARTED,
    STATES,
    FakeEngine,
    frozen_clock,
    make_check,
    updated,
)
from tui.app import PulseWatchApp
from tui.messages import EventsPending
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen
from tui.screens.engine_error import EngineErrorScreen
from tui.widgets.history_tables import FlipsTable, ResultsTable
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.message import Message
    from textual.pilot import Pilot

SIZE = (120, 36)


def make_app(engine: FakeEngine, **options: object) -> PulseWatchApp:
    return PulseWatchApp(engine, clock=frozen_clock, refresh_interval=0, **options)  # type: ignore[arg-type]


async def settle(pilot: Pilot[None], until: Callable[[], bool] = lambda: True, rounds: int = 20) -> None:
    """Let queued messages run until `until()` holds; bounded by rounds, never by wall time."""
    for _ in range(rounds):
        await pilot.pause()
        if until():
            return
    raise AssertionError("the console did not reach the expected state")


def grid(app: PulseWatchApp) -> StatusTable:
    return app.screen.query_one(StatusTable)


def cell(app: PulseWatchApp, check_id: int, column: str) -> str:
    return str(grid(app).get_cell(str(check_id), column))


def notifications(messages: list[Message]) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


@pytest.mark.asyncio
class TestChecksGrid:
    async def test_rows_appear_after_engine_started(self) -> None:
        engine = FakeEngine()
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert engine.started
            assert grid(app).row_count == 0
            engine.emit(STARTED)
            await settle(pilot, lambda: grid(app).row_count == 7)
            assert cell(app, 2, "name") == "checkout"
            assert cell(app, 2, "status") == "DOWN for 3m"
            assert cell(app, 2, "reason") == "expected [STATUS] == 200, got 503"
            assert cell(app, 6, "checked") == "never"

    async def test_summary_counts_each_status(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            down = app.screen.query_one("#summary-down", Label)
            assert str(down.content) == "1 down"
            assert str(app.screen.query_one("#summary-up", Label).content) == "2 up"
            assert str(app.screen.query_one("#summary-total", Label).content) == "7 checks"

    async def test_check_updated_changes_status_and_latency_cells(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            engine.emit(updated(STATES[1], NOW, 45.0, status=Status.UP, since=NOW, last_error=""))
            await settle(pilot, lambda: cell(app, 2, "latency") == "45 ms")
            assert cell(app, 2, "status") == "UP for 0s"
            assert cell(app, 2, "checked") == "just now"
            assert cell(app, 2, "reason") == ""
            assert app.screen.query_one("#summary-down", Label).has_class("-zero")
            assert str(app.screen.query_one("#summary-up", Label).content) == "3 up"

    async def test_updates_rewrite_cells_without_moving_the_cursor(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("down", "down", "down")
            engine.emit(updated(STATES[0], NOW, 99.0), updated(STATES[4], NOW, 11.0))
            await settle(pilot, lambda: cell(app, 5, "latency") == "11 ms")
            assert grid(app).cursor_row == 3
            assert grid(app).row_count == 7

    async def test_a_new_check_is_added_as_a_row(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            new = make_check(8, "status-page")
            engine.emit(CheckChanged(new, replace(STATES[5], check_id=8)))
            await settle(pilot, lambda: grid(app).row_count == 8)
            assert cell(app, 8, "name") == "status-page"

    async def test_bursts_wake_the_ui_once_per_drain(self) -> None:
        """Two hundred updates emitted back to back post one wake-up, and only the latest state shows."""
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            before = sum(isinstance(m, EventsPending) for m in messages)
            engine.emit(*(updated(STATES[0], NOW, float(ms)) for ms in range(100, 300)))
            await settle(pilot, lambda: cell(app, 1, "latency") == "299 ms")
            assert sum(isinstance(m, EventsPending) for m in messages) - before == 1

    async def test_r_sends_run_now_for_the_selected_check(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("down", "r")
            await settle(pilot, lambda: bool(engine.sent))
            assert engine.sent == [RunNow(2)]
            assert "Probing checkout now" in notifications(messages)

    async def test_p_pauses_a_running_check_and_resumes_a_paused_one(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("p", "down", "down", "down", "p")
            await settle(pilot, lambda: len(engine.sent) == 2)
            assert engine.sent == [SetPaused(1, paused=True), SetPaused(4, paused=False)]

    async def test_a_busy_engine_is_reported_not_ignored(self) -> None:
        engine = FakeEngine([STARTED], accept=False)
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("r")
            await settle(pilot, lambda: any("not sent" in n for n in notifications(messages)))
            assert engine.sent == [RunNow(1)]


@pytest.mark.asyncio
class TestCheckDetail:
    async def open_checkout(self, pilot: Pilot[None], app: PulseWatchApp) -> DetailScreen:
        await settle(pilot, lambda: grid(app).row_count == 7)
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert isinstance(app.screen, DetailScreen)
        return app.screen

    async def test_enter_opens_detail_and_asks_for_history(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await self.open_checkout(pilot, app)
            await settle(pilot, lambda: bool(engine.sent))
            assert screen.check_id == 2
            assert engine.sent == [LoadHistory(2, limit=50)]
            assert "loading" in str(screen.query_one("#results-title", Label).content)
            assert "[STATUS] == 200" in str(screen.query_one("#detail-config").render())

    async def test_history_loaded_fills_results_and_flips(self) -> None:
        engine = FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY})
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await self.open_checkout(pilot, app)
            results = screen.query_one(ResultsTable)
            await settle(pilot, lambda: results.row_count == 12)
            assert screen.query_one(FlipsTable).row_count == 4
            assert str(results.get_row_at(0)[2]) == "fail 503"
            assert str(results.get_row_at(11)[2]) == "ok 200"
            assert str(screen.query_one(FlipsTable).get_row_at(0)[2]) == "UP → DOWN"

    async def test_detail_stays_live(self) -> None:
        """A new result and a flip after the history loaded go on top; the state line follows."""
        engine = FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY})
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await self.open_checkout(pilot, app)
            results = screen.query_one(ResultsTable)
            await settle(pilot, lambda: results.row_count == 12)
            engine.emit(
                updated(STATES[1], NOW, 40.0, status=Status.UP, since=NOW, last_error=""),
                CheckFlipped(Flip(2, NOW, Status.DOWN, Status.UP, reason="recovered")),
            )
            await settle(pilot, lambda: results.row_count == 13)
            assert str(results.get_row_at(0)[2]) == "ok 200"
            assert str(screen.query_one(FlipsTable).get_row_at(0)[2]) == "DOWN → UP"
            state = screen.query_one("#detail-state", Label)
            assert state.has_class("-up")
            assert str(state.content).startswith("UP for 0s")

    async def test_r_and_p_act_on_the_shown_check(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await self.open_checkout(pilot, app)
            await pilot.press("r", "p")
            await settle(pilot, lambda: len(engine.sent) == 3)
            assert engine.sent[1:] == [RunNow(2), SetPaused(2, paused=True)]

    async def test_escape_returns_to_the_grid(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await self.open_checkout(pilot, app)
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen))
            assert grid(app).cursor_row == 1


@pytest.mark.asyncio
class TestAppWiring:
    async def test_q_stops_the_link_and_exits_cleanly(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("q")
            await settle(pilot, lambda: not app.is_running)
        assert engine.stop_calls == 1
        assert app.return_code == 0

    async def test_ctrl_c_quits_too(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+c")
            await settle(pilot, lambda: not app.is_running)
        assert engine.stop_calls == 1

    async def test_t_cycles_through_the_shipped_themes(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            assert app.theme == "pulsewatch-dark"
            dark_down = app.theme_variables["status-down"]
            seen = []
            for _ in range(3):
                await pilot.press("t")
                await pilot.pause()
                seen.append(app.theme)
            assert seen == ["pulsewatch-high-contrast", "pulsewatch-light", "pulsewatch-dark"]
            await pilot.press("t", "t")
            await pilot.pause()
            assert app.theme_variables["status-down"] != dark_down

    async def test_question_mark_toggles_the_keys_panel(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("question_mark")
            await settle(pilot, lambda: bool(app.screen.query(HelpPanel)))
            await pilot.press("question_mark")
            await settle(pilot, lambda: not app.screen.query(HelpPanel))

    async def test_a_keymap_remaps_a_binding(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine, keymap={"pw.run-now": "x"})
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            await pilot.press("r")
            await pilot.pause()
            assert engine.sent == []
            await pilot.press("x")
            await settle(pilot, lambda: bool(engine.sent))
            assert engine.sent == [RunNow(1)]

    async def test_an_unknown_theme_falls_back_with_a_notice(self) -> None:
        app = make_app(FakeEngine(), theme="no-such-theme")
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot, lambda: bool(notifications(messages)))
            assert app.theme == "pulsewatch-dark"
            assert "'no-such-theme' is not available" in notifications(messages)[0]

    async def test_bad_theme_files_are_reported_in_one_notification(self, tmp_path: Path) -> None:
        (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
        (tmp_path / "wrong-colour.yaml").write_text("name: wrong\nprimary: not-a-colour\n")
        (tmp_path / "mine.yaml").write_text("name: mine\nprimary: navy\n")
        app = make_app(FakeEngine(), theme="mine", theme_dirs=[tmp_path])
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot, lambda: bool(notifications(messages)))
            [notice] = notifications(messages)
            assert "broken.yaml" in notice
            assert "wrong-colour.yaml" in notice
            assert app.theme == "mine"
            assert "mine" in app.theme_names

    async def test_an_engine_crash_shows_the_error_and_exits_with_1(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            crash = EngineStopped("test-engine", NOW, error="StorageError: database is locked [code 5]")
            engine.emit(crash, crash)  # the engine and the bridge may both report it
            await settle(pilot, lambda: isinstance(app.screen, EngineErrorScreen)
                         and bool(app.screen.query("#engine-error-text")))
            assert len(app.screen_stack) == 2
            assert "[code 5]" in str(app.screen.query_one("#engine-error-text").render())
            assert app.sub_title.endswith("stopped")
            await pilot.press("q")
            await settle(pilot, lambda: not app.is_running)
        assert app.return_code == 1
        assert engine.stop_calls == 1

    async def test_checks_keep_their_order_from_the_engine(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: grid(app).row_count == 7)
            names = [str(grid(app).get_row_at(i)[0]) for i in range(7)]
            assert names == [c.name for c in CHECKS]
