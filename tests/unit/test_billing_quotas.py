"""Quotas: the pure rules, and the config loader refusing a file beyond its plans, at the offending line."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pulsewatch.config import parse_config
from pulsewatch.config_billing import billing_config, require_within_plans
from pulsewatch.domain.billing import (
    OveragePrices,
    PeriodChange,
    Plan,
    PlanLimits,
    Subscription,
    SubscriptionStatus,
)
from pulsewatch.domain.monitoring import Check
from pulsewatch.domain.quotas import (
    channel_kind,
    check_violations,
    format_seconds,
    raw_retention,
    seat_refusal,
    sms_allowance,
)
from pulsewatch.errors import ConfigError
from tests.unit.billing_fakes import PLANS, usd


def check(name: str, interval: float = 60.0, notify: tuple[str, ...] = ()) -> Check:
    return Check(
        name=name, url=f"http://127.0.0.1/{name}", kind="http", org="acme", interval=interval, notify=notify
    )


class TestRawRetention:
    def test_only_a_running_plan_with_a_retention_says(self) -> None:
        plans = {
            "short": Plan("short", usd("9.00"), PlanLimits(retention_days=3)),
            "long": Plan("long", usd("99.00"), PlanLimits(retention_days=90)),
            "plain": Plan("plain", usd("19.00")),
        }
        march = date(2025, 3, 1)

        def sub(org: str, *history: tuple[int, str | None]) -> Subscription:
            changes = tuple(PeriodChange(date(2025, 3, day), plan, 1) for day, plan in history)
            return Subscription(org, SubscriptionStatus.ACTIVE, march, date(2025, 4, 1), 1, changes)

        subs = [
            sub("a", (1, "short")),
            sub("b", (1, "short"), (9, "long")),  # the plan in effect now counts
            sub("c", (1, "plain")),
            sub("d", (1, "long"), (9, None)),  # canceled
            sub("e", (1, "gone")),  # a plan no longer in the config
        ]
        assert raw_retention(subs, plans) == {"a": 3 * 86400.0, "b": 90 * 86400.0}


class TestCheckViolations:
    def test_within_the_plan_nothing_is_said(self) -> None:
        assert check_violations(PLANS["starter"], "acme", [check("a"), check("b", 120.0)]) == []

    def test_each_check_beyond_the_limit_is_named(self) -> None:
        found = check_violations(PLANS["starter"], "acme", [check(n) for n in "abcde"])
        assert [v.check for v in found] == [("acme", "d"), ("acme", "e")]
        assert found[0].message == "plan starter allows 3 checks; acme would have 5"

    def test_intervals_below_the_minimum(self) -> None:
        found = check_violations(PLANS["starter"], "acme", [check("a", 30.0), check("b", 0.5)])
        assert [(v.check, v.field) for v in found] == [
            (("acme", "a"), "interval"),
            (("acme", "b"), "interval"),
        ]
        assert found[0].message == "plan starter allows intervals of 1m or longer; a has 30s"
        assert found[1].message.endswith("b has 500ms")

    def test_the_channel_that_goes_one_too_far(self) -> None:
        checks = [check("a", notify=("ops", "mail")), check("b", notify=("mail", "sms", "pager"))]
        found = check_violations(PLANS["starter"], "acme", checks)
        assert [(v.check, v.field, v.index) for v in found] == [
            (("acme", "b"), "notify", 1),
            (("acme", "b"), "notify", 2),
        ]
        assert found[0].message == "plan starter allows 2 alert channels; acme would use 4"

    def test_an_unlimited_plan_limits_nothing(self) -> None:
        assert (
            check_violations(Plan("open", usd("0")), "acme", [check(str(i), 0.1) for i in range(500)]) == []
        )


@pytest.mark.parametrize(
    ("plan", "members", "refused"),
    [
        (PLANS["starter"], 3, None),
        (PLANS["starter"], 4, "plan starter allows 3 seats; acme would have 4 members"),
        (PLANS["free"], 2, "plan free allows 1 seat; acme would have 2 members"),
        (PLANS["team"], 50, None),  # team sells extra seats
    ],
)
def test_seats(plan: Plan, members: int, refused: str | None) -> None:
    assert seat_refusal(plan, "acme", members) == refused


@pytest.mark.parametrize(
    ("limits", "overage", "used", "wanted", "allowed"),
    [
        (PlanLimits(sms_per_month=10), OveragePrices(), 0, 3, 3),
        (PlanLimits(sms_per_month=10), OveragePrices(), 9, 3, 1),
        (PlanLimits(sms_per_month=10), OveragePrices(), 10, 1, 0),
        (PlanLimits(sms_per_month=10), OveragePrices(), 12, 1, 0),
        (PlanLimits(sms_per_month=10), OveragePrices(sms=usd("0.05")), 10, 4, 4),  # sold beyond the quota
        (PlanLimits(), OveragePrices(), 10_000, 2, 2),
    ],
)
def test_sms_allowance(
    limits: PlanLimits, overage: OveragePrices, used: int, wanted: int, allowed: int
) -> None:
    assert sms_allowance(Plan("p", usd("1.00"), limits, overage), used, wanted) == allowed


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("twilio://sid:token@15551234567/15557654321", "sms"),
        ("SNS://key/secret/us-east-1/+15551234567", "sms"),
        ("mailto://user:pass@example.com", "email"),
        ("json://127.0.0.1:9000/hook", "webhook"),
        ("slack://T0/B0/XX", "chat"),
        ("ntfy://topic", "push"),
        ("whatever://x", "other"),
        ("not a url", "other"),
    ],
)
def test_channel_kinds(url: str, kind: str) -> None:
    assert channel_kind(url) == kind


@pytest.mark.parametrize(
    ("seconds", "text"), [(30.0, "30s"), (90.0, "1m30s"), (0.25, "250ms"), (86400.0, "1d")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


CONFIG = """\
plans:
  - name: starter
    price: 19.00 USD
    limits: {checks: 2, min_interval: 60s, seats: 2, channels: 1, sms: 10}
    grace: 7d
  - name: team
    price: 49.00 USD
    limits: {checks: 10, seats: 5, retention: 30d}
    overage: {sms: 0.0075 USD, seat: 5.00 USD}
    trial: 14d
