"""Invariants of billing arithmetic, for any prices, periods, plan histories and usage (hypothesis).

- a total is never negative, and the lines add up to it exactly;
- every amount on an invoice is in the invoice's currency; mixing currencies raises;
- pro-rating a full period gives the full price, and splitting a period creates no money;
- an invoice costs each plan for the days it was in effect, to the cent, plus overage (SMS beyond the
  allowance; seats of the metered peak beyond the most the history billed, for the full period).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulsewatch.domain.billing import (
    OveragePrices,
    PeriodChange,
    Plan,
    PlanLimits,
    Subscription,
    SubscriptionStatus,
)
from pulsewatch.domain.invoicing import PeriodUsage, build_invoice, prorate
from pulsewatch.domain.money import CurrencyMismatch, Money, total

CURRENCIES = st.sampled_from(["USD", "EUR", "JPY"])
CENTS = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
UNIT = st.integers(min_value=0, max_value=1_000_000).map(lambda c: Decimal(c).scaleb(-4))  # 0.0001 steps


@st.composite
def plans(draw: st.DrawFn, currency: str) -> dict[str, Plan]:
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True))
    found = {}
    for name in names:
        sms_price = draw(st.none() | UNIT)
        seat_price = draw(st.none() | CENTS)
        found[name] = Plan(
            name,
            Money(draw(CENTS), currency),
            PlanLimits(seats=draw(st.integers(1, 10)), sms_per_month=draw(st.none() | st.integers(0, 500))),
            OveragePrices(
                sms=None if sms_price is None else Money(sms_price, currency),
                seat=None if seat_price is None else Money(seat_price, currency),
            ),
        )
    return found


@st.composite
def billed_periods(draw: st.DrawFn) -> tuple[Subscription, dict[str, Plan], PeriodUsage, str]:
    currency = draw(CURRENCIES)
    plan_map = draw(plans(currency))
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
    days = draw(st.integers(min_value=1, max_value=62))
    offsets = [] if days == 1 else sorted(draw(st.sets(st.integers(1, days - 1), max_size=min(6, days - 1))))
    choices = [*plan_map, None]
    history = [PeriodChange(start, draw(st.sampled_from(list(plan_map))), draw(st.integers(0, 20)))]
    for k in offsets:
        plan = draw(st.sampled_from(choices))
        history.append(PeriodChange(start + timedelta(days=k), plan, draw(st.integers(0, 20)) if plan else 0))
    trial = draw(st.booleans())
    sub = Subscription(
        "acme",
        SubscriptionStatus.ACTIVE,
        start,
        start + timedelta(days=days),
        start.day,
        tuple(history),
        start + timedelta(days=days) if trial else None,
    )
    usage = PeriodUsage(
        probes=draw(st.integers(0, 10**9)),
        notifications={"sms": draw(st.integers(0, 2000))},
        seats=draw(st.integers(0, 30)),
    )
    return sub, plan_map, usage, currency


@settings(max_examples=300, deadline=None)
@given(billed_periods())
def test_totals_are_never_negative_and_lines_sum_to_them(
    case: tuple[Subscription, dict[str, Plan], PeriodUsage, str],
) -> None:
    sub, plan_map, usage, currency = case
    invoice = build_invoice(sub, plan_map, usage, number="n", currency=currency, issued_on=sub.period_end)
    assert invoice.total.amount >= 0
    assert total((line.amount for line in invoice.lines), currency) == invoice.total
    assert all(line.amount.currency == currency and line.amount.is_cents for line in invoice.lines)
    if sub.trial_end is not None:
        assert invoice.total.amount == 0


@settings(max_examples=300, deadline=None)
@given(billed_periods())
def test_each_plan_is_billed_for_its_own_days(
    case: tuple[Subscription, dict[str, Plan], PeriodUsage, str],
) -> None:
    sub, plan_map, usage, currency = case
    if sub.trial_end is not None:
        return
    invoice = build_invoice(sub, plan_map, usage, number="n", currency=currency, issued_on=sub.period_end)
    ends = [(c.on - sub.period_start).days for c in sub.history[1:]] + [sub.days]
    expected = Money.zero(currency)
    for change, end in zip(sub.history, ends, strict=True):
        start = (change.on - sub.period_start).days
        plan = plan_map.get(change.plan or "")
        if plan is not None:
            expected += prorate(plan.price, start, end, sub.days)
            expected += prorate(plan.seat_cost(change.seats).quantized(), start, end, sub.days)
    last = plan_map.get(sub.history[-1].plan or "")
    if last is not None and last.overage.sms is not None and last.limits.sms_per_month is not None:
        expected += (last.overage.sms * max(0, usage.sms - last.limits.sms_per_month)).quantized()
    if last is not None and last.overage.seat is not None:
        billed = max(last.extra_seats(c.seats) for c in sub.history)
        expected += (last.overage.seat * max(0, last.extra_seats(usage.seats) - billed)).quantized()
    assert invoice.total == expected


@given(CENTS, CURRENCIES, st.integers(min_value=1, max_value=400))
def test_a_full_period_is_the_full_price(amount: Decimal, currency: str, days: int) -> None:
    price = Money(amount, currency)
    assert prorate(price, 0, days, days) == price


@given(CENTS, st.integers(min_value=1, max_value=400), st.data())
def test_splitting_a_period_creates_no_money(amount: Decimal, days: int, data: st.DataObject) -> None:
    price = Money(amount, "USD")
    cuts = sorted(data.draw(st.sets(st.integers(min_value=0, max_value=days), max_size=20)) | {0, days})
    parts = [prorate(price, a, b, days) for a, b in itertools.pairwise(cuts)]
    assert total(parts, "USD") == price
    assert all(part.amount >= 0 for part in parts)


@given(CENTS, CENTS, st.sampled_from(["EUR", "JPY", "GBP"]))
def test_currencies_never_mix(a: Decimal, b: Decimal, other: str) -> None:
    with pytest.raises(CurrencyMismatch):
        Money(a, "USD") + Money(b, other)
    with pytest.raises(CurrencyMismatch):
        total([Money(a, "USD"), Money(b, other)], "USD")
