"""Pilot tests of the grid: rows, live updates, actions, filter, sort, group and the mouse.

The console is driven through its keys and mouse against a FakeEngine; assertions are on widget
state, engine commands and messages. Waits are bounded loops over `pilot.pause()`, never timed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input, Label

from pulsewatch.domain.commands import CommandAction, CommandForwarded, new_command
from pulsewatch.domain.events import CheckChanged, RunNow, SetPaused
from pulsewatch.domain.monitoring import Status
from tests.tui.fakes import CHECKS, NOW, STARTED, STATES, FakeEngine, make_check, updated
from tests.tui.helpers import (
    SIZE,
    cell,
    checks_screen,
    filter_info,
    grid,
    make_app,
    names,
    notifications,
    settle,
    started,
)
from tui.messages import EventsPending
from tui.query import Grouping, GroupRow, SortKey
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from textual.message import Message

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
            await started(pilot, app)
            assert cell(app, 2, "name") == "checkout"
            assert cell(app, 2, "status") == "DOWN for 3m"
            assert cell(app, 2, "reason") == "expected [STATUS] == 200, got 503"
            assert cell(app, 6, "checked") == "never"
            assert cell(app, 6, "up24") == "—"

    async def test_summary_counts_each_status(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            assert str(app.screen.query_one("#summary-down", Label).content) == "1 down"
            assert str(app.screen.query_one("#summary-up", Label).content) == "2 up"
            assert str(app.screen.query_one("#summary-total", Label).content) == "7 checks"

    async def test_check_updated_changes_status_latency_trend_and_uptime_cells(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            engine.emit(updated(STATES[1], NOW, 90.0),
                        updated(STATES[1], NOW, 45.0, status=Status.UP, since=NOW, last_error=""))
            await settle(pilot, lambda: cell(app, 2, "latency") == "45 ms")
            assert cell(app, 2, "status") == "UP for 0s"
            assert cell(app, 2, "checked") == "just now"
            assert cell(app, 2, "reason") == ""
            assert cell(app, 2, "trend").strip() == "█▁"  # both results reached the sparkline
            assert cell(app, 2, "up24") == "50.00%"  # one failed (still DOWN), one succeeded
            assert app.screen.query_one("#summary-down", Label).has_class("-zero")
            assert str(app.screen.query_one("#summary-up", Label).content) == "3 up"

    async def test_updates_rewrite_cells_without_moving_the_cursor(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("down", "down", "down")
            engine.emit(updated(STATES[0], NOW, 99.0), updated(STATES[4], NOW, 11.0))
            await settle(pilot, lambda: cell(app, 5, "latency") == "11 ms")
            assert grid(app).cursor_row == 3
            assert grid(app).row_count == 7

    async def test_a_new_check_is_added_as_a_row(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            engine.emit(CheckChanged(make_check(8, "status-page"), replace(STATES[5], check_id=8)))
            await settle(pilot, lambda: grid(app).row_count == 8)
            assert cell(app, 8, "name") == "status-page"

    async def test_bursts_wake_the_ui_once_per_drain(self) -> None:
        """Two hundred updates emitted back to back post one wake-up, and only the latest state shows."""
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await started(pilot, app)
            before = sum(isinstance(m, EventsPending) for m in messages)
            engine.emit(*(updated(STATES[0], NOW, float(ms)) for ms in range(100, 300)))
            await settle(pilot, lambda: cell(app, 1, "latency") == "299 ms")
            assert sum(isinstance(m, EventsPending) for m in messages) - before == 1

    async def test_the_uptime_header_says_where_its_figures_come_from(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            table = grid(app)
            x = table.column_x("up24")
            assert x is not None
            await pilot.hover(StatusTable, offset=(x + 2, 0))
            await settle(pilot, lambda: table.tooltip is not None)
            assert "stored rollups" in str(table.tooltip)
            assert "without a database, only what this console has seen" in str(table.tooltip)
            assert "24 hours" in str(table.tooltip)

    async def test_checks_keep_their_order_from_the_engine(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            assert names(app) == [c.name for c in CHECKS]


@pytest.mark.asyncio
class TestActions:
    async def test_r_sends_run_now_for_the_selected_check(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await started(pilot, app)
            await pilot.press("down", "r")
            await settle(pilot, lambda: bool(engine.sent))
            assert engine.sent == [RunNow(2, requested_by="console")]
            assert "Probing checkout now" in notifications(messages)

    async def test_p_pauses_a_running_check_and_resumes_a_paused_one(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("p", "down", "down", "down", "p")
            await settle(pilot, lambda: len(engine.sent) == 2)
            assert engine.sent == [SetPaused(1, paused=True, requested_by="console"),
                                   SetPaused(4, paused=False, requested_by="console")]

    async def test_a_busy_engine_is_reported_not_ignored(self) -> None:
        engine = FakeEngine([STARTED], accept=False)
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await started(pilot, app)
            await pilot.press("r")
            await settle(pilot, lambda: any("not sent" in n for n in notifications(messages)))
            assert engine.sent == [RunNow(1, requested_by="console")]

    async def test_a_command_forwarded_to_the_engine_holding_the_check_is_reported(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await started(pilot, app)
            pause = new_command(CommandAction.PAUSE, org="default", requested_by="console", now=NOW,
                                check_id=2).with_id(17)
            engine.emit(CommandForwarded(pause, "checkout"))
            expected = "pause checkout: forwarded to the engine holding it as command #17"
            await settle(pilot, lambda: expected in notifications(messages))


@pytest.mark.asyncio
class TestFilter:
    async def test_slash_focuses_the_filter_and_typing_filters_at_once(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("slash")
            await settle(pilot, lambda: isinstance(app.focused, Input))
            await pilot.press(*"status:down,degraded")
            await settle(pilot, lambda: grid(app).row_count == 2)
            assert names(app) == ["checkout", "search"]
            assert filter_info(app).startswith("2 of 7 checks")
            await pilot.press("enter")
            await settle(pilot, lambda: isinstance(app.focused, StatusTable))
            await pilot.press("r")  # keys act on the grid again, not the input
            assert app.screen.query_one("#filter-input", Input).value == "status:down,degraded"

    async def test_escape_leaves_the_filter_keeping_it(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("slash", *"cdn", "escape")
            await settle(pilot, lambda: isinstance(app.focused, StatusTable))
            assert names(app) == ["cdn"]

    async def test_a_mistyped_status_is_shown_as_a_problem(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("slash", *"status:dwn")
            await settle(pilot, lambda: "no status 'dwn'" in filter_info(app))
            assert app.screen.query_one("#filter-info", Label).has_class("-problem")
            assert grid(app).row_count == 7

    async def test_rows_stay_put_until_f5_re_applies_the_filter(self) -> None:
        """A check that recovers stays on a status:down grid (rows never jump under the cursor)."""
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("slash", *"status:down", "enter")
            await settle(pilot, lambda: names(app) == ["checkout"])
            engine.emit(updated(STATES[1], NOW, 40.0, status=Status.UP, since=NOW, last_error=""))
            await settle(pilot, lambda: "F5 re-sorts" in filter_info(app))
            assert names(app) == ["checkout"]
            await pilot.press("f5")
            await settle(pilot, lambda: grid(app).row_count == 0)
            assert "F5" not in filter_info(app)


@pytest.mark.asyncio
class TestSortAndGroup:
    async def test_s_cycles_the_order_and_the_cursor_stays_on_its_check(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("down")  # checkout
            await pilot.press("s")
            await settle(pilot, lambda: checks_screen(app).grid_query.sort is SortKey.NAME)
            assert names(app) == sorted(c.name for c in CHECKS)
            assert grid(app).selected_check_id == 2
            await pilot.press("s")
            await settle(pilot, lambda: checks_screen(app).grid_query.sort is SortKey.STATUS)
            assert names(app)[:3] == ["checkout", "search", "auth"]
            assert "sort: status" in filter_info(app)

    async def test_shift_s_reverses(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("S")
            await settle(pilot, lambda: names(app)[0] == "reports")
            assert "(reversed)" in filter_info(app)

    async def test_clicking_a_header_sorts_by_it_and_again_reverses(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            x = grid(app).column_x("latency")
            assert x is not None
            await pilot.click(StatusTable, offset=(x + 3, 0))
            await settle(pilot, lambda: names(app)[0] == "search")
            assert checks_screen(app).grid_query.sort is SortKey.LATENCY
            await pilot.click(StatusTable, offset=(x + 3, 0))
            await settle(pilot, lambda: names(app)[0] == "auth")
            assert checks_screen(app).grid_query.reverse

    async def test_g_groups_by_team_then_tag_then_not_at_all(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("g")
            await settle(pilot, lambda: checks_screen(app).grid_query.group is Grouping.TEAM)
            rows = grid(app).rows
            assert [r.name for r in rows if isinstance(r, GroupRow)] == ["web", "(no team)"]
            assert names(app)[:2] == ["▾ web · 1 check · 1 up", "api"]
            await pilot.press("g")
            await settle(pilot, lambda: checks_screen(app).grid_query.group is Grouping.TAG)
            assert names(app)[0].startswith("▾ (no tags) · 7 checks")
            await pilot.press("g")
            await settle(pilot, lambda: grid(app).row_count == 7)

    async def test_enter_on_a_group_heading_folds_and_unfolds_it(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("g")
            await settle(pilot, lambda: grid(app).cursor_row == 1)  # the cursor follows api under "web"
            await pilot.press("up", "enter")
            await settle(pilot, lambda: grid(app).row_count == 8)  # web folded: 2 headings + 6 checks
            assert names(app)[0] == "▸ web · 1 check · 1 up"
            await pilot.press("enter")
            await settle(pilot, lambda: grid(app).row_count == 9)

    async def test_run_now_on_a_group_heading_does_nothing(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("g")
            await settle(pilot, lambda: grid(app).cursor_row == 1)
            await pilot.press("up", "r")
            await settle(pilot)
            assert grid(app).selected_check_id is None
            assert engine.sent == []


@pytest.mark.asyncio
class TestMouse:
    async def test_a_click_selects_and_a_double_click_opens_the_detail(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.click(StatusTable, offset=(3, 3))  # header, api, checkout, search
            await settle(pilot, lambda: grid(app).cursor_row == 2)
            assert isinstance(app.screen, ChecksScreen)
            await pilot.double_click(StatusTable, offset=(3, 2))
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.check_id == 2
