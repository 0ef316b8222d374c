"""Snapshot tests: how every screen looks in pulsewatch-dark and pulsewatch-light (and the grid in
high contrast), with canned data, a frozen clock and a fixed terminal size.

Each test captures one state; behaviour is asserted by the Pilot tests. The baselines live in
__snapshots__/ and are only regenerated (`--snapshot-update`) after looking at the pictures (SVG →
PNG with rsvg-convert); each docstring says what the picture must show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pulsewatch.domain.events import EngineStopped
from tests.tui.fakes import NOW
from tests.tui.snapshot_app import make_app, make_engine
from tui.app import PulseWatchApp
from tui.query import Grouping, SortKey
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen
from tui.screens.engine_error import EngineErrorScreen
from tui.screens.help import HelpScreen
from tui.widgets.history_tables import ResultsTable
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

SIZE = (120, 36)
THEMES = pytest.mark.parametrize("theme", ["pulsewatch-dark", "pulsewatch-light"])


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 40) -> None:
    """Let queued messages run until `condition()` holds (bounded by rounds, not by time)."""
    for _ in range(rounds):
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the console did not reach the state to photograph")


async def grid_filled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, PulseWatchApp)
    await wait_for(pilot, lambda: app.screen.query_one(StatusTable).row_count == 7 and bool(app.board.trends))


def checks(pilot: Pilot[Any]) -> ChecksScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ChecksScreen)
    return screen


async def checkout_detail(pilot: Pilot[Any]) -> None:
    await grid_filled(pilot)
    await pilot.press("down", "enter")

    def history_shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, DetailScreen) and screen.query_one(ResultsTable).row_count == 12

    await wait_for(pilot, history_shown)


class TestChecksGrid:
    @THEMES
    def test_mixed_statuses(self, snap_compare: Any, theme: str) -> None:
        """Seven checks. Summary: "7 checks 1 down 1 degraded 2 up 1 paused 1 maintenance 1 unknown",
        each count in its status colour; the filter bar's placeholder "/ to filter: words status:…"
        and, right, "7 checks · sort: as configured". Rows in engine order: api UP for 3h 5m (cursor
        row), checkout DOWN for 3m in the down colour, its sparkline's six newest bars in the down
        colour, 24h/7d "50.00%"; search DEGRADED 1.85 s, "81.25%", with three red sparkline bars;
        billing-worker PAUSED (grey) "100%"; cdn UP for 2d 4h; auth UNKNOWN "—" "—" "never";
        reports MAINTENANCE with a six-bar sparkline. Footer: Detail, Run now, Pause/resume, Filter,
        Sort, Group, Quit, Theme, Help, and ^p Commands on the right."""
        assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=grid_filled)

    def test_mixed_statuses_high_contrast(self, snap_compare: Any) -> None:
        """The same seven checks in pulsewatch-high-contrast: black background, white text, saturated
        status colours (bright green, red, yellow, silver, white, pink), a yellow cursor row."""
        assert snap_compare(make_app("pulsewatch-high-contrast"), terminal_size=SIZE, run_before=grid_filled)

    @THEMES
    def test_filtered_by_status(self, snap_compare: Any, theme: str) -> None:
        """The filter bar holds "status:down,degraded" with the text cursor after it; the info on its
        right reads "2 of 7 checks · sort: as configured"; only checkout and search are listed."""

        async def filtered(pilot: Pilot[Any]) -> None:
            await grid_filled(pilot)
            await pilot.press("slash", *"status:down,degraded")
            await wait_for(pilot, lambda: checks(pilot).table.row_count == 2)

        assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=filtered)

    @THEMES
    def test_grouped_by_team_sorted_by_status(self, snap_compare: Any, theme: str) -> None:
        """Two group headings in bold: "▾ web · 1 check · 1 up" over api, then "▾ (no team) · 6 checks
        · 1 down · 1 degraded · 1 up · 1 paused · 1 maintenance · 1 unknown" over checkout, search,
        auth, reports, billing-worker, cdn (worst first). The Status header reads "Status ▼"; the
        info says "sort: status · group: team"."""

        async def grouped(pilot: Pilot[Any]) -> None:
            await grid_filled(pilot)
            await pilot.press("s", "s", "g")
            await wait_for(pilot, lambda: checks(pilot).grid_query.group is Grouping.TEAM
                           and checks(pilot).grid_query.sort is SortKey.STATUS)

        assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=grouped)


class TestCheckDetail:
    @THEMES
    def test_detail_with_history(self, snap_compare: Any, theme: str) -> None:
        """checkout's detail: name, "DOWN for 3m · last checked 4s ago · 88 ms · expected [STATUS] ==
        200, got 503" in the down colour, "GET https://checkout.example.test/health", its schedule and
        conditions. Range tabs 1h (underlined) 24h 7d 30d; the title "Latency: 12 probes, 09:24:26 →
        09:29:56 (5m): no older probes are stored · 50.00% ok · a bar is the slowest in 3s". The chart:
        six short bars in the primary colour on the left, six taller bars in the down colour on the
        right, "123 ms" top left, "0 ms" bottom left, 09:24:26 and 09:29:56 under it. Below, side by
        side: "Recent results (12)", six "fail 503" then six "ok 200", newest first; "Flips (4)",
        UP → DOWN 3m ago first. Footer starts with esc Back, then Run now, Pause/resume, [ Shorter,
        ] Longer."""
        assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=checkout_detail)


class TestHelp:
    @THEMES
    def test_keys_of_the_grid(self, snap_compare: Any, theme: str) -> None:
        """A box with a thick primary border over the dimmed grid: "Keys: Checks", then a table
        Where / Keys / Action / Binding id / What it does — Grid ⏎ Detail pw.detail first, then the
        cursor keys, the Checks keys (r Run now pw.run-now, / Filter pw.filter, s Sort, S Reverse,
        g Group, f5 Re-sort...), and at the bottom the hint on `console.keymap` and ctrl+p."""

        async def help_open(pilot: Pilot[Any]) -> None:
            await grid_filled(pilot)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

        assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=help_open)


class TestCommandPalette:
    @THEMES
    def test_sort_commands(self, snap_compare: Any, theme: str) -> None:
        """The command palette over the grid with "sort" typed: the matches "Sort by …" (as configured,
        name, status, latency, last checked) with "Sort" highlighted in each, and their help lines."""

        async def palette(pilot: Pilot[Any]) -> None:
            await grid_filled(pilot)
            await pilot.press("ctrl+p", *"sort")

            def listed() -> bool:
                found = pilot.app.screen.query("CommandList")
                return bool(found) and found.first().option_count >= 5  # type: ignore[attr-defined]

            await wait_for(pilot, listed)

        assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=palette)


class TestEngineCrash:
    @THEMES
    def test_crash_screen_over_the_grid(self, snap_compare: Any, theme: str) -> None:
        """The engine crashed: a box with a thick border in the down colour over the dimmed grid reads
        "The engine stopped", the error "StorageError: database is locked [code 5]" (brackets kept),
        and the hint "Probing has stopped. Press q to quit, escape to look at the last data."."""

        engine = make_engine()

        async def crash(pilot: Pilot[Any]) -> None:
            await grid_filled(pilot)
            engine.emit(EngineStopped("test-engine", NOW, error="StorageError: database is locked [code 5]"))
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, EngineErrorScreen)
                           and bool(pilot.app.screen.query("#engine-error-text")))

        assert snap_compare(make_app(theme, engine=engine), terminal_size=SIZE, run_before=crash)
