"""Invoices: closing a billing period into lines with exact totals, and pro-rating to the day.

Billing is in arrears: at the end of a period its invoice charges what the period's history says.
The lines read like a bill a person can check:
  - plan fee: the price of the plan the period started on, and its extra seats, for the full period;
  - a plan (or seat) change on day k of N: a proration credit of the old price for days k..N and a
    proration charge of the new price for the same days;
  - overage: SMS beyond the plan's allowance, at the plan's SMS price; and seats beyond those the
    history billed, when the engines metered more members at the period's peak than the
    subscription recorded — the difference, at the seat price, for the full period (a true-up: the
    peak has no date to pro-rate from, and seats the history billed are never billed twice);
  - credit: a trial period waives everything.

Pro-rating is cumulative, which is what makes it exact: the part of a price for days [a, b) of N is
`round(price × b / N) − round(price × a / N)`. The parts of any split of a period therefore add up
to the full price to the cent (the sum telescopes), a full period is the full price, and no part is
negative. Every line amount is whole cents; the total is their exact sum.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from pulsewatch.domain.billing import PeriodChange, Plan, Subscription
from pulsewatch.domain.money import CENT, ROUNDING, BillingError, CurrencyMismatch, Money, total

SMS = "sms"
"""The channel kind whose notifications plans count and limit."""


class LineKind(enum.Enum):
    """What an invoice line is for."""

    PLAN_FEE = "plan fee"
    PRORATION_CREDIT = "proration credit"
    PRORATION_CHARGE = "proration charge"
    OVERAGE = "overage"
    CREDIT = "credit"


class InvoiceStatus(enum.Enum):
    """draft (the projection of a period still running) → open (issued, unpaid) → paid."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"


@dataclass(frozen=True)
class InvoiceLine:
    """One line: what it is for, how many at what unit price, and its amount in whole cents.

    Raises:
        BillingError: the amount is not whole cents.
    """

    kind: LineKind
    description: str
    amount: Money
    quantity: Decimal = Decimal(1)
    unit_price: Money | None = None

    def __post_init__(self) -> None:
        if not self.amount.is_cents:
            raise BillingError(f"invoice line {self.description!r}: {self.amount} is not whole cents")


@dataclass(frozen=True)
class Invoice:
    """A closed (or, as a draft, projected) billing period of one organization.

    Raises:
        CurrencyMismatch: a line is in another currency than the invoice.
    """

    number: str
    org: str
    period_start: date
    period_end: date
    currency: str
    lines: tuple[InvoiceLine, ...]
    status: InvoiceStatus
    issued_on: date
    due_on: date
    paid_on: date | None = None
    paid_by: str | None = None

    def __post_init__(self) -> None:
        for line in self.lines:
            if line.amount.currency != self.currency:
                raise CurrencyMismatch(
                    f"invoice {self.number}: line {line.description!r} is in {line.amount.currency}, "
                    f"the invoice in {self.currency}"
                )

    @property
    def total(self) -> Money:
        """The exact sum of the lines."""
        return total((line.amount for line in self.lines), self.currency)

    def overdue(self, today: date) -> bool:
        """Issued, unpaid, and past its due date."""
        return self.status == InvoiceStatus.OPEN and today > self.due_on


@dataclass(frozen=True)
class PeriodUsage:
    """What an organization used in a period: probes run, notifications sent by channel kind, and
    the most members it had on any day (the metered peak of seats; 0 when nothing was metered)."""

    probes: int = 0
    notifications: Mapping[str, int] = field(default_factory=dict)
    seats: int = 0

    @property
    def sms(self) -> int:
        """SMS notifications sent."""
        return self.notifications.get(SMS, 0)


