"""Pilot tests of the Billing screen over a fake BillingDesk: usage bars against each limit, the
projected invoice's exact Money, past invoices paid and unpaid, the past-due banner, `o` for the next
organization, a refusal shown in place of the figures, and the no-plans and no-store messages; plus
snapshots in pulsewatch-dark and pulsewatch-light (looked at as PNGs before accepting)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import DataTable, Label, ProgressBar, Static

from pulsewatch.domain.accounts import Actor, Membership, Permission, PermissionDenied, Role
from pulsewatch.domain.billing import (
    PeriodChange,
    Plan,
    PlanLimits,
    Subscription,
    SubscriptionStatus,
)
from pulsewatch.domain.invoicing import Invoice, InvoiceLine, InvoiceStatus, LineKind
from pulsewatch.domain.money import Money
from pulsewatch.services.billing import BillingOverview, Meter
from tests.tui.fakes import STARTED, FakeEngine, frozen_clock
from tests.tui.helpers import SIZE, make_app, settle
from tests.tui.incident_fakes import FakeIncidentDesk
from tests.tui.snapshot_app import make_engine
from tui.app import PulseWatchApp
from tui.screens.billing import NO_PLANS, NO_STORE, BillingScreen, MeterRow
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from textual.pilot import Pilot

OLGA = Actor("olga@example.com", (Membership("olga@example.com", "shop", Role.OWNER),
                                  Membership("olga@example.com", "lab", Role.OWNER)))
VIC = Actor("vic@example.com", (Membership("vic@example.com", "shop", Role.VIEWER),))
THEMES = pytest.mark.parametrize("theme", ["pulsewatch-dark", "pulsewatch-light"])


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


TEAM = Plan("team", usd("49.00"), PlanLimits(checks=20, seats=5, channels=3, sms_per_month=100))


def shop_overview(blocked: str | None = None) -> BillingOverview:
    """Team plan, seats over the limit, a projected invoice with an SMS overage, two past invoices."""
    sub = Subscription("shop", SubscriptionStatus.ACTIVE, date(2025, 3, 1), date(2025, 4, 1), 1,
                       (PeriodChange(date(2025, 3, 1), "team", 6),))
    projected = Invoice("draft", "shop", date(2025, 3, 1), date(2025, 4, 1), "USD", (
        InvoiceLine(LineKind.PLAN_FEE, "team plan", usd("49.00")),
        InvoiceLine(LineKind.OVERAGE, "SMS beyond 100", usd("0.35"), Decimal(7), usd("0.05")),
    ), InvoiceStatus.DRAFT, date(2025, 4, 1), date(2025, 4, 15))
    paid = Invoice("INV-0001", "shop", date(2025, 1, 1), date(2025, 2, 1), "USD",
                   (InvoiceLine(LineKind.PLAN_FEE, "team plan", usd("49.00")),), InvoiceStatus.PAID,
                   date(2025, 2, 1), date(2025, 2, 15), paid_on=date(2025, 2, 3), paid_by="olga@example.com")
    unpaid = Invoice("INV-0002", "shop", date(2025, 2, 1), date(2025, 3, 1), "USD",
                     (InvoiceLine(LineKind.PLAN_FEE, "team plan", usd("49.00")),), InvoiceStatus.OPEN,
                     date(2025, 3, 1), date(2025, 3, 15))
    meters = (Meter("checks", 12, 20), Meter("seats", 6, 5), Meter("channels", 2, 3),
              Meter("sms", 107, 100), Meter("probes", 51234))
    return BillingOverview("shop", "USD", TEAM, sub, SubscriptionStatus.ACTIVE, meters,
                           {"email": 31, "sms": 107}, projected, (unpaid, paid), blocked)


def lab_overview() -> BillingOverview:
    """No subscription yet: no plan, no projection, nothing billed."""
    meters = (Meter("checks", 1), Meter("seats", 1), Meter("channels", 0), Meter("sms", 0),
              Meter("probes", 0))
    return BillingOverview("lab", "USD", None, None, None, meters, {}, None, (), None)


class FakeBillingDesk:
    """Overviews by organization; refuses like Billing does when the actor is no owner there."""

    def __init__(self, blocked: str | None = None) -> None:
        self.by_org = {"shop": shop_overview(blocked), "lab": lab_overview()}
        self.asked: list[tuple[str, str, datetime]] = []

    def overview(self, actor: Actor, org: str, now: datetime) -> BillingOverview:
        self.asked.append((actor.name, org, now))
        refusal = actor.refusal(Permission.MANAGE_BILLING, org)
        if refusal is not None:
            raise PermissionDenied(refusal, permission=Permission.MANAGE_BILLING, role=actor.role_in(org))
        return self.by_org[org]


def billing_app(desk: FakeBillingDesk | None, actor: Actor = OLGA, theme: str = "pulsewatch-dark",
                engine: FakeEngine | None = None) -> PulseWatchApp:
    services = ConsoleServices(FakeIncidentDesk(), actor=actor, billing=desk)
    return make_app(engine or FakeEngine([STARTED]), services=services, theme=theme)


async def opened(pilot: Pilot[Any], app: PulseWatchApp, loaded: bool = True) -> BillingScreen:
    await pilot.press("5")
    await settle(pilot, lambda: isinstance(app.screen, BillingScreen))
    screen = app.screen
    assert isinstance(screen, BillingScreen)
    for _ in range(3):
        await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
        await pilot.pause()
    if loaded:
        await settle(pilot, lambda: screen.org is not None)
    return screen


def rows(app: PulseWatchApp, table: str) -> list[list[str]]:
    grid = app.screen.query_one(f"#{table}", DataTable)
    return [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]


def text(app: PulseWatchApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


@pytest.mark.asyncio
class TestBillingScreen:
    async def test_plan_usage_projection_and_invoices(self) -> None:
        desk = FakeBillingDesk()
        app = billing_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            assert desk.asked == [("olga@example.com", "shop", frozen_clock())]
            heading = str(app.screen.query_one("#billing-org", Label).content)
            assert heading == "Organization: shop · 2 organizations, o shows the next"
            plan = str(app.screen.query_one("#billing-plan", Label).content)
            assert plan == "Plan team (49.00 USD) · active · period 2025-03-01 to 2025-04-01"
            bars = {row.meter.name: row for row in screen.query(MeterRow)}
            assert set(bars) == {"checks", "seats", "channels", "sms", "probes"}
            assert bars["checks"].query_one(ProgressBar).progress == 12
            assert bars["checks"].query_one(ProgressBar).total == 20
            assert bars["seats"].has_class("over")
            assert not bars["checks"].has_class("over")
            assert not bars["probes"].query(ProgressBar)
            assert str(bars["probes"].query_one(".meter-figures", Label).content) == "51234 (unlimited)"
            assert rows(app, "projected") == [
                ["team plan", "plan fee", "1", "", "49.00 USD"],
                ["SMS beyond 100", "overage", "7", "0.05 USD", "0.35 USD"],
            ]
            assert str(screen.query_one("#projected-total", Label).content).startswith(
                "Projected total: 49.35 USD")
            assert rows(app, "invoices") == [
                ["INV-0002", "2025-02-01 to 2025-03-01", "49.00 USD", "unpaid, due 2025-03-15"],
                ["INV-0001", "2025-01-01 to 2025-02-01", "49.00 USD", "paid 2025-02-03"],
            ]
            assert "email 31 · sms 107" in str(screen.query_one("#billing-notifications", Label).content)
            assert not screen.query_one("#billing-blocked").display

    async def test_past_due_shows_a_banner(self) -> None:
        app = billing_app(FakeBillingDesk(blocked="shop is past due: pay INV-0002 to edit again"))
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            await settle(pilot, lambda: screen.query_one("#billing-blocked").display)
            assert text(app, "#billing-blocked") == "Blocked: shop is past due: pay INV-0002 to edit again"

    async def test_o_shows_the_next_organization(self) -> None:
        desk = FakeBillingDesk()
        app = billing_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            await pilot.press("o")
            await settle(pilot, lambda: screen.org == "lab" and screen.overview is not None
                         and screen.overview.org == "lab")
            assert [org for _, org, _ in desk.asked] == ["shop", "lab"]
            assert str(screen.query_one("#billing-plan", Label).content) == "No plan · no subscription"
            assert rows(app, "projected") == []
            assert rows(app, "invoices") == []
            assert str(screen.query_one("#projected-total", Label).content).startswith("No running period")

    async def test_a_refusal_is_shown_instead_of_the_figures(self) -> None:
        app = billing_app(FakeBillingDesk(), actor=VIC)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            await settle(pilot, lambda: "manage billing" in text(app, "#billing-message"))
            assert screen.overview is None
            assert not screen.query_one("#billing-body").display

    async def test_no_plans_configured(self) -> None:
        app = billing_app(None)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app, loaded=False)
            assert text(app, "#billing-message") == NO_PLANS
            assert not screen.query_one("#billing-body").display

    async def test_without_a_store_it_says_so(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app, loaded=False)
            assert text(app, "#billing-message") == NO_STORE


class TestBillingSnapshots:
    @THEMES
    def test_billing_of_the_shop(self, snap_compare: Any, theme: str) -> None:
        """Shop on the team plan, past due (banner); seats and SMS over their limits (error-coloured
        bars), the projected invoice with an SMS overage, one unpaid and one paid past invoice."""
        app = billing_app(FakeBillingDesk(blocked="shop is past due: pay INV-0002 to edit again"),
                          theme=theme, engine=make_engine())

        async def shown(pilot: Pilot[Any]) -> None:
            screen = await opened(pilot, app)
            await settle(pilot, lambda: len(screen.query(MeterRow)) == 5)

        assert snap_compare(app, terminal_size=SIZE, run_before=shown)
