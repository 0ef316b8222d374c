"""Billing arithmetic, table-driven: money and rounding, pro-rating, subscriptions, invoices, overage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pulsewatch.domain.billing import (
    OveragePrices,
    PeriodChange,
    Plan,
    PlanLimits,
    Subscription,
    SubscriptionStatus,
    effective_status,
    next_anchor,
)
from pulsewatch.domain.invoicing import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    PeriodUsage,
    build_invoice,
    prorate,
)
from pulsewatch.domain.money import BillingError, CurrencyMismatch, Money, total
from tests.unit.billing_fakes import PLANS, usd

D = date.fromisoformat


class TestMoney:
    @pytest.mark.parametrize(
        ("amount", "cents"),
        [
            ("0.005", "0.01"),
            ("0.004999", "0.00"),
            ("1.015", "1.02"),
            ("1.025", "1.03"),  # half up, not half even (banker's rounding would say 1.02)
            ("-0.005", "-0.01"),
            ("-1.015", "-1.02"),
            ("19", "19.00"),
            ("2.675", "2.68"),  # as float this is 2.67499999…: Decimal keeps what was written
        ],
    )
    def test_quantized_rounds_half_up_to_cents(self, amount: str, cents: str) -> None:
        assert usd(amount).quantized().amount == Decimal(cents)
        assert str(usd(amount).quantized().amount) == cents

    def test_floats_are_refused(self) -> None:
        with pytest.raises(BillingError, match="Decimal"):
            Money(0.1, "USD")  # type: ignore[arg-type]
        with pytest.raises(BillingError, match="Decimal"):
            Money(Decimal("NaN"), "USD")

    @pytest.mark.parametrize("currency", ["usd", "US", "EURO", ""])
    def test_currency_is_three_capitals(self, currency: str) -> None:
        with pytest.raises(BillingError, match="currency"):
            Money(Decimal(1), currency)

    def test_arithmetic_is_exact(self) -> None:
        assert usd("0.10") + usd("0.20") == usd("0.30")
        assert usd("0.0075") * 3 == usd("0.0225")
        assert -usd("1.50") == usd("-1.50")
        assert total([usd("1.10"), usd("2.20")], "USD") == usd("3.30")
        assert total([], "EUR") == Money.zero("EUR")

    @pytest.mark.parametrize(
        "combine",
        [
            lambda a, b: a + b,
            lambda a, b: a - b,
            lambda a, b: a < b,
            lambda a, b: a <= b,
            lambda a, b: total([a, b], "USD"),
        ],
    )
    def test_currencies_never_mix(self, combine: object) -> None:
        with pytest.raises(CurrencyMismatch):
            combine(usd("1.00"), Money(Decimal("1.00"), "EUR"))  # type: ignore[operator]

    def test_the_config_uses_the_domain_money(self) -> None:
        from pulsewatch.config import Money as ConfigMoney

        assert ConfigMoney is Money
        assert str(usd("19.00")) == "19.00 USD"


class TestProration:
    @pytest.mark.parametrize(
        ("price", "start", "end", "days", "expected"),
        [
            ("30.00", 0, 30, 30, "30.00"),  # a full period is the full price
            ("30.00", 15, 30, 30, "15.00"),
            ("19.00", 10, 31, 31, "12.87"),  # 19 × 31/31 − 19 × 10/31 = 19.00 − 6.13
            ("19.00", 0, 10, 31, "6.13"),
            ("10.00", 0, 1, 3, "3.33"),
            ("10.00", 1, 2, 3, "3.34"),  # cumulative: 6.67 − 3.33
            ("10.00", 2, 3, 3, "3.33"),
            ("0.01", 0, 1, 2, "0.01"),  # 0.005 rounds up…
            ("0.01", 1, 2, 2, "0.00"),  # …so the second half is what is left: never more than the price
            ("49.00", 7, 7, 30, "0.00"),
        ],
    )
    def test_cumulative_to_the_day(self, price: str, start: int, end: int, days: int, expected: str) -> None:
        assert prorate(usd(price), start, end, days) == usd(expected)

    @pytest.mark.parametrize(("start", "end", "days"), [(-1, 3, 30), (5, 4, 30), (0, 31, 30), (0, 0, 0)])
    def test_impossible_days_are_refused(self, start: int, end: int, days: int) -> None:
        with pytest.raises(BillingError):
            prorate(usd("1.00"), start, end, days)


def march(*changes: tuple[str, str | None, int]) -> Subscription:
    """A March 2025 period (31 days) starting on starter with 3 seats, then `changes`."""
    history = (
        PeriodChange(D("2025-03-01"), "starter", 3),
        *(PeriodChange(D(d), p, s) for d, p, s in changes),
    )
    return Subscription("acme", SubscriptionStatus.ACTIVE, D("2025-03-01"), D("2025-04-01"), 1, history)


def team_march(seats: int, *changes: tuple[str, str | None, int]) -> Subscription:
    """March 2025 on team (5 seats included, 5.00 per extra seat) with `seats`, then `changes`."""
    first = PeriodChange(D("2025-03-01"), "team", seats)
    history = (first, *(PeriodChange(D(d), p, s) for d, p, s in changes))
    return Subscription("acme", SubscriptionStatus.ACTIVE, D("2025-03-01"), D("2025-04-01"), 1, history)


def lines_of(sub: Subscription, sms: int = 0) -> list[tuple[str, str]]:
    invoice = build_invoice(
        sub,
        PLANS,
        PeriodUsage(notifications={"sms": sms}),
        number="n",
        currency="USD",
        issued_on=sub.period_end,
    )
    assert total((line.amount for line in invoice.lines), "USD") == invoice.total
    return [(line.kind.value, str(line.amount.amount)) for line in invoice.lines]


class TestInvoiceLines:
    @pytest.mark.parametrize(
        ("sub", "sms", "expected"),
        [
            (march(), 0, [("plan fee", "19.00")]),
            (march(), 10, [("plan fee", "19.00")]),  # the whole allowance, no overage
            (march(), 11, [("plan fee", "19.00")]),  # starter sells no SMS beyond it: fallback, not overage
            (
                march(("2025-03-11", "team", 3)),  # upgrade on day 10 of 31: 21 days left
                0,
                [("plan fee", "19.00"), ("proration credit", "-12.87"), ("proration charge", "33.19")],
            ),
            (
                march(("2025-03-11", "team", 3)),
                120,
                [
                    ("plan fee", "19.00"),
                    ("proration credit", "-12.87"),
                    ("proration charge", "33.19"),
                    ("overage", "1.00"),  # 20 SMS beyond team's 100, at 0.05
                ],
            ),
            (
                march(("2025-03-11", "team", 7)),  # and 2 extra seats at 5.00 for 21 of 31 days
                0,
                [
                    ("plan fee", "19.00"),
                    ("proration credit", "-12.87"),
                    ("proration charge", "33.19"),
                    ("proration charge", "6.77"),
                ],
            ),
            (
                march(("2025-03-21", None, 0)),
                0,
                [("plan fee", "19.00"), ("proration credit", "-6.74")],
            ),  # cancel
            (
                march(("2025-03-11", "team", 3), ("2025-03-21", "starter", 3)),  # up and back down
                0,
                [
                    ("plan fee", "19.00"),
                    ("proration credit", "-12.87"),
                    ("proration charge", "33.19"),
                    ("proration credit", "-17.39"),
                    ("proration charge", "6.74"),
                ],
            ),
        ],
    )
    def test_lines(self, sub: Subscription, sms: int, expected: list[tuple[str, str]]) -> None:
        assert lines_of(sub, sms) == expected

    @pytest.mark.parametrize(
        ("sub", "peak", "expected"),
        [
            # team includes 5 seats and sells more at 5.00; starter sells none.
            (march(), 9, [("plan fee", "19.00")]),  # a hard seat limit: nothing to bill beyond it
            (team_march(5), 0, [("plan fee", "49.00")]),  # nothing metered: the history stands
            (team_march(5), 5, [("plan fee", "49.00")]),
            (team_march(5), 7, [("plan fee", "49.00"), ("overage", "10.00")]),  # 2 unrecorded, full period
            (team_march(7), 7, [("plan fee", "49.00"), ("plan fee", "10.00")]),  # billed already: never twice
            (team_march(7), 8, [("plan fee", "49.00"), ("plan fee", "10.00"), ("overage", "5.00")]),
            (  # 2 extra seats from day 21: the peak of 7 was billed pro-rata by the history
                team_march(5, ("2025-03-21", "team", 7)),
                7,
                [("plan fee", "49.00"), ("proration charge", "3.55")],
            ),
            (  # the history's most extra seats (2) count, whichever day they were billed from
                team_march(5, ("2025-03-21", "team", 7)),
                9,
                [("plan fee", "49.00"), ("proration charge", "3.55"), ("overage", "10.00")],
            ),
            (  # canceled on the 21st: no plan left to sell seats at
                team_march(5, ("2025-03-21", None, 0)),
                9,
                [("plan fee", "49.00"), ("proration credit", "-17.39")],
            ),
        ],
    )
    def test_seats_beyond_those_billed_at_the_metered_peak(
        self, sub: Subscription, peak: int, expected: list[tuple[str, str]]
    ) -> None:
        invoice = build_invoice(
            sub, PLANS, PeriodUsage(seats=peak), number="n", currency="USD", issued_on=sub.period_end
        )
        assert total((line.amount for line in invoice.lines), "USD") == invoice.total
        assert [(line.kind.value, str(line.amount.amount)) for line in invoice.lines] == expected

    def test_a_month_on_two_plans_costs_each_for_its_days(self) -> None:
        sub = march(("2025-03-11", "team", 3))
        invoice = build_invoice(
            sub, PLANS, PeriodUsage(), number="n", currency="USD", issued_on=D("2025-04-01")
        )
        assert invoice.total == prorate(usd("19.00"), 0, 10, 31) + prorate(usd("49.00"), 10, 31, 31)
        assert invoice.total == usd("39.32")
        assert invoice.due_on == D("2025-04-15")  # team's 14 days of grace

    def test_a_trial_period_is_waived(self) -> None:
        sub = Subscription.start("acme", PLANS["trial"], 2, D("2025-03-05"))
        assert (sub.status, sub.period_end, sub.trial_end) == (
            SubscriptionStatus.TRIALING,
            D("2025-03-19"),
            D("2025-03-19"),
        )
        assert lines_of(sub) == [("plan fee", "29.00"), ("credit", "-29.00")]

    def test_a_plan_gone_from_the_config_is_named(self) -> None:
        with pytest.raises(BillingError, match="plan gold is no longer declared"):
            lines_of(march(("2025-03-11", "gold", 3)))

    def test_lines_must_be_cents_and_one_currency(self) -> None:
        with pytest.raises(BillingError, match="cents"):
            InvoiceLine(LineKind.OVERAGE, "x", usd("0.005"))
        line = InvoiceLine(LineKind.OVERAGE, "x", Money(Decimal("1.00"), "EUR"))
        with pytest.raises(CurrencyMismatch):
            Invoice(
                "n",
                "acme",
                D("2025-03-01"),
                D("2025-04-01"),
                "USD",
                (line,),
                InvoiceStatus.OPEN,
                D("2025-04-01"),
                D("2025-04-15"),
            )


class TestPlans:
    def test_overage_in_another_currency_is_refused(self) -> None:
        with pytest.raises(CurrencyMismatch, match="SMS price"):
            Plan("p", usd("1.00"), overage=OveragePrices(sms=Money(Decimal("0.05"), "EUR")))

    @pytest.mark.parametrize("price", ["-1.00", "1.005"])
    def test_a_price_is_whole_cents_not_negative(self, price: str) -> None:
        with pytest.raises(BillingError, match="whole cents"):
            Plan("p", usd(price))

    @pytest.mark.parametrize(
        ("plan", "seats", "limit", "extra", "cost"),
        [
            (PLANS["starter"], 5, 3, 0, "0"),  # no seat price: 3 is the most
            (PLANS["team"], 5, None, 0, "0"),
            (PLANS["team"], 8, None, 3, "15.00"),
            (Plan("open", usd("1.00")), 50, None, 0, "0"),
        ],
    )
    def test_seats(self, plan: Plan, seats: int, limit: int | None, extra: int, cost: str) -> None:
        assert plan.seat_limit == limit
        assert plan.extra_seats(seats) == extra
        assert plan.seat_cost(seats).amount == Decimal(cost)


class TestSubscriptions:
    @pytest.mark.parametrize(
        ("after", "anchor", "expected"),
        [
            ("2025-01-31", 31, "2025-02-28"),
            ("2025-02-28", 31, "2025-03-31"),
            ("2024-01-31", 31, "2024-02-29"),
            ("2025-12-15", 15, "2026-01-15"),
            ("2025-03-19", 19, "2025-04-19"),
        ],
    )
    def test_periods_end_on_the_anchor_day(self, after: str, anchor: int, expected: str) -> None:
        assert next_anchor(D(after), anchor) == D(expected)

    def test_changes_on_one_day_replace_each_other(self) -> None:
        sub = march().change(D("2025-03-11"), "team", 3).change(D("2025-03-11"), "free", 3)
        assert [c.plan for c in sub.history] == ["starter", "free"]
        back = sub.change(D("2025-03-11"), "starter", 3)  # back to the morning's plan: no change at all
        assert back.history == march().history

    def test_the_same_plan_again_changes_nothing(self) -> None:
        assert march().change(D("2025-03-20"), "starter", 3) == march()

    @pytest.mark.parametrize("day", ["2025-02-28", "2025-04-01", "2025-03-05"])
    def test_changes_outside_the_period_or_before_the_last_are_refused(self, day: str) -> None:
        with pytest.raises(BillingError):
            march(("2025-03-10", "team", 3)).change(D(day), "free", 1)

    def test_a_canceled_subscription_ends_with_its_period(self) -> None:
        canceled = march().change(D("2025-03-21"), None, 0)
        assert canceled.status == SubscriptionStatus.CANCELED
        ended = canceled.next_period()
        assert ended.ended
        assert ended.plan is None
        restarted = ended.change(D("2025-05-07"), "team", 2)
        assert (restarted.period_start, restarted.period_end, restarted.status) == (
            D("2025-05-07"),
            D("2025-06-07"),
            SubscriptionStatus.ACTIVE,
        )

    def test_the_next_period_keeps_plan_seats_and_anchor(self) -> None:
        nxt = march(("2025-03-11", "team", 7)).next_period()
        assert (nxt.period_start, nxt.period_end, nxt.history) == (
            D("2025-04-01"),
            D("2025-05-01"),
            (PeriodChange(D("2025-04-01"), "team", 7),),
        )

    @pytest.mark.parametrize(
        ("overdue", "today", "expected"),
        [
            (False, "2025-03-10", SubscriptionStatus.TRIALING),
            (False, "2025-03-19", SubscriptionStatus.ACTIVE),
            (True, "2025-03-10", SubscriptionStatus.PAST_DUE),
        ],
    )
    def test_effective_status(self, overdue: bool, today: str, expected: SubscriptionStatus) -> None:
        sub = Subscription.start("acme", PLANS["trial"], 1, D("2025-03-05"))
        assert effective_status(sub, overdue, D(today)) == expected
        assert (
            effective_status(march(("2025-03-02", None, 0)), overdue, D(today)) == SubscriptionStatus.CANCELED
        )

    def test_an_invoice_is_overdue_after_its_due_day(self) -> None:
        invoice = build_invoice(
            march(), PLANS, PeriodUsage(), number="n", currency="USD", issued_on=D("2025-04-01")
        )
        assert not invoice.overdue(D("2025-04-15"))
        assert invoice.overdue(D("2025-04-16"))
        from dataclasses import replace

        assert not replace(invoice, status=InvoiceStatus.PAID).overdue(D("2025-05-01"))


def test_plan_limits_default_to_unlimited() -> None:
    assert PlanLimits() == PlanLimits(None, None, None, None, None, None)
