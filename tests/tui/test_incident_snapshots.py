"""Snapshot tests of the Incidents screen in pulsewatch-dark and pulsewatch-light: canned incidents
(tests/tui/incident_fakes.py), a frozen clock, a fixed terminal size. Baselines are regenerated only
after looking at the pictures (SVG → PNG with rsvg-convert); each docstring says what they show.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import DataTable, Input

from tests.tui.fakes import frozen_clock
from tests.tui.incident_fakes import FakeIncidentDesk
from tests.tui.snapshot_app import make_engine
from tests.tui.test_snapshots import SIZE, wait_for
from tui.app import PulseWatchApp
from tui.screens.incidents import IncidentsScreen
from tui.screens.text_prompt import TextPrompt
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from textual.pilot import Pilot

THEMES = pytest.mark.parametrize("theme", ["pulsewatch-dark", "pulsewatch-light"])


def incidents_app(theme: str) -> PulseWatchApp:
    return PulseWatchApp(make_engine(), theme=theme, clock=frozen_clock, refresh_interval=0,
                         services=ConsoleServices(incidents=FakeIncidentDesk()))


async def incidents_shown(pilot: Pilot[Any]) -> None:
    await pilot.press("2")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, IncidentsScreen))
    for _ in range(3):
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
        await pilot.pause()
    await wait_for(pilot, lambda: pilot.app.screen.query_one("#table-open", DataTable).row_count == 2
                   and pilot.app.screen.query_one("#timeline", DataTable).row_count == 1)


class TestIncidents:
    @THEMES
    def test_open_incidents_and_a_timeline(self, snap_compare: Any, theme: str) -> None:
        """Tabs "Open (2)" (active), "Acknowledged (1)", "Resolved (1)"; the Open list has #14 checkout
        (critical, opened 09:27:00, lasted 3m) and #13 search (warning, 10m) with their reasons; under
        it "Timeline of #14 checkout (open)" with one "opened" line; the footer lists a Acknowledge,
        r Resolve, n Note, ] Next list."""
        assert snap_compare(incidents_app(theme), terminal_size=SIZE, run_before=incidents_shown)

    @THEMES
    def test_acknowledge_asks_for_a_note(self, snap_compare: Any, theme: str) -> None:
        """A bordered dialog over the dimmed incidents: "Acknowledge #14 checkout", an input holding
        "on it", and the hint "enter: acknowledge (the note is optional) · escape: cancel"."""

        async def asking(pilot: Pilot[Any]) -> None:
            await incidents_shown(pilot)
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
            pilot.app.screen.query_one(Input).value = "on it"
            await pilot.pause()

        assert snap_compare(incidents_app(theme), terminal_size=SIZE, run_before=asking)


class TestLogin:
    @THEMES
    def test_a_failed_sign_in(self, snap_compare: Any, theme: str) -> None:
        """A bordered box alone in the middle: "Sign in to PulseWatch", the email
        vic@example.com, an empty password input, the error "Sign-in failed: wrong email or password"
        and the hint "enter: sign in · ctrl+c: quit"; nothing of the grid behind it."""
        from tests.tui.test_login import FakeSignIn, sign_in

        app = PulseWatchApp(make_engine(), theme=theme, clock=frozen_clock, refresh_interval=0,
                            services=ConsoleServices(FakeIncidentDesk(), signin=FakeSignIn()))

        async def failed(pilot: Pilot[Any]) -> None:
            await sign_in(pilot, pilot.app, "vic@example.com", "nope")  # type: ignore[arg-type]
            error = pilot.app.screen.query_one("#login-error")
            await wait_for(pilot, lambda: "wrong email" in str(error.render()))

        assert snap_compare(app, terminal_size=SIZE, run_before=failed)


class TestTeams:
    @THEMES
    def test_members_of_an_organization(self, snap_compare: Any, theme: str) -> None:
        """"Organization: shop · 5 memberships · 2 organizations, o shows the next", then a table
        Email / Name / Scope / Role / Sign-in: olga owner, ada admin, mo member, vic viewer (all
        "(organization)", "yes") and tess@example.com in team web, member, "invited"; the footer
        lists i Invite, e Change role, x Remove, o Next organization."""
        from tests.tui.team_fakes import FakeTeamDesk
        from tests.tui.test_teams import ADA
        from tui.screens.teams import TeamsScreen

        app = PulseWatchApp(make_engine(), theme=theme, clock=frozen_clock, refresh_interval=0,
                            services=ConsoleServices(FakeIncidentDesk(), actor=ADA, teams=FakeTeamDesk()))

        async def members(pilot: Pilot[Any]) -> None:
            await pilot.press("3")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, TeamsScreen))
            await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
            await wait_for(pilot, lambda: pilot.app.screen.query_one("#members", DataTable).row_count == 5)

        assert snap_compare(app, terminal_size=SIZE, run_before=members)


class TestChannels:
    @THEMES
    def test_channels_and_deliveries(self, snap_compare: Any, theme: str) -> None:
        """"Channels (2)": ops-slack (all) with a masked slack URL, ok, 3m ago; shop-mail (shop)
        "failing (3 in a row)", never, "SMTP 421 try again later". Under a rule, "Deliveries, newest
        first": shop-mail down failed 3 tries, ops-slack down sent 1, ops-slack recovered suppressed
        0 "silenced by ana@example.com"."""
        from tests.tui.channel_fakes import FakeChannelDesk
        from tui.screens.channels import ChannelsScreen

        app = PulseWatchApp(make_engine(), theme=theme, clock=frozen_clock, refresh_interval=0,
                            services=ConsoleServices(FakeIncidentDesk(), channels=FakeChannelDesk()))

        async def shown(pilot: Pilot[Any]) -> None:
            await pilot.press("4")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ChannelsScreen))
            await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
            await wait_for(pilot, lambda: pilot.app.screen.query_one("#deliveries", DataTable).row_count == 3)

        assert snap_compare(app, terminal_size=SIZE, run_before=shown)
