"""SqlBillingStore on both backends: subscriptions, exact usage counters, invoices, migration 7."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from engine.storage.billing_records import BILLING_RECORDS
from engine.storage.billing_store import SqlBillingStore
from engine.storage.migrations import MIGRATIONS
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.billing import PeriodChange, Plan, Subscription, SubscriptionStatus
from pulsewatch.domain.invoicing import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    PeriodUsage,
    build_invoice,
)
from pulsewatch.domain.money import BillingError, Money
from tests.storage.backends import raw_sql
from tests.storage.factories import make_check

BILLING_TABLES = {r._meta.table_name for r in BILLING_RECORDS}
D = date.fromisoformat


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def subscription(org: str = "acme") -> Subscription:
    return Subscription(
        org,
        SubscriptionStatus.ACTIVE,
        D("2025-03-01"),
        D("2025-04-01"),
        1,
        (PeriodChange(D("2025-03-01"), "starter", 3), PeriodChange(D("2025-03-11"), "team", 4)),
    )


def invoice(number: str = "INV-acme-0001", org: str = "acme", start: str = "2025-03-01") -> Invoice:
    lines = (
        InvoiceLine(LineKind.PLAN_FEE, "Plan starter", usd("19.00")),
        InvoiceLine(LineKind.OVERAGE, "12 SMS", usd("0.09"), Decimal(12), usd("0.0075")),
        InvoiceLine(LineKind.PRORATION_CREDIT, "unused", usd("-6.13")),
    )
    return Invoice(
        number,
        org,
        D(start),
        D("2025-04-01"),
        "USD",
        lines,
        InvoiceStatus.OPEN,
        D("2025-04-01"),
        D("2025-04-15"),
    )


@pytest.fixture
def billing(store: SqlStore) -> SqlBillingStore:
    return SqlBillingStore(store)


class TestSubscriptions:
    def test_a_subscription_reads_back_as_saved(self, billing: SqlBillingStore) -> None:
        assert billing.get_subscription("acme") is None
        billing.save_subscription(subscription())
        assert billing.get_subscription("acme") == subscription()

    def test_saving_again_replaces_it(self, billing: SqlBillingStore) -> None:
        billing.save_subscription(subscription())
        later = subscription().next_period()
        billing.save_subscription(later)
        assert billing.get_subscription("acme") == later
        assert billing.subscriptions() == [later]


class TestUsage:
    def test_increments_add_up_per_day_and_metric(self, billing: SqlBillingStore) -> None:
        billing.add_usage([("acme", D("2025-03-01"), "probes", 5), ("acme", D("2025-03-01"), "probes", 2)])
        billing.add_usage([("acme", D("2025-03-31"), "probes", 1), ("acme", D("2025-04-01"), "probes", 100)])
        billing.add_usage(
            [("beta", D("2025-03-02"), "probes", 9), ("acme", D("2025-03-02"), "notifications.sms", 3)]
        )
        assert billing.usage("acme", D("2025-03-01"), D("2025-04-01")) == {
            "probes": 8,
            "notifications.sms": 3,
        }
        assert billing.usage("acme", D("2025-04-01"), D("2025-05-01")) == {"probes": 100}
        assert billing.usage("nobody", D("2025-03-01"), D("2025-04-01")) == {}

    def test_take_usage_never_passes_the_limit(self, billing: SqlBillingStore) -> None:
        period = (D("2025-03-01"), D("2025-04-01"))
        billing.add_usage([("acme", D("2025-03-01"), "notifications.sms", 7)])
        assert billing.take_usage("acme", D("2025-03-05"), "notifications.sms", 2, period, 10) == 2
        assert billing.take_usage("acme", D("2025-03-06"), "notifications.sms", 5, period, 10) == 1
        assert billing.take_usage("acme", D("2025-03-06"), "notifications.sms", 1, period, 10) == 0
        assert billing.usage("acme", *period) == {"notifications.sms": 10}

    def test_threads_counting_at_once_lose_nothing(self, store: SqlStore, billing: SqlBillingStore) -> None:
        errors: list[BaseException] = []

        def count() -> None:
            try:
                for _ in range(25):
                    billing.add_usage(
                        [("acme", D("2025-03-01"), "probes", 1), ("acme", D("2025-03-02"), "probes", 2)]
                    )
            except BaseException as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=count) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert billing.usage("acme", D("2025-03-01"), D("2025-03-03")) == {"probes": 4 * 25 * 3}

    def test_threads_taking_the_last_units_never_overspend(self, billing: SqlBillingStore) -> None:
        period = (D("2025-03-01"), D("2025-04-01"))
        granted: list[int] = []
        lock = threading.Lock()

        def take() -> None:
            for _ in range(10):
                n = billing.take_usage("acme", D("2025-03-09"), "notifications.sms", 1, period, 15)
                with lock:
                    granted.append(n)

        threads = [threading.Thread(target=take) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(granted) == 15
        assert billing.usage("acme", *period) == {"notifications.sms": 15}


class TestInvoices:
    def test_an_invoice_reads_back_exactly(self, billing: SqlBillingStore) -> None:
        billing.save_invoice(invoice())
        found = billing.invoice("INV-acme-0001")
        assert found == invoice()
        assert found is not None
        assert found.total == usd("12.96")
        assert found.lines[1].unit_price == usd("0.0075")

    def test_numbers_follow_each_organization(self, billing: SqlBillingStore) -> None:
        assert billing.next_invoice_number("acme") == "INV-acme-0001"
        billing.save_invoice(invoice())
        assert billing.next_invoice_number("acme") == "INV-acme-0002"
        assert billing.next_invoice_number("beta") == "INV-beta-0001"

    def test_newest_period_first(self, billing: SqlBillingStore) -> None:
        billing.save_invoice(invoice("INV-acme-0001", start="2025-02-01"))
        billing.save_invoice(invoice("INV-acme-0002", start="2025-03-01"))
        billing.save_invoice(invoice("INV-beta-0001", org="beta"))
        assert [i.number for i in billing.invoices("acme")] == ["INV-acme-0002", "INV-acme-0001"]

    def test_paying_updates_the_status_only(self, billing: SqlBillingStore) -> None:
        billing.save_invoice(invoice())
        paid = Invoice(
            **{
                **invoice().__dict__,
                "status": InvoiceStatus.PAID,
                "paid_on": D("2025-04-03"),
                "paid_by": "ana@acme.test",
            }
        )
        billing.save_invoice(paid)
        assert billing.invoice("INV-acme-0001") == paid

    def test_a_second_invoice_for_one_period_is_refused(self, billing: SqlBillingStore) -> None:
        billing.save_invoice(invoice())
        with pytest.raises(BillingError, match="already has an invoice"):
            billing.save_invoice(invoice("INV-acme-0002"))
        assert [i.number for i in billing.invoices("acme")] == ["INV-acme-0001"]

    def test_a_built_invoice_survives_the_round_trip(self, billing: SqlBillingStore) -> None:
        plans = {"starter": Plan("starter", usd("19.00")), "team": Plan("team", usd("49.00"))}
        built = build_invoice(
            subscription(),
            plans,
            PeriodUsage(),
            number="INV-acme-0001",
            currency="USD",
            issued_on=D("2025-04-01"),
        )
        billing.save_invoice(built)
        assert billing.invoice("INV-acme-0001") == built


class TestReadsForTheMeters:
    def test_checks_and_their_organizations(self, store: SqlStore, billing: SqlBillingStore) -> None:
        plan = store.sync_checks([make_check("api", org="acme"), make_check("web", org="beta")])
        ids = {c.name: c.id or 0 for c in plan.added}
        assert [c.name for c in billing.checks_of("acme")] == ["api"]
        assert billing.check_orgs([ids["api"], ids["web"], 999]) == {ids["api"]: "acme", ids["web"]: "beta"}


def test_the_billing_tables(store: SqlStore) -> None:
    assert {"subscriptions", "usage_counters", "invoices", "invoice_lines"} == BILLING_TABLES
    assert set(store._db.get_tables()) >= BILLING_TABLES


def test_a_version_6_database_gets_the_billing_tables(store_url: str) -> None:
    old = open_store(store_url)
    old.sync_checks([make_check("api")])
    for table in BILLING_TABLES:
        raw_sql(old, f"DROP TABLE {table}")
    raw_sql(old, "DELETE FROM schema_version")
    raw_sql(old, "INSERT INTO schema_version (version, description, applied_at) VALUES (6, 'v6', 0)")
    old.close()

    store = open_store(store_url, upgrade=False)
    try:
        assert store.schema_version() == 6
        assert store.upgrade() == (6, MIGRATIONS[-1].version)
        assert set(store._db.get_tables()) >= BILLING_TABLES
        billing = SqlBillingStore(store)
        billing.save_subscription(subscription())
        next(m for m in MIGRATIONS if m.version == 7).apply(store._db)  # again: harmless
        assert billing.get_subscription("acme") == subscription()
        assert [c.name for c in store.load_checks()] == ["api"]
    finally:
        store.close()