def prorate(price: Money, start: int, end: int, days: int) -> Money:
    """The part of `price` (for `days` days) owed for days [start, end), in whole cents.

    Cumulative rounding: `round(price × end / days) − round(price × start / days)`, so the parts of
    any split of [0, days) add up to `round(price)` exactly.

    Raises:
        BillingError: the days are not 0 ≤ start ≤ end ≤ days with days ≥ 1.
    """
    if days < 1 or not 0 <= start <= end <= days:
        raise BillingError(f"cannot pro-rate days {start}..{end} of a {days}-day period")

    def up_to(day: int) -> Decimal:
        return (price.amount * day / days).quantize(CENT, rounding=ROUNDING)

    return Money(up_to(end) - up_to(start), price.currency)


def build_invoice(
    sub: Subscription,
    plans: Mapping[str, Plan],
    usage: PeriodUsage,
    *,
    number: str,
    currency: str,
    issued_on: date,
    status: InvoiceStatus = InvoiceStatus.OPEN,
) -> Invoice:
    """The invoice for `sub`'s current period (see the module docstring for its lines).

    Args:
        sub: the subscription, with the period's full history.
        plans: every plan by name (the prices are the ones in effect when the invoice is made).
        usage: what the organization used in the period.
        number: the invoice number ("draft" for a projection).
        currency: the invoice's currency (every plan's).
        issued_on: the invoice date; it is due `grace_days` later (of the plan the period ends on).
        status: OPEN for a closed period, DRAFT for a projection.

    Raises:
        BillingError: the history names a plan that is not in `plans`.
        CurrencyMismatch: a plan is priced in another currency.
    """
    days = max(sub.days, 1)
    lines: list[InvoiceLine] = []
    history = sub.history
    first = history[0]
    first_plan = _plan(plans, first.plan)
    if first_plan is not None:
        lines.append(
            _line(
                LineKind.PLAN_FEE,
                f"Plan {first_plan.name}, {_span(sub.period_start, sub.period_end)}",
                first_plan.price,
                currency,
            )
        )
        seat_cost = first_plan.seat_cost(first.seats).quantized()
        if seat_cost.amount:
            extra = first_plan.extra_seats(first.seats)
            lines.append(
                _line(
                    LineKind.PLAN_FEE,
                    f"{extra} extra seat{'s' * (extra != 1)}, full period",
                    seat_cost,
                    currency,
                    extra,
                    first_plan.overage.seat,
                )
            )
    for before, after in itertools.pairwise(history):
        lines += _change_lines(sub, plans, before, after, days, currency)
    last_plan = _plan(plans, history[-1].plan)
    if last_plan is not None:
        lines += _overage_lines(last_plan, usage, currency)
        lines += _seat_overage_lines(last_plan, history, usage.seats, currency)
    if sub.trial_end is not None and sub.trial_end >= sub.period_end:
        subtotal = total((line.amount for line in lines), currency)
        if subtotal.amount:
            lines.append(_line(LineKind.CREDIT, "Trial: no charge", -subtotal, currency))
    grace = last_plan.grace_days if last_plan is not None else (first_plan.grace_days if first_plan else 0)
    return Invoice(
        number,
        sub.org,
        sub.period_start,
        sub.period_end,
        currency,
        tuple(lines),
        status,
        issued_on,
        issued_on + timedelta(days=grace),
    )


