"""An in-memory BillingStore for the service tests (tests/storage proves the SQL store behaves alike),
and a small world of plans, an organization and its people."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

from pulsewatch.domain.accounts import Membership, Organization, Role, User
from pulsewatch.domain.billing import OveragePrices, Plan, PlanLimits, Subscription
from pulsewatch.domain.invoicing import PEAK_METRICS, SEATS, Invoice
from pulsewatch.domain.money import BillingError, Money
from pulsewatch.domain.monitoring import Check
from tests.unit.accounts_fakes import MemoryAccountsStore


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def at(day: str, hour: int = 12) -> datetime:
    """Noon UTC of an ISO day: a `now` for the services."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


PLANS = {
    "free": Plan("free", usd("0.00"), PlanLimits(checks=2, min_interval=300.0, seats=1, sms_per_month=0)),
    "starter": Plan(
        "starter",
        usd("19.00"),
        PlanLimits(checks=3, min_interval=60.0, seats=3, channels=2, sms_per_month=10),
    ),
    "team": Plan(
        "team",
        usd("49.00"),
        PlanLimits(checks=10, min_interval=30.0, seats=5, sms_per_month=100),
        OveragePrices(sms=usd("0.05"), seat=usd("5.00")),
    ),
    "trial": Plan("trial", usd("29.00"), PlanLimits(checks=5), trial_days=14),
}


class MemoryBillingStore:
    """Implements BillingStore in dicts; `transaction()` rolls everything back on an exception."""

    def __init__(self, checks: Sequence[Check] = ()) -> None:
        self.subs: dict[str, Subscription] = {}
        self.counters: dict[tuple[str, date, str], int] = {}
        self.invoice_rows: dict[str, Invoice] = {}
        self.checks = list(checks)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        saved = copy.deepcopy((self.subs, self.counters, self.invoice_rows))
        try:
            yield
        except BaseException:
            self.subs, self.counters, self.invoice_rows = saved
            raise

    def get_subscription(self, org: str) -> Subscription | None:
        return self.subs.get(org)

    def save_subscription(self, sub: Subscription) -> None:
        self.subs[sub.org] = sub

    def usage(self, org: str, start: date, end: date) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (o, day, metric), n in self.counters.items():
            if o == org and start <= day < end:
                before = totals.get(metric, 0)
                totals[metric] = max(before, n) if metric in PEAK_METRICS else before + n
        return {metric: n for metric, n in totals.items() if n}

    def record_seats(self, org: str, day: date, seats: int) -> None:
        """What the engines' seat metering leaves: the day's high-water mark of members."""
        key = (org, day, SEATS)
        self.counters[key] = max(self.counters.get(key, 0), seats)

    def add_usage(self, increments: Sequence[tuple[str, date, str, int]]) -> None:
        for org, day, metric, n in increments:
            self.counters[(org, day, metric)] = self.counters.get((org, day, metric), 0) + n

    def next_invoice_number(self, org: str) -> str:
        return f"INV-{org}-{sum(1 for i in self.invoice_rows.values() if i.org == org) + 1:04d}"

    def save_invoice(self, invoice: Invoice) -> None:
        if invoice.number not in self.invoice_rows and any(
            i.org == invoice.org and i.period_start == invoice.period_start
            for i in self.invoice_rows.values()
        ):
            raise BillingError(
                f"{invoice.org} already has an invoice for the period starting {invoice.period_start}"
            )
        self.invoice_rows[invoice.number] = invoice

    def invoice(self, number: str) -> Invoice | None:
        return self.invoice_rows.get(number)

    def invoices(self, org: str) -> list[Invoice]:
        mine = [i for i in self.invoice_rows.values() if i.org == org]
        return sorted(mine, key=lambda i: i.period_start, reverse=True)

    def checks_of(self, org: str) -> list[Check]:
        return sorted((c for c in self.checks if c.org == org), key=lambda c: c.name)


def accounts_with(org: str = "acme", plan: str | None = "starter", members: int = 2) -> MemoryAccountsStore:
    """An organization with an owner (`owner@acme.test`) and `members - 1` members."""
    store = MemoryAccountsStore()
    store.save_organization(Organization(org, org.title(), plan))
    for i in range(members):
        email = "owner@acme.test" if i == 0 else f"m{i}@acme.test"
        store.save_user(User(email))
        store.save_membership(Membership(email, org, Role.OWNER if i == 0 else Role.MEMBER))
    return store
