"""Pilot tests of the Audit screen: entries newest first for the actor's organization, `o` for the
next one, f5 to reload, the refusal for a member, the screen without a store; and one snapshot in each
theme (looked at as PNG via rsvg-convert before accepting)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import DataTable, Label

from pulsewatch.domain.accounts import Actor, Membership, Permission, PermissionDenied, Role
from pulsewatch.domain.audit import AuditEntry
from tests.tui.fakes import STARTED, FakeEngine, ago, frozen_clock
from tests.tui.helpers import SIZE, make_app
from tests.tui.incident_fakes import FakeIncidentDesk
from tests.tui.snapshot_app import make_engine
from tests.tui.team_fakes import FakeTeamDesk
from tests.tui.test_snapshots import wait_for
from tui.app import PulseWatchApp
from tui.screens.audit import NO_STORE, AuditScreen, compact
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from datetime import datetime

    from textual.pilot import Pilot

ADA = Actor("ada@example.com", (Membership("ada@example.com", "shop", Role.ADMIN),
                                Membership("ada@example.com", "lab", Role.OWNER)))
MO = Actor("mo@example.com", (Membership("mo@example.com", "shop", Role.MEMBER),))
THEMES = pytest.mark.parametrize("theme", ["pulsewatch-dark", "pulsewatch-light"])


def canned_entries() -> list[AuditEntry]:
    """Three shop entries, stored oldest first (the screen must sort), and one lab entry."""
    return [
        AuditEntry(ago(hours=2), "olga@example.com", "member.invite", "mo@example.com", "shop",
                   None, {"role": "member"}, id=1),
        AuditEntry(ago(minutes=5), "ada@example.com", "member.role", "mo@example.com", "shop",
                   {"role": "member"}, {"role": "admin", "team": None}, id=3),
        AuditEntry(ago(minutes=30), "config", "check.pause", "shop/api", "shop",
                   {"paused": False}, {"paused": True}, id=2),
        AuditEntry(ago(minutes=1), "ada@example.com", "member.remove", "zed@example.com", "lab",
                   {"role": "viewer"}, None, id=4),
    ]


class FakeAuditDesk:
    """The AuditDesk over canned entries; refuses as Accounts does (VIEW_AUDIT needs admin)."""

    def __init__(self) -> None:
        self.entries = canned_entries()
        self.calls: list[str | None] = []

    def audit_log(self, actor: Actor, *, org: str | None = None, since: datetime | None = None,
                  limit: int = 200) -> list[AuditEntry]:
        self.calls.append(org)
        if org is not None:
            refusal = actor.refusal(Permission.VIEW_AUDIT, org)
            if refusal is not None:
                raise PermissionDenied(refusal, permission=Permission.VIEW_AUDIT, role=actor.role_in(org))
        return [e for e in self.entries if org is None or e.org == org][:limit]


def audit_app(desk: FakeAuditDesk | None, actor: Actor = ADA, **options: Any) -> PulseWatchApp:
    services = ConsoleServices(FakeIncidentDesk(), actor=actor, teams=FakeTeamDesk(), audit=desk)
    if options:
        return PulseWatchApp(make_engine(), clock=frozen_clock, refresh_interval=0, services=services,
                             **options)
    return make_app(FakeEngine([STARTED]), services=services)


def rows(app: PulseWatchApp) -> list[tuple[str, ...]]:
    table = app.screen.query_one("#audit-entries", DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


def heading(app: PulseWatchApp) -> str:
    return str(app.screen.query_one("#audit-org", Label).content)


async def opened(pilot: Pilot[Any]) -> None:
    await pilot.press("6")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, AuditScreen))
    for _ in range(2):
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
        await pilot.pause()


@pytest.mark.asyncio
class TestAuditScreen:
    async def test_entries_newest_first_with_before_and_after(self) -> None:
        desk = FakeAuditDesk()
        app = audit_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot)
            await wait_for(pilot, lambda: len(rows(app)) == 3)
            assert [r[2] for r in rows(app)] == ["member.role", "check.pause", "member.invite"]
            assert rows(app)[0] == ("2025-03-14 09:25:00", "ada@example.com", "member.role",
                                    "mo@example.com", "role=member → role=admin, team=null")
            assert rows(app)[2][4] == "— → role=member"
            assert desk.calls == ["shop"]
            assert "Organization: shop · 3 entries" in heading(app)

    async def test_o_shows_the_next_organization_and_f5_reloads(self) -> None:
        desk = FakeAuditDesk()
        app = audit_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot)
            await wait_for(pilot, lambda: len(rows(app)) == 3)
            await pilot.press("o")
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await wait_for(pilot, lambda: len(rows(app)) == 1)
            assert rows(app)[0][2] == "member.remove"
            assert rows(app)[0][4] == "role=viewer → —"
            desk.entries.append(AuditEntry(ago(seconds=10), "ada@example.com", "team.create", "lab/ops",
                                           "lab", None, {"name": "ops"}, id=5))
            await pilot.press("f5")
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await wait_for(pilot, lambda: len(rows(app)) == 2)
            assert rows(app)[0][2] == "team.create"
            assert desk.calls == ["shop", "lab", "lab"]

    async def test_a_member_sees_the_refusal_instead_of_the_table(self) -> None:
        app = audit_app(FakeAuditDesk(), actor=MO)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot)
            refusal = app.screen.query_one("#audit-refusal", Label)
            await wait_for(pilot, lambda: refusal.display)
            assert "view the audit log" in str(refusal.content)
            assert not app.screen.query_one("#audit-entries", DataTable).display
            assert rows(app) == []

    async def test_without_a_store(self) -> None:
        app = audit_app(None)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot)
            assert heading(app) == NO_STORE
            assert rows(app) == []


def test_compact_states() -> None:
    assert compact(None) == "—"
    assert compact({}) == "{}"
    assert compact({"role": "admin", "paused": True, "n": 3}) == "role=admin, paused=true, n=3"


class TestAuditSnapshot:
    @THEMES
    def test_the_audit_log_of_shop(self, snap_compare: Any, theme: str) -> None:
        """The heading "Organization: shop · 3 entries, newest first · 2 organizations, o shows the
        next"; a table When / Who / Action / Target / Before → after with, newest first, 09:25:00
        ada member.role (role=member → role=admin, team=null), 09:00:00 config check.pause
        (paused=false → paused=true), 07:30:00 olga member.invite (— → role=member); the footer shows
        o Next organization."""

        async def shown(pilot: Pilot[Any]) -> None:
            await opened(pilot)
            await wait_for(pilot, lambda: len(rows(pilot.app)) == 3)  # type: ignore[arg-type]

        app = audit_app(FakeAuditDesk(), theme=theme)
        assert snap_compare(app, terminal_size=SIZE, run_before=shown)
