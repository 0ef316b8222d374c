"""Peewee records of the billing context: subscriptions, daily usage counters, invoices and their lines.

Money is stored as text (`"19.00"`, `"0.0075"`): exactly what the Decimal was, on both backends —
SQLite has no decimal type and would turn a DECIMAL column into a float. Days are DATE columns.
Usage is counted per organization, UTC day and metric; a billing period's usage is the sum over its
days, so counters never depend on where a period starts and a plan change never moves them.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from peewee import BigAutoField, BigIntegerField, CharField, DateField, IntegerField, TextField

from engine.storage.fields import InstantField, StableAutoField
from engine.storage.records import BaseRecord
from pulsewatch.domain.billing import PeriodChange, Subscription, SubscriptionStatus
from pulsewatch.domain.invoicing import Invoice, InvoiceLine, InvoiceStatus, LineKind
from pulsewatch.domain.money import Money

ORG_LIMIT = 100
"""Like the organizations table's slug."""
DESCRIPTION_LIMIT = 400


class SubscriptionRecord(BaseRecord):
    """One organization's subscription and its current period; `history` is JSON [[day, plan, seats]...]."""

    org = CharField(max_length=ORG_LIMIT, primary_key=True)
    status = CharField(max_length=16)
    period_start = DateField()
    period_end = DateField()
    anchor_day = IntegerField()
    history = TextField()
    trial_end = DateField(null=True)
    updated_at = InstantField()

    class Meta:
        table_name = "subscriptions"

    def to_domain(self) -> Subscription:
        history = tuple(
            PeriodChange(date.fromisoformat(on), plan, int(seats))
            for on, plan, seats in json.loads(self.history)
        )
        return Subscription(
            org=self.org,
            status=SubscriptionStatus(self.status),
            period_start=_day(self.period_start),
            period_end=_day(self.period_end),
            anchor_day=int(self.anchor_day),
            history=history,
            trial_end=None if self.trial_end is None else _day(self.trial_end),
        )

    @staticmethod
    def columns(sub: Subscription) -> dict[str, object]:
        """The columns of `sub` (without `updated_at`)."""
        return {
            "status": sub.status.value,
            "period_start": sub.period_start,
            "period_end": sub.period_end,
            "anchor_day": sub.anchor_day,
            "history": json.dumps([[c.on.isoformat(), c.plan, c.seats] for c in sub.history]),
            "trial_end": sub.trial_end,
        }


class UsageRecord(BaseRecord):
    """How much of `metric` (`probes`, `notifications.sms`...) `org` used on UTC `day`."""

    id = BigAutoField()
    org = CharField(max_length=ORG_LIMIT)
    day = DateField()
    metric = CharField(max_length=64)
    n = BigIntegerField(default=0)

    class Meta:
        table_name = "usage_counters"
        indexes = ((("org", "day", "metric"), True),)


class InvoiceRecord(BaseRecord):
    """An issued invoice; one per organization and period. `total` is the exact sum of its lines."""

    id = StableAutoField()
    number = CharField(max_length=120, unique=True)
    org = CharField(max_length=ORG_LIMIT)
    period_start = DateField()
    period_end = DateField()
    currency = CharField(max_length=3)
    total = CharField(max_length=40)
    status = CharField(max_length=16)
    issued_on = DateField()
    due_on = DateField()
    paid_on = DateField(null=True)
    paid_by = CharField(max_length=254, null=True)
    created_at = InstantField()

    class Meta:
        table_name = "invoices"
        indexes = ((("org", "period_start"), True),)

    def to_domain(self, lines: tuple[InvoiceLine, ...]) -> Invoice:
        return Invoice(
            number=self.number,
            org=self.org,
            period_start=_day(self.period_start),
            period_end=_day(self.period_end),
            currency=self.currency,
            lines=lines,
            status=InvoiceStatus(self.status),
            issued_on=_day(self.issued_on),
            due_on=_day(self.due_on),
            paid_on=None if self.paid_on is None else _day(self.paid_on),
            paid_by=self.paid_by,
        )


class InvoiceLineRecord(BaseRecord):
    """One line of an invoice, in order (`position`)."""

    id = BigAutoField()
    invoice_id = IntegerField()
    position = IntegerField()
    kind = CharField(max_length=32)
    description = CharField(max_length=DESCRIPTION_LIMIT)
    quantity = CharField(max_length=40)
    unit_price = CharField(max_length=40, null=True)
    amount = CharField(max_length=40)

    class Meta:
        table_name = "invoice_lines"
        indexes = ((("invoice_id", "position"), True),)

    def to_domain(self, currency: str) -> InvoiceLine:
        unit = None if self.unit_price is None else Money(Decimal(self.unit_price), currency)
        return InvoiceLine(
            LineKind(self.kind),
            self.description,
            Money(Decimal(self.amount), currency),
            Decimal(self.quantity),
            unit,
        )

    @staticmethod
    def row(invoice_id: int, position: int, line: InvoiceLine) -> dict[str, object]:
        return {
            "invoice_id": invoice_id,
            "position": position,
            "kind": line.kind.value,
            "description": line.description[:DESCRIPTION_LIMIT],
            "quantity": str(line.quantity),
            "unit_price": None if line.unit_price is None else str(line.unit_price.amount),
            "amount": str(line.amount.amount),
        }


def _day(value: object) -> date:
    """A DATE column's value as a date (drivers hand back date, datetime or ISO text)."""
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    return date.fromisoformat(str(value)[:10])


BILLING_RECORDS = (SubscriptionRecord, UsageRecord, InvoiceRecord, InvoiceLineRecord)
"""Every table of the billing context (migration 7)."""
