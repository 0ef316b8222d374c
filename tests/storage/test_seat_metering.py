"""Seats metered per organization and day on both backends: a high-water mark that engines recording at
once never double, whose period peak billing reads (the Billing overview and the invoice of a closed
period, which bills seats beyond those the subscription recorded)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.billing_store import SqlBillingStore
from engine.storage.store import SqlStore
from pulsewatch.domain.accounts import Actor, Membership, Organization, Role, User
from pulsewatch.domain.billing import (
    OveragePrices,
    PeriodChange,
    Plan,
    PlanLimits,
    Subscription,
    SubscriptionStatus,
    next_anchor,
)
from pulsewatch.domain.invoicing import LineKind
from pulsewatch.domain.money import Money
from pulsewatch.services.billing import Billing

D = date.fromisoformat
TEAM = Plan(
    "team",
    Money(Decimal("49.00"), "USD"),
    PlanLimits(seats=2),
    OveragePrices(seat=Money(Decimal("5.00"), "USD")),
)


@pytest.fixture
def billing(store: SqlStore) -> SqlBillingStore:
    return SqlBillingStore(store)


@pytest.fixture
def accounts(store: SqlStore) -> SqlAccountsStore:
    """acme with ana (owner, also in team web: one seat) and bo; beta with nobody."""
    accounts = SqlAccountsStore(store)
    accounts.save_organization(Organization("acme", "Acme", "team"))
    accounts.save_organization(Organization("beta", "Beta", None))
    add_member(accounts, "ana@acme.test", Role.OWNER)
    add_member(accounts, "ana@acme.test", Role.MEMBER, team="web")
    add_member(accounts, "bo@acme.test", Role.MEMBER)
    return accounts


def add_member(accounts: SqlAccountsStore, email: str, role: Role, team: str | None = None) -> None:
    if accounts.get_user(email) is None:
        accounts.save_user(User(email))
    accounts.save_membership(Membership(email, "acme", role, team))


class TestRecordingSeats:
    def test_each_organization_gets_its_distinct_members(
        self, billing: SqlBillingStore, accounts: SqlAccountsStore
    ) -> None:
        assert billing.record_seats(D("2025-03-02")) == 2
        assert billing.usage("acme", D("2025-03-01"), D("2025-04-01")) == {"seats": 2}
        assert billing.usage("beta", D("2025-03-01"), D("2025-04-01")) == {}  # recorded as 0

    def test_a_day_keeps_its_high_water_mark_and_a_period_its_peak(
        self, billing: SqlBillingStore, accounts: SqlAccountsStore
    ) -> None:
        billing.record_seats(D("2025-03-02"))
        add_member(accounts, "cy@acme.test", Role.MEMBER)
        add_member(accounts, "di@acme.test", Role.MEMBER)
        billing.record_seats(D("2025-03-02"))
        accounts.delete_membership("cy@acme.test", "acme", None)
        accounts.delete_membership("di@acme.test", "acme", None)
        billing.record_seats(D("2025-03-02"))  # fewer members later that day: the mark stays
        billing.record_seats(D("2025-03-03"))
        billing.add_usage([("acme", D("2025-03-03"), "probes", 7)])
        assert billing.usage("acme", D("2025-03-01"), D("2025-04-01")) == {"seats": 4, "probes": 7}
        assert billing.usage("acme", D("2025-03-03"), D("2025-04-01")) == {"seats": 2, "probes": 7}

    def test_writers_recording_at_once_never_double_the_figure(
        self, billing: SqlBillingStore, accounts: SqlAccountsStore
    ) -> None:
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def meter() -> None:
            try:
                start.wait(timeout=30)
                for _ in range(15):
                    billing.record_seats(D("2025-03-02"))
                    billing.record_seats(D("2025-03-03"))
            except BaseException as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=meter) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors
        assert billing.usage("acme", D("2025-03-02"), D("2025-03-03")) == {"seats": 2}
        assert billing.usage("acme", D("2025-03-01"), D("2025-04-01")) == {"seats": 2}


class TestBillingReadsThePeak:
    def test_a_closed_period_bills_seats_beyond_those_recorded_at_their_peak(
        self, billing: SqlBillingStore, accounts: SqlAccountsStore
    ) -> None:
        today = datetime.now(UTC).date()
        start = today - timedelta(days=40)
        end = next_anchor(start, start.day)
        billing.save_subscription(  # the subscription recorded 2 seats: the included ones
            Subscription(
                "acme", SubscriptionStatus.ACTIVE, start, end, start.day, (PeriodChange(start, "team", 2),)
            )
        )
        # Two more people held seats for a while mid-period, through no path that told the subscription.
        add_member(accounts, "cy@acme.test", Role.MEMBER)
        add_member(accounts, "di@acme.test", Role.MEMBER)
        billing.record_seats(start + timedelta(days=5))
        accounts.delete_membership("cy@acme.test", "acme", None)
        accounts.delete_membership("di@acme.test", "acme", None)
        billing.record_seats(start + timedelta(days=6))

        service = Billing(billing, accounts, {"team": TEAM}, "USD")
        owner = Actor("ana@acme.test", (Membership("ana@acme.test", "acme", Role.OWNER),))
        invoice = service.close_period(owner, "acme", datetime.now(UTC))[0]
        overage = [line for line in invoice.lines if line.kind is LineKind.OVERAGE]
        assert [(line.quantity, line.amount.amount) for line in overage] == [(Decimal(2), Decimal("10.00"))]
        assert "4 members at the period's peak" in overage[0].description
        assert invoice.total.amount == Decimal("59.00")

        # The new period has no metered peak yet: today's members are the figure.
        view = service.overview(owner, "acme", datetime.now(UTC))
        assert {m.name: m.used for m in view.meters}["seats"] == 2
        billing.record_seats(today)
        add_member(accounts, "ed@acme.test", Role.MEMBER)
        view = service.overview(owner, "acme", datetime.now(UTC))
        assert {m.name: m.used for m in view.meters}["seats"] == 3  # live count above the metered 2
