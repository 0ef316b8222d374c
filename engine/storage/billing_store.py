"""SqlBillingStore: subscriptions, usage counters and invoices on the SqlStore's database.

Usage counters are only ever changed by atomic increments (`INSERT ... ON CONFLICT DO UPDATE SET
n = n + excluded.n` on SQLite, `ON DUPLICATE KEY UPDATE n = n + VALUES(n)` on MySQL): several
engines add to the same row at once and no count is lost or counted twice. The recorder adds its
batch's probe counts inside the transaction that writes the results (`metering`), so the counters
and the results table always agree.

Seats are a figure, not a count: each engine's maintenance pass records every organization's member
count for the UTC day as a high-water mark (`n = MAX(n, new)` on SQLite, `GREATEST` on MySQL), so
engines recording the same members again and again — or at once — leave the day's peak, never a sum.
`usage` takes the peak of such metrics (`PEAK_METRICS`) over a period, and the sum of the others.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from peewee import EXCLUDED, fn

from engine.storage.accounts_records import MembershipRecord, OrganizationRecord
from engine.storage.alerting_records import NotificationRecord
from engine.storage.billing_records import InvoiceLineRecord, InvoiceRecord, SubscriptionRecord, UsageRecord
from engine.storage.records import TEXT_LIMIT, CheckRecord, database
from engine.storage.store import SqlStore
from pulsewatch.domain.billing import Subscription
from pulsewatch.domain.invoicing import PEAK_METRICS, SEATS, Invoice
from pulsewatch.domain.money import BillingError
from pulsewatch.domain.monitoring import Check
from pulsewatch.domain.notifications import DeliveryStatus


class SqlBillingStore:
    """Implements `pulsewatch.services.billing_ports.BillingStore` (and what the engine's meters need).
    Thread-safe like the SqlStore under it."""

    def __init__(self, sql: SqlStore) -> None:
        self._sql = sql

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One connection and one transaction for everything inside (nested calls join it)."""
        with self._sql.session("change billing in"), self._sql.atomic():
            yield

    # -- subscriptions --------------------------------------------------------------------------

    def get_subscription(self, org: str) -> Subscription | None:
        with self._sql.session("read subscriptions from"):
            record = SubscriptionRecord.get_or_none(SubscriptionRecord.org == org)
            return None if record is None else record.to_domain()

    def save_subscription(self, sub: Subscription) -> None:
        values = {**SubscriptionRecord.columns(sub), "updated_at": datetime.now(UTC)}
        with self._sql.session("save a subscription in"), self._sql.atomic():
            updated = SubscriptionRecord.update(**values).where(SubscriptionRecord.org == sub.org).execute()
            if not updated:
                SubscriptionRecord.insert(org=sub.org, **values).execute()

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, by organization."""
        with self._sql.session("read subscriptions from"):
            return [r.to_domain() for r in SubscriptionRecord.select().order_by(SubscriptionRecord.org)]

    # -- usage ----------------------------------------------------------------------------------

    def add_usage(self, increments: Sequence[tuple[str, date, str, int]]) -> None:
        """Add each (org, day, metric, n) to its counter with an atomic increment."""
        totals = Counter[tuple[str, date, str]]()
        for org, day, metric, n in increments:
            totals[(org, day, metric)] += n
        # Sorted: every engine locks rows in the same order, so two of them never deadlock.
        rows = [(org, day.isoformat(), metric, n) for (org, day, metric), n in sorted(totals.items()) if n]
        if not rows:
            return
        with self._sql.session("count usage in"), self._sql.atomic():
            database.cursor().executemany(self._upsert, rows)

    def take_usage(
        self, org: str, day: date, metric: str, wanted: int, period: tuple[date, date], limit: int
    ) -> int:
        """Count up to `wanted` more of `metric` on `day`, as far as the period's total stays within
        `limit`; returns how many were counted. Atomic across engines: the day's row stays locked
        from the increment to the commit, so two engines never both take the last unit."""
        if wanted <= 0:
            return 0
        with self._sql.session("count usage in"), self._sql.atomic():
            self._increment(org, day, metric, wanted)
            query = UsageRecord.select(fn.SUM(UsageRecord.n)).where(
                UsageRecord.org == org,
                UsageRecord.metric == metric,
                UsageRecord.day >= period[0],
                UsageRecord.day < period[1],
            )
            if self._sql.is_mysql:
                query = query.for_update()  # a locking read sees the latest commits, not the snapshot
            used = int(query.scalar() or 0)
            granted = max(0, min(wanted, limit - (used - wanted)))
            if granted < wanted:
                self._increment(org, day, metric, granted - wanted)
            return granted

    def usage(self, org: str, start: date, end: date) -> dict[str, int]:
        with self._sql.session("read usage from"):
            query = (
                UsageRecord.select(UsageRecord.metric, fn.SUM(UsageRecord.n), fn.MAX(UsageRecord.n))
                .where(UsageRecord.org == org, UsageRecord.day >= start, UsageRecord.day < end)
                .group_by(UsageRecord.metric)
            )
            rows: Any = query.tuples()  # (metric, sum, max) tuples; the stubs type rows as records
            found = {metric: int(peak if metric in PEAK_METRICS else total) for metric, total, peak in rows}
            return {metric: n for metric, n in found.items() if n}  # a taken-back count is 0

    def record_seats(self, day: date) -> int:
        """Raise each organization's `seats` figure for `day` to its distinct members now (a
        high-water mark: recording the same figure twice, from two engines at once, changes
        nothing). Every organization is recorded, those without members as 0.

        Returns:
            How many organizations were recorded.
        """
        # claim: SQLite takes the write lock at BEGIN, or a writer committing between this read and
        # the upsert would fail it with "database is locked"; MySQL reads the latest commits.
        with self._sql.session("count seats in"), self._sql.atomic(claim=True):
            members: Any = (
                MembershipRecord.select(MembershipRecord.org, fn.COUNT(MembershipRecord.user_id.distinct()))
                .group_by(MembershipRecord.org)
                .tuples()
            )
            slugs: Any = OrganizationRecord.select(OrganizationRecord.slug).tuples()
            seats = {str(org): 0 for (org,) in slugs}
            seats.update((str(org), int(n)) for org, n in members)
            # Sorted: every engine locks the rows in the same order, so two of them never deadlock.
            rows = [(org, day.isoformat(), SEATS, n) for org, n in sorted(seats.items())]
            if rows:
                database.cursor().executemany(self._peak_upsert, rows)
        return len(rows)

    def _increment(self, org: str, day: date, metric: str, n: int) -> None:
        database.cursor().executemany(self._upsert, [(org, day.isoformat(), metric, n)])

    @functools.cached_property
    def _upsert(self) -> str:
        """`INSERT ... n = n + new n` as SQL text with one row of placeholders, built once by peewee
        (building SQL is most of the cost of a small statement: the recorder runs this every batch)."""
        insert = UsageRecord.insert(org="", day="", metric="", n=0)
        if self._sql.is_mysql:
            insert = insert.on_conflict(update={UsageRecord.n: UsageRecord.n + fn.VALUES(UsageRecord.n)})
        else:
            insert = insert.on_conflict(
                conflict_target=[UsageRecord.org, UsageRecord.day, UsageRecord.metric],
                update={UsageRecord.n: UsageRecord.n + EXCLUDED.n},
            )
        sql: str = insert.sql()[0]
        return sql

    @functools.cached_property
    def _peak_upsert(self) -> str:
        """`INSERT ... n = the larger of n and the new n` as SQL text with one row of placeholders."""
        insert = UsageRecord.insert(org="", day="", metric="", n=0)
        if self._sql.is_mysql:
            peak = fn.GREATEST(UsageRecord.n, fn.VALUES(UsageRecord.n))
            insert = insert.on_conflict(update={UsageRecord.n: peak})
        else:  # SQLite's MAX with two arguments is the scalar maximum, not the aggregate
            insert = insert.on_conflict(
                conflict_target=[UsageRecord.org, UsageRecord.day, UsageRecord.metric],
                update={UsageRecord.n: fn.MAX(UsageRecord.n, EXCLUDED.n)},
            )
        sql: str = insert.sql()[0]
        return sql

    # -- invoices -------------------------------------------------------------------------------

    def next_invoice_number(self, org: str) -> str:
        with self._sql.session("read invoices from"):
            count = InvoiceRecord.select().where(InvoiceRecord.org == org).count()
        return f"INV-{org}-{count + 1:04d}"

    def save_invoice(self, invoice: Invoice) -> None:
        payment = {"status": invoice.status.value, "paid_on": invoice.paid_on, "paid_by": invoice.paid_by}
        with self._sql.session("save an invoice in"), self._sql.atomic():
            if InvoiceRecord.update(**payment).where(InvoiceRecord.number == invoice.number).execute():
                return
            if (
                InvoiceRecord.select()
                .where(InvoiceRecord.org == invoice.org, InvoiceRecord.period_start == invoice.period_start)
                .exists()
            ):
                raise BillingError(
                    f"{invoice.org} already has an invoice for the period starting {invoice.period_start}"
                )
            invoice_id = InvoiceRecord.insert(
                number=invoice.number,
                org=invoice.org,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                currency=invoice.currency,
                total=str(invoice.total.amount),
                issued_on=invoice.issued_on,
                due_on=invoice.due_on,
                created_at=datetime.now(UTC),
                **payment,
            ).execute()
            rows = [InvoiceLineRecord.row(int(invoice_id), i, line) for i, line in enumerate(invoice.lines)]
            if rows:
                InvoiceLineRecord.insert_many(rows).execute()

    def invoice(self, number: str) -> Invoice | None:
        with self._sql.session("read invoices from"):
            found = self._invoices(InvoiceRecord.number == number)
        return found[0] if found else None

    def invoices(self, org: str) -> list[Invoice]:
        with self._sql.session("read invoices from"):
            return self._invoices(InvoiceRecord.org == org)

    def _invoices(self, where: Any) -> list[Invoice]:
        records = list(InvoiceRecord.select().where(where).order_by(InvoiceRecord.period_start.desc()))
        if not records:
            return []
        lines: dict[int, list[InvoiceLineRecord]] = {r.id: [] for r in records}
        query = InvoiceLineRecord.select().where(InvoiceLineRecord.invoice_id.in_(list(lines)))
        for line in query.order_by(InvoiceLineRecord.invoice_id, InvoiceLineRecord.position):
            lines[line.invoice_id].append(line)
        return [r.to_domain(tuple(line.to_domain(r.currency) for line in lines[r.id])) for r in records]

    # -- what the meters and the billing services read ------------------------------------------

    def checks_of(self, org: str) -> list[Check]:
        with self._sql.session("read checks from"):
            query = CheckRecord.select().where(CheckRecord.org == org).order_by(CheckRecord.name)
            return [r.to_domain() for r in query]

    def check_orgs(self, check_ids: Collection[int]) -> dict[int, str]:
        """The organization of each of these checks that still exists."""
        if not check_ids:
            return {}
        with self._sql.session("read checks from"):
            query = CheckRecord.select(CheckRecord.id, CheckRecord.org).where(
                CheckRecord.id.in_(sorted(check_ids))
            )
            rows: Any = query.tuples()  # (id, org) tuples
            return {int(i): org for i, org in rows}

    def withhold_notification(self, notification_id: int, reason: str) -> bool:
        """Mark a claimed notification suppressed (its channel may not be used: a quota); False when it
        was not in sending any more."""
        with self._sql.session("record a withheld notification in"), self._sql.atomic():
            updated = (
                NotificationRecord.update(
                    status=DeliveryStatus.SUPPRESSED.value,
                    reason=reason[:TEXT_LIMIT],
                    claimed_by=None,
                    claimed_at=None,
                )
                .where(
                    (NotificationRecord.id == notification_id)
                    & (NotificationRecord.status == DeliveryStatus.SENDING.value)
                )
                .execute()
            )
        return bool(updated)
