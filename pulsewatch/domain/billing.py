"""Billing: money, plans, subscriptions and their billing periods.

Pure: no I/O and no clock — every rule that depends on the date takes `today`. Money
(`pulsewatch.domain.money`) is `Decimal` from the config file to the invoice and never passes
through float; amounts of different currencies never mix.

A subscription's billing period is a half-open range of days [period_start, period_end). Its
`history` lists the plan and seats in effect from each day of the period on (the first entry is the
period's start): a mid-period plan change is one more entry, and `pulsewatch.domain.invoicing`
turns the history into pro-rated lines at the end of the period.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.money import BillingError, CurrencyMismatch, Money
from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_GRACE_DAYS = 14
"""Days an invoice may stay unpaid after it is issued before the subscription is past due."""


class QuotaExceeded(PulseWatchError):
    """A change would take an organization beyond its plan; `violations` says how, one per line.

    The message names the plan and the limit: `plan starter allows 50 checks; acme would have 51`.
    """

    def __init__(self, violations: Iterable[str]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(self.violations) or "plan limit exceeded", title="Plan limit")


class BillingBlocked(PulseWatchError):
    """An edit refused because the organization's subscription is past due (checks keep running)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Past due")


# -- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLimits:
    """What a plan allows an organization; None means unlimited.

    Attributes:
        checks: most checks.
        min_interval: the shortest probe interval, in seconds.
        seats: members included (a hard limit unless the plan prices extra seats).
        channels: most distinct alert channels the organization's checks notify.
        sms_per_month: SMS notifications included per billing period.
        retention_days: how long raw results are kept for the organization, instead of the
            engine's `retention.raw` (longer or shorter; see `quotas.raw_retention`).
    """

    checks: int | None = None
    min_interval: float | None = None
    seats: int | None = None
    channels: int | None = None
    sms_per_month: int | None = None
    retention_days: int | None = None


@dataclass(frozen=True)
class OveragePrices:
    """What use beyond the included amounts costs; None: not sold, the limit is hard.

    Attributes:
        sms: per SMS beyond `sms_per_month` (unset: past the quota, SMS alerts fall back to another channel).
        seat: per member beyond `seats`, per billing period (unset: `seats` is the most members).
    """

    sms: Money | None = None
    seat: Money | None = None


@dataclass(frozen=True)
class Plan:
    """A plan from the config: its price per billing period, limits and overage prices.

    Raises:
        CurrencyMismatch: the overage prices are not in the price's currency.
        BillingError: a negative price, or a price that is not whole cents.
    """

    name: str
    price: Money
    limits: PlanLimits = field(default_factory=PlanLimits)
    overage: OveragePrices = field(default_factory=OveragePrices)
    trial_days: int = 0
    """A new subscription's first period is a free trial this long (0: no trial)."""
    grace_days: int = DEFAULT_GRACE_DAYS
    """An invoice unpaid this many days after it is issued makes the subscription past due."""

    def __post_init__(self) -> None:
        if self.price.amount < 0 or not self.price.is_cents:
            raise BillingError(
                f"plan {self.name}: the price must be whole cents, zero or more (got {self.price})"
            )
        for what, price in (("SMS", self.overage.sms), ("seat", self.overage.seat)):
            if price is None:
                continue
            if price.currency != self.currency:
                raise CurrencyMismatch(
                    f"plan {self.name}: the {what} price {price} is not in the plan's currency "
                    f"{self.currency}"
                )
            if price.amount < 0:
                raise BillingError(f"plan {self.name}: the {what} price must not be negative (got {price})")
        if self.trial_days < 0 or self.grace_days < 0:
            raise BillingError(f"plan {self.name}: trial and grace days must not be negative")

    @property
    def currency(self) -> str:
        """The currency of everything this plan costs."""
        return self.price.currency

    @property
    def seat_limit(self) -> int | None:
        """The most members: `limits.seats` when extra seats are not sold, else None (no limit)."""
        return None if self.overage.seat is not None else self.limits.seats

    def extra_seats(self, seats: int) -> int:
        """Seats billed beyond the included ones (0 when extra seats are not sold)."""
        if self.overage.seat is None or self.limits.seats is None:
            return 0
        return max(0, seats - self.limits.seats)

    def seat_cost(self, seats: int) -> Money:
        """What `seats` seats cost per period beyond the plan's price (exact, not rounded)."""
        extra = self.extra_seats(seats)
        if extra == 0 or self.overage.seat is None:
            return Money.zero(self.currency)
        return self.overage.seat * extra


# -- subscriptions -------------------------------------------------------------------------------


class SubscriptionStatus(enum.Enum):
    """trialing → active ⇄ past_due; canceled once the organization has no plan."""

    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PeriodChange:
    """From day `on` on (inclusive), the organization is on `plan` (None: no plan) with `seats` seats."""

    on: date
    plan: str | None
    seats: int