def _change_lines(
    sub: Subscription,
    plans: Mapping[str, Plan],
    before: PeriodChange,
    after: PeriodChange,
    days: int,
    currency: str,
) -> list[InvoiceLine]:
    """Credit the old price and charge the new one for the rest of the period, from the change on."""
    start = (after.on - sub.period_start).days
    rest = f"{days - start} of {days} days from {after.on}"
    old, new = _plan(plans, before.plan), _plan(plans, after.plan)
    lines = []
    if before.plan != after.plan:
        if old is not None:
            lines.append(
                _line(
                    LineKind.PRORATION_CREDIT,
                    f"Plan {old.name}, unused {rest}",
                    -prorate(old.price, start, days, days),
                    currency,
                )
            )
        if new is not None:
            lines.append(
                _line(
                    LineKind.PRORATION_CHARGE,
                    f"Plan {new.name}, {rest}",
                    prorate(new.price, start, days, days),
                    currency,
                )
            )
    old_seats = old.seat_cost(before.seats).quantized() if old is not None else None
    new_seats = new.seat_cost(after.seats).quantized() if new is not None else None
    if old_seats != new_seats:
        if old_seats is not None and old_seats.amount and old is not None:
            n = old.extra_seats(before.seats)
            lines.append(
                _line(
                    LineKind.PRORATION_CREDIT,
                    f"{n} extra seat{'s' * (n != 1)}, unused {rest}",
                    -prorate(old_seats, start, days, days),
                    currency,
                )
            )
        if new_seats is not None and new_seats.amount and new is not None:
            n = new.extra_seats(after.seats)
            lines.append(
                _line(
                    LineKind.PRORATION_CHARGE,
                    f"{n} extra seat{'s' * (n != 1)}, {rest}",
                    prorate(new_seats, start, days, days),
                    currency,
                )
            )
    return [line for line in lines if line.amount.amount]


def _overage_lines(plan: Plan, usage: PeriodUsage, currency: str) -> list[InvoiceLine]:
    allowance, price = plan.limits.sms_per_month, plan.overage.sms
    if allowance is None or price is None or usage.sms <= allowance:
        return []
    extra = usage.sms - allowance
    return [
        _line(
            LineKind.OVERAGE,
            f"{extra} SMS beyond the {allowance} included",
            (price * extra).quantized(),
            currency,
            extra,
            price,
        )
    ]


def _seat_overage_lines(
    plan: Plan, history: tuple[PeriodChange, ...], peak: int, currency: str
) -> list[InvoiceLine]:
    """Extra seats of the period's metered peak beyond the most extra seats its history billed."""
    price = plan.overage.seat
    if price is None:
        return []
    extra = plan.extra_seats(peak) - max(plan.extra_seats(change.seats) for change in history)
    if extra <= 0:
        return []
    return [
        _line(
            LineKind.OVERAGE,
            f"{extra} extra seat{'s' * (extra != 1)} beyond those billed ({peak} members at the "
            "period's peak), full period",
            (price * extra).quantized(),
            currency,
            extra,
            price,
        )
    ]


def _line(
    kind: LineKind, text: str, amount: Money, currency: str, quantity: int = 1, unit: Money | None = None
) -> InvoiceLine:
    if amount.currency != currency:
        raise CurrencyMismatch(f"{text}: {amount} is not in the invoice's currency {currency}")
    return InvoiceLine(kind, text, amount.quantized(), Decimal(quantity), unit)


def _plan(plans: Mapping[str, Plan], name: str | None) -> Plan | None:
    if name is None:
        return None
    plan = plans.get(name)
    if plan is None:
        raise BillingError(
            f"plan {name} is no longer declared in the config; add it back to bill this period"
        )
    return plan


def _span(start: date, end: date) -> str:
    return f"{start} to {end - timedelta(days=1)}"


PROBES = "probes"
"""The usage counter of probe results recorded."""
SEATS = "seats"
"""The usage figure of members in the organization: per day its high-water mark, over a period the
peak of those days (never a sum: the engines record the same members again and again)."""
PEAK_METRICS = frozenset({SEATS})
"""Metrics whose daily figures are maxima to take the peak of, not counts to add up."""
_NOTIFIED = "notifications."


def notification_metric(kind: str) -> str:
    """The usage counter of notifications sent through channels of `kind` (`notifications.sms`)."""
    return _NOTIFIED + kind


def usage_from_counters(counters: Mapping[str, int]) -> PeriodUsage:
    """A period's usage from its counters (metric name → total)."""
    notified = {m[len(_NOTIFIED) :]: n for m, n in counters.items() if m.startswith(_NOTIFIED)}
    return PeriodUsage(probes=counters.get(PROBES, 0), notifications=notified, seats=counters.get(SEATS, 0))
