"""Snapshot tests: how the console looks, with canned data, a frozen clock and a fixed terminal size.

Each test captures one state; behaviour is asserted by the Pilot tests in test_app.py. The
baselines live in __snapshots__/ and are only regenerated (`--snapshot-update`) after looking at the
report — see the docstrings for what each picture must show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulsewatch.domain.events import EngineStopped
from tests.tui.fakes import NOW
from tests.tui.snapshot_app import make_app, make_engine
from tui.screens.detail import DetailScreen
from tui.screens.engine_error import EngineErrorScreen
from tui.widgets.history_tables import ResultsTable
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

SIZE = (120, 36)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 40) -> None:
    """Let queued messages run until `condition()` holds (bounded by rounds, not by time)."""
    for _ in range(rounds):
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the console did not reach the state to photograph")


async def grid_filled(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.query_one(StatusTable).row_count == 7)


async def checkout_detail(pilot: Pilot[Any]) -> None:
    await grid_filled(pilot)
    await pilot.press("down", "enter")

    def history_shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, DetailScreen) and screen.query_one(ResultsTable).row_count == 12

    await wait_for(pilot, history_shown)


class TestChecksGrid:
    def test_mixed_statuses_dark(self, snap_compare: Any) -> None:
        """Seven checks in pulsewatch-dark. Summary: "7 checks 1 down 1 degraded 2 up 1 paused
        1 maintenance 1 unknown", each count in its status colour. Rows in engine order: api UP for
        3h 5m (green, cursor row), checkout DOWN for 3m (red) with reason "expected [STATUS] == 200,
        got 503", search DEGRADED (amber) 1.85 s, billing-worker PAUSED (grey), cdn UP for 2d 4h,
        auth UNKNOWN "—" "never", reports MAINTENANCE (violet). Footer: Detail, Run now,
        Pause/resume, Quit, Theme, Help."""
        assert snap_compare(make_app(), terminal_size=SIZE, run_before=grid_filled)

    def test_mixed_statuses_light(self, snap_compare: Any) -> None:
        """The same seven checks in pulsewatch-light: white background, dark text, and status colours
        darkened enough to read on white (green UP, red DOWN, brown DEGRADED, slate PAUSED)."""
        assert snap_compare(make_app("pulsewatch-light"), terminal_size=SIZE, run_before=grid_filled)

    def test_mixed_statuses_high_contrast(self, snap_compare: Any) -> None:
        """The same seven checks in pulsewatch-high-contrast: pure black background, white text,
        saturated status colours (bright green, red, yellow, silver, white, pink)."""
        assert snap_compare(make_app("pulsewatch-high-contrast"), terminal_size=SIZE, run_before=grid_filled)


class TestCheckDetail:
    def test_detail_with_history(self, snap_compare: Any) -> None:
        """Enter on 'checkout' opens its detail: name, red "DOWN for 3m · last checked 4s ago · 88 ms ·
        expected [STATUS] == 200, got 503", then "GET https://checkout.example.test/health", "every 30s
        · timeout 5s · down after 2 failures · up after 1 success", "conditions: [STATUS] == 200".
        "Recent results (12)": six red "fail 503" rows then six green "ok 200", newest (09:29:56)
        first. "Flips (4)": UP → DOWN 3m ago, DOWN → UP and UP → DOWN a day ago (with dates),
        UNKNOWN → UP 3d ago. Footer starts with esc Back."""
        assert snap_compare(make_app(), terminal_size=SIZE, run_before=checkout_detail)


class TestEngineCrash:
    def test_crash_screen_over_the_grid(self, snap_compare: Any) -> None:
        """The engine crashed: a box with a thick red border over the dimmed grid reads "The engine
        stopped", the error "StorageError: database is locked [code 5]" (brackets kept), and the hint
        "Probing has stopped. Press q to quit, escape to look at the last data."."""

        engine = make_engine()

        async def crash(pilot: Pilot[Any]) -> None:
            await grid_filled(pilot)
            engine.emit(EngineStopped("test-engine", NOW, error="StorageError: database is locked [code 5]"))
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, EngineErrorScreen)
                           and bool(pilot.app.screen.query("#engine-error-text")))

        assert snap_compare(make_app(engine=engine), terminal_size=SIZE, run_before=crash)