@dataclass(frozen=True)
class Subscription:
    """An organization's subscription and its current billing period [period_start, period_end).

    `history[0]` is in effect from `period_start`; later entries are mid-period changes, in order and
    on distinct days. `anchor_day` is the day of the month periods end on (clamped to short months).
    `trial_end`, when set, is the end of a trial period: everything billed before it is waived.
    """

    org: str
    status: SubscriptionStatus
    period_start: date
    period_end: date
    anchor_day: int
    history: tuple[PeriodChange, ...]
    trial_end: date | None = None

    def __post_init__(self) -> None:
        if not self.history or self.history[0].on != self.period_start:
            raise BillingError(f"subscription of {self.org}: the history must start on the period's start")
        if self.period_end < self.period_start:
            raise BillingError(f"subscription of {self.org}: the period ends before it starts")
        days = [c.on for c in self.history]
        if days != sorted(set(days)) or (self.period_end > self.period_start and days[-1] >= self.period_end):
            raise BillingError(
                f"subscription of {self.org}: changes must be on distinct days within the period"
            )

    @classmethod
    def start(cls, org: str, plan: Plan, seats: int, today: date) -> Subscription:
        """A new subscription from `today`: a trial period first when the plan has one."""
        if plan.trial_days > 0:
            end = today + timedelta(days=plan.trial_days)
            status, trial_end = SubscriptionStatus.TRIALING, end
        else:
            end, status, trial_end = next_anchor(today, today.day), SubscriptionStatus.ACTIVE, None
        return cls(org, status, today, end, end.day, (PeriodChange(today, plan.name, seats),), trial_end)

    @property
    def plan(self) -> str | None:
        """The plan in effect now (the last change's)."""
        return self.history[-1].plan

    @property
    def seats(self) -> int:
        """The seats in effect now."""
        return self.history[-1].seats

    @property
    def ended(self) -> bool:
        """Canceled and its last period closed: nothing left to bill."""
        return self.period_start == self.period_end

    @property
    def days(self) -> int:
        """Days in the current period."""
        return (self.period_end - self.period_start).days

    def change(self, on: date, plan: str | None, seats: int) -> Subscription:
        """The subscription with `plan` and `seats` in effect from day `on` of the current period.

        A change on the same day as the previous one replaces it; a change to what is already in
        effect changes nothing. An ended subscription starts a new period on `on`.

        Raises:
            BillingError: `on` is outside the current period, or before the last change.
        """
        if self.ended:
            if plan is None:
                return self
            end = next_anchor(on, on.day)
            return Subscription(
                self.org, SubscriptionStatus.ACTIVE, on, end, end.day, (PeriodChange(on, plan, seats),)
            )
        if not self.period_start <= on < self.period_end:
            raise BillingError(
                f"{on} is outside the billing period of {self.org} "
                f"({self.period_start} to {self.period_end}); "
                "close the period first"
            )
        last = self.history[-1]
        if on < last.on:
            raise BillingError(f"{on} is before the last change of {self.org}'s subscription ({last.on})")
        if (plan, seats) == (last.plan, last.seats):
            return self
        if on > last.on:
            return _with(self, (*self.history, PeriodChange(on, plan, seats)))
        earlier = self.history[:-1]  # a second change on the same day replaces the first
        if earlier and (earlier[-1].plan, earlier[-1].seats) == (plan, seats):
            return _with(self, earlier)  # back to what it was that morning: no change at all
        return _with(self, (*earlier, PeriodChange(on, plan, seats)))

    def next_period(self) -> Subscription:
        """The subscription after its current period is closed: the next period, or ended when canceled."""
        end = self.period_end
        if self.plan is None:
            return Subscription(
                self.org,
                SubscriptionStatus.CANCELED,
                end,
                end,
                self.anchor_day,
                (PeriodChange(end, None, 0),),
            )
        return Subscription(
            self.org,
            SubscriptionStatus.ACTIVE,
            end,
            next_anchor(end, self.anchor_day),
            self.anchor_day,
            (PeriodChange(end, self.plan, self.seats),),
        )


def _with(sub: Subscription, history: tuple[PeriodChange, ...]) -> Subscription:
    status = sub.status
    if history[-1].plan is None:
        status = SubscriptionStatus.CANCELED
    elif status == SubscriptionStatus.CANCELED:
        status = SubscriptionStatus.ACTIVE
    return Subscription(
        sub.org, status, sub.period_start, sub.period_end, sub.anchor_day, history, sub.trial_end
    )


def next_anchor(after: date, anchor_day: int) -> date:
    """The anchor day of the month after `after`'s month (clamped: the 31st becomes the 30th or the 28th)."""
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def effective_status(sub: Subscription, overdue: bool, today: date) -> SubscriptionStatus:
    """What the subscription is today: canceled without a plan; past due while an invoice is overdue;
    trialing before the trial's end; else active."""
    if sub.plan is None:
        return SubscriptionStatus.CANCELED
    if overdue:
        return SubscriptionStatus.PAST_DUE
    if sub.trial_end is not None and today < sub.trial_end:
        return SubscriptionStatus.TRIALING
    return SubscriptionStatus.ACTIVE


__all__ = [
    "DEFAULT_GRACE_DAYS",
    "BillingBlocked",
    "BillingError",
    "CurrencyMismatch",
    "Money",
    "OveragePrices",
    "PeriodChange",
    "Plan",
    "PlanLimits",
    "QuotaExceeded",
    "Subscription",
    "SubscriptionStatus",
    "effective_status",
    "next_anchor",
]