channels:
  - name: ops
    urls: ["json://127.0.0.1:9/x"]
  - name: pager
    urls: ["twilio://a:b@15551234567/15557654321"]
organizations:
  - slug: acme
    plan: starter
    members: [{email: ana@acme.test, role: owner}, {email: bo@acme.test}]
    teams: [{name: web, members: [{email: cy@acme.test}, {email: ana@acme.test}]}]
checks:
  - name: a
    url: http://127.0.0.1/a
    interval: 30s
    notify: [ops, pager]
  - name: b
    url: http://127.0.0.1/b
  - name: c
    url: http://127.0.0.1/c
"""


class TestConfig:
    def test_every_violation_is_reported_at_its_line(self) -> None:
        config = parse_config(CONFIG, source="billing.yaml")  # loading alone does not refuse them
        with pytest.raises(ConfigError) as caught:
            require_within_plans(replace(config, path=Path("billing.yaml")))
        assert caught.value.problems == [
            "billing.yaml:20:43: organizations[0].teams[0].members[0].email: plan starter allows 2 seats; "
            "acme would have 3 members",
            "billing.yaml:24:15: checks[0].interval: plan starter allows intervals of 1m or longer; "
            "a has 30s",
            "billing.yaml:25:19: checks[0].notify[1]: plan starter allows 1 alert channel; acme would use 2",
            "billing.yaml:28:11: checks[2].name: plan starter allows 2 checks; acme would have 3",
        ]

    def test_within_its_plan_the_file_loads_and_plans_convert(self) -> None:
        text = CONFIG.replace("plan: starter", "plan: team")
        config = parse_config(text, source="billing.yaml")
        require_within_plans(config)
        plans = billing_config(config)
        assert plans.currency == "USD"
        team = plans.plans["team"]
        assert team.price == usd("49.00")
        assert team.overage.sms == usd("0.0075")
        assert (team.trial_days, team.grace_days, team.limits.retention_days) == (14, 14, 30)
        assert plans.plans["starter"].grace_days == 7
        assert plans.plans["starter"].limits.channels == 1

    @pytest.mark.parametrize(
        ("find", "replace", "problem"),
        [
            (
                "price: 49.00 USD",
                "price: 49.00 EUR",
                "plans[1].price: every plan must use one currency: EUR here",
            ),
            ("seat: 5.00 USD", "seat: 5.00 GBP", "plans[1].overage.seat: every plan must use one currency"),
            ("trial: 14d", "trial: 36h", "plans[1].trial: expected whole days"),
            ("retention: 30d", "retention: 36h", "plans[1].limits.retention: expected whole days"),
            (
                "price: 19.00 USD",
                "price: 19.005 USD",
                "plans[0]: plan starter: the price must be whole cents",
            ),
            ("price: 19.00 USD", "price: 19.00", "plans[0].price: expected an amount and a currency code"),
        ],
    )
    def test_plans_that_cannot_be_billed(self, find: str, replace: str, problem: str) -> None:
        text = CONFIG.replace("plan: starter", "plan: team").replace(find, replace)
        with pytest.raises(ConfigError) as caught:
            parse_config(textwrap.dedent(text), source="f.yaml")
        assert any(problem in p for p in caught.value.problems), caught.value.problems

    def test_no_plans_no_limits(self) -> None:
        text = "checks:\n" + "".join(
            f"  - name: c{i}\n    url: http://127.0.0.1/{i}\n    interval: 1s\n" for i in range(60)
        )
        config = parse_config(text, source="f.yaml")
        assert billing_config(config).plans == {}
        assert billing_config(config).currency == "USD"
        assert Decimal("0") == Decimal(0)
