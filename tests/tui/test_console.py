"""Pilot tests of everything around the grid: detail, palette, help, themes, keymap, navigation, exit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from textual.command import CommandList, DiscoveryHit
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static, Tabs

from pulsewatch.domain.events import CheckFlipped, EngineStopped, LoadHistory, RunNow, SetPaused
from pulsewatch.domain.monitoring import Flip, Status
from tests.tui.fakes import CHECKOUT_HISTORY, NOW, STARTED, STATES, FakeEngine, frozen_clock, updated
from tests.tui.helpers import SIZE, grid, make_app, names, notifications, settle, started
from tui.app import PulseWatchApp
from tui.chart import RANGES, history_limit
from tui.commands import ChecksCommands, DetailCommands, GlobalCommands
from tui.navigation import DESTINATIONS, ConsoleContext, Destination, destination_bindings
from tui.preferences import Preferences
from tui.query import SortKey
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen
from tui.screens.engine_error import EngineErrorScreen
from tui.screens.help import HelpScreen
from tui.widgets.history_tables import FlipsTable, ResultsTable
from tui.widgets.latency_chart import LatencyChart

if TYPE_CHECKING:
    from pathlib import Path

    from textual.binding import BindingType
    from textual.command import Provider
    from textual.message import Message
    from textual.pilot import Pilot

HOUR_LIMIT = history_limit(RANGES[0], 30.0)
DAY_LIMIT = history_limit(RANGES[1], 30.0)


async def open_checkout(pilot: Pilot[None], app: PulseWatchApp) -> DetailScreen:
    await started(pilot, app)
    await pilot.press("down", "enter")
    await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
    assert isinstance(app.screen, DetailScreen)
    return app.screen


def chart_title(screen: Screen[Any]) -> str:
    return str(screen.query_one("#chart-title", Label).content)


async def palette_titles(provider_class: type[Provider], screen: Screen[Any]) -> list[str]:
    provider = provider_class(screen)
    return [str(hit.display) async for hit in provider.discover() if isinstance(hit, DiscoveryHit)]


async def run_palette_command(pilot: Pilot[None], app: PulseWatchApp, text: str) -> None:
    """Open the palette with ctrl+p, type `text`, and run the first match with enter."""

    def palette_open() -> bool:
        return app.screen.has_class("--textual-command-palette")

    def has_matches() -> bool:
        lists = app.screen.query(CommandList)
        return bool(lists) and lists.first().option_count > 0

    await pilot.press("ctrl+p")
    await settle(pilot, palette_open)
    await pilot.press(*text)
    await settle(pilot, has_matches)
    await pilot.press("enter")
    await settle(pilot, lambda: not palette_open())


@pytest.mark.asyncio
class TestCheckDetail:
    async def test_enter_opens_detail_and_asks_for_an_hour_of_history(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
            await settle(pilot, lambda: bool(engine.sent))
            assert screen.check_id == 2
            assert engine.sent == [LoadHistory(2, limit=HOUR_LIMIT)]
            assert "loading" in chart_title(screen)
            assert "[STATUS] == 200" in str(screen.query_one("#detail-config", Static).render())

    async def test_history_fills_the_chart_results_and_flips(self) -> None:
        app = make_app(FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY}))
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
            results = screen.query_one(ResultsTable)
            await settle(pilot, lambda: results.row_count == 12)
            assert screen.query_one(FlipsTable).row_count == 4
            assert str(results.get_row_at(0)[2]) == "fail 503"
            assert str(results.get_row_at(11)[2]) == "ok 200"
            assert str(screen.query_one(FlipsTable).get_row_at(0)[2]) == "UP → DOWN"
            title = chart_title(screen)
            assert title.startswith("Latency: 12 probes, 09:24:26 → 09:29:56 (5m)")
            assert "50.00% ok" in title
            assert screen.query_one(LatencyChart).slice_seconds > 0

    async def test_longer_and_shorter_ranges_load_more_history_only_when_needed(self) -> None:
        engine = FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY})
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
            await settle(pilot, lambda: screen.query_one(ResultsTable).row_count == 12)
            await pilot.press("right_square_bracket")
            await settle(pilot, lambda: len(engine.sent) == 2)
            assert engine.sent[-1] == LoadHistory(2, limit=DAY_LIMIT)
            assert screen.time_range.label == "24h"
            await settle(pilot, lambda: "no older probes are stored" in chart_title(screen))
            await pilot.press("left_square_bracket")
            await settle(pilot, lambda: screen.time_range.label == "1h")
            assert len(engine.sent) == 2  # the day's history already covers the hour

    async def test_a_range_tab_can_be_clicked(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
            await pilot.click("#range-2")
            await settle(pilot, lambda: screen.time_range.label == "7d")
            assert engine.sent[-1] == LoadHistory(2, limit=history_limit(RANGES[2], 30.0))
            assert screen.query_one(Tabs).active == "range-2"

    async def test_detail_stays_live(self) -> None:
        """A new result and a flip after the history loaded go on top; the state line follows."""
        engine = FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY})
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
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
            await open_checkout(pilot, app)
            await pilot.press("r", "p")
            await settle(pilot, lambda: len(engine.sent) == 3)
            assert engine.sent[1:] == [RunNow(2, requested_by="console"),
                                       SetPaused(2, paused=True, requested_by="console")]

    async def test_escape_returns_to_the_grid_on_the_same_row(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await open_checkout(pilot, app)
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen))
            assert grid(app).cursor_row == 1


@pytest.mark.asyncio
class TestCommandPalette:
    async def test_ctrl_p_runs_a_grid_command_by_name(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await run_palette_command(pilot, app, "sort by latency")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen)
                         and app.screen.grid_query.sort is SortKey.LATENCY)
            assert names(app)[0] == "search"

    async def test_a_filter_command_fills_the_filter_bar(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await run_palette_command(pilot, app, "show problems")
            await settle(pilot, lambda: grid(app).row_count == 3)
            assert names(app) == ["checkout", "search", "auth"]

    async def test_a_theme_can_be_picked_by_name(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await run_palette_command(pilot, app, "theme: pulsewatch-light")
            await settle(pilot, lambda: app.theme == "pulsewatch-light")

    async def test_every_action_is_offered(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            everywhere = await palette_titles(GlobalCommands, app.screen)
            assert everywhere[:8] == ["Go to Checks", "Go to Incidents", "Go to Teams", "Go to Channels",
                                      "Go to Billing", "Go to Audit", "Go to Engines", "Switch theme"]
            assert {"Theme: pulsewatch-dark", "Theme: pulsewatch-light", "Theme: pulsewatch-high-contrast",
                    "Show keys", "Quit"} <= set(everywhere)
            grid_titles = await palette_titles(ChecksCommands, app.screen)
            for title in ("Filter checks", "Clear the filter", "Sort by name", "Sort by status, worst first",
                          "Sort by latency, slowest first", "Sort by last checked, stalest first",
                          "Reverse the order", "Group by team", "Group by tag", "Ungroup",
                          "Open the selected check", "Run the selected check now",
                          "Pause or resume the selected check", "Re-sort"):
                assert title in grid_titles
            detail_titles = await palette_titles(DetailCommands, app.screen)
            assert [t for t in detail_titles if t.startswith("Show the last")] == [
                "Show the last 1h", "Show the last 24h", "Show the last 7d", "Show the last 30d"]

    async def test_every_grid_command_runs_without_error(self) -> None:
        """Each palette entry names an action that exists (a typo would raise, not silently pass)."""
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            screen = app.screen
            for command in ChecksCommands(screen).commands():
                if command.action == "open_selected":
                    continue
                await screen.run_action(command.action)
                await settle(pilot)
                assert app.screen is screen
            await screen.run_action("open_selected")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
            detail = app.screen
            for command in DetailCommands(detail).commands():
                if command.action != "back":
                    await detail.run_action(command.action)
                    await settle(pilot)
            assert isinstance(detail, DetailScreen)
            assert detail.time_range.label == "30d"  # the last range command shown was 30d


@pytest.mark.asyncio
class TestHelp:
    async def test_question_mark_lists_the_keys_generated_from_the_bindings(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("question_mark")
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            table = app.screen.query_one(DataTable)
            rows = {str(table.get_row_at(i)[3]): table.get_row_at(i) for i in range(table.row_count)}
            assert rows["pw.run-now"][1:3] == ["r", "Run now"]
            assert rows["pw.filter"][1] == "/"
            assert rows["pw.detail"][0] == "Grid"
            assert rows["pw.quit"][0] == "Everywhere"
            assert rows["pw.palette"][1] == "^p"
            assert "since" not in rows["pw.sort"][4]  # descriptions come from the bindings' tooltips
            await pilot.press("question_mark")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen))

    async def test_the_detail_screen_has_its_own_keys(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await open_checkout(pilot, app)
            await pilot.press("question_mark")
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            table = app.screen.query_one(DataTable)
            ids = {str(table.get_row_at(i)[3]) for i in range(table.row_count)}
            assert {"pw.back", "pw.range-longer", "pw.range-shorter", "pw.run-now"} <= ids
            assert "pw.filter" not in ids
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))


@pytest.mark.asyncio
class TestKeymap:
    async def test_a_keymap_remaps_a_binding(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine, keymap={"pw.run-now": "x"})
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("r")
            await pilot.pause()
            assert engine.sent == []
            await pilot.press("x")
            await settle(pilot, lambda: bool(engine.sent))
            assert engine.sent == [RunNow(1, requested_by="console")]

    async def test_a_remapped_filter_key_works_and_the_help_shows_it(self) -> None:
        app = make_app(FakeEngine([STARTED]), keymap={"pw.filter": "f", "pw.theme": "f9"})
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("slash")
            await settle(pilot)
            assert app.focused is grid(app)
            await pilot.press("f")
            await settle(pilot, lambda: app.focused is not grid(app))
            await pilot.press(*"cdn", "enter")
            await settle(pilot, lambda: names(app) == ["cdn"])
            await pilot.press("f9")
            await settle(pilot, lambda: app.theme == "pulsewatch-high-contrast")
            await pilot.press("question_mark")
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            table = app.screen.query_one(DataTable)
            keys = {str(table.get_row_at(i)[3]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
            assert keys["pw.filter"] == "f"
            assert keys["pw.theme"] == "f9"


@pytest.mark.asyncio
class TestThemes:
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

    async def test_a_picked_theme_is_remembered_for_the_next_run(self, tmp_path: Path) -> None:
        path = tmp_path / "console.json"
        app = make_app(FakeEngine([STARTED]), preferences=Preferences(path))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("t", "t")
            await settle(pilot, lambda: app.theme == "pulsewatch-light")
        assert json.loads(path.read_text())["theme"] == "pulsewatch-light"
        again = make_app(FakeEngine([STARTED]), preferences=Preferences(path))
        async with again.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert again.theme == "pulsewatch-light"

    async def test_an_edited_config_theme_wins(self, tmp_path: Path) -> None:
        path = tmp_path / "console.json"
        Preferences(path).remember_theme("pulsewatch-light", configured="pulsewatch-dark")
        app = make_app(FakeEngine([STARTED]), preferences=Preferences(path), theme="pulsewatch-high-contrast")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.theme == "pulsewatch-high-contrast"

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


class ElsewhereScreen(Screen[None]):
    """A stand-in for a later destination (Incidents, Teams...): it follows the board like any screen."""

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="elsewhere")
        self.context = context
        self.changes = 0

    def compose(self) -> Any:
        yield Label("elsewhere")

    def on_mount(self) -> None:
        self.context.feed.subscribe(self._count)

    def _count(self, _change: object) -> None:
        self.changes += 1


ELSEWHERE = Destination("elsewhere", "Elsewhere", "2", "A screen added by one registration.",
                        make=ElsewhereScreen)


class AppWithTwoDestinations(PulseWatchApp):
    DESTINATIONS = (*DESTINATIONS, ELSEWHERE)
    BINDINGS: ClassVar[list[BindingType]] = [*destination_bindings([ELSEWHERE])]


@pytest.mark.asyncio
class TestNavigation:
    async def test_a_registered_destination_gets_a_key_a_command_and_its_own_stack(self) -> None:
        engine = FakeEngine([STARTED])
        app = AppWithTwoDestinations(engine, clock=frozen_clock, refresh_interval=0)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("down", "enter")  # a detail screen on the checks stack
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
            await pilot.press("2")
            await settle(pilot, lambda: isinstance(app.screen, ElsewhereScreen))
            elsewhere = app.screen
            assert "Go to Elsewhere" in await palette_titles(GlobalCommands, elsewhere)
            engine.emit(updated(STATES[0], NOW, 5.0))
            await settle(pilot, lambda: elsewhere.changes > 0)  # type: ignore[attr-defined]
            await pilot.press("1")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))  # left as it was


@pytest.mark.asyncio
class TestAppWiring:
    async def test_q_stops_the_link_and_exits_cleanly(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
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

    async def test_an_engine_crash_shows_the_error_and_exits_with_1(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
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
