"""The billing use cases and gates over in-memory stores: who may, what is billed, what is refused."""

from __future__ import annotations

from datetime import date

import pytest

from pulsewatch.domain.accounts import Actor, Membership, PermissionDenied, Role, User
from pulsewatch.domain.billing import BillingBlocked, QuotaExceeded, SubscriptionStatus
from pulsewatch.domain.invoicing import InvoiceStatus, LineKind
from pulsewatch.domain.money import BillingError
from pulsewatch.domain.monitoring import Check
from pulsewatch.errors import NotFoundError
from pulsewatch.services.accounts import Accounts
from pulsewatch.services.billing import Billing
from pulsewatch.services.billing_gates import BillingGates
from tests.unit.accounts_fakes import MemoryAccountsStore, cheap_hasher
from tests.unit.billing_fakes import PLANS, MemoryBillingStore, accounts_with, at, usd

D = date.fromisoformat
SYSTEM = Actor.for_system("config")


def checks(n: int, org: str = "acme", interval: float = 60.0) -> list[Check]:
    return [
        Check(name=f"c{i}", url=f"http://127.0.0.1/{i}", kind="http", org=org, interval=interval)
        for i in range(n)
    ]


class World:
    def __init__(self, plan: str | None = "starter", members: int = 2, n_checks: int = 2) -> None:
        self.accounts: MemoryAccountsStore = accounts_with(plan=plan, members=members)
        self.store = MemoryBillingStore(checks(n_checks))
        self.billing = Billing(self.store, self.accounts, PLANS, "USD")
        self.gates = BillingGates(self.store, self.accounts, PLANS)

    def owner(self) -> Actor:
        return Actor("owner@acme.test", tuple(self.accounts.memberships_of("owner@acme.test")))

    def member(self) -> Actor:
        return Actor("m1@acme.test", tuple(self.accounts.memberships_of("m1@acme.test")))

    def subscribe(self, plan: str = "starter", day: str = "2025-03-01") -> None:
        assert self.billing.sync_plans({"acme": plan}, at(day)) == [
            f"~ subscription acme: no plan → {plan} from {day}"
        ]


@pytest.fixture
def world() -> World:
    return World()


class TestSubscribing:
    def test_config_apply_starts_a_subscription_from_today(self, world: World) -> None:
        world.subscribe()
        sub = world.store.subs["acme"]
        assert (sub.plan, sub.seats, sub.period_start, sub.period_end) == (
            "starter",
            2,
            D("2025-03-01"),
            D("2025-04-01"),
        )
        assert world.accounts.audit[-1].action == "billing.plan"

    def test_a_plan_change_in_the_file_is_pro_rated(self, world: World) -> None:
        world.subscribe()
        lines = world.billing.sync_plans({"acme": "team"}, at("2025-03-11"))
        assert lines == ["~ subscription acme: starter → team from 2025-03-11 (pro-rated)"]
        assert [c.plan for c in world.store.subs["acme"].history] == ["starter", "team"]
        assert world.billing.sync_plans({"acme": "team"}, at("2025-03-12")) == []

    def test_a_plan_the_organization_does_not_fit_is_refused_whole(self, world: World) -> None:
        world.subscribe()
        world.store.checks = checks(3, interval=120.0)
        with pytest.raises(QuotaExceeded, match="plan free allows 2 checks; acme would have 3") as caught:
            world.billing.sync_plans({"acme": "free"}, at("2025-03-11"))
        assert "plan free allows 1 seat; acme would have 2 members" in caught.value.violations
        assert "plan free allows intervals of 5m or longer; c0 has 2m" in caught.value.violations
        assert world.store.subs["acme"].plan == "starter"

    def test_a_trial_plan_starts_with_a_free_trial(self, world: World) -> None:
        world.subscribe("trial")
        overview = world.billing.overview(SYSTEM, "acme", at("2025-03-05"))
        assert overview.status == SubscriptionStatus.TRIALING
        assert overview.projected is not None
        assert overview.projected.total == usd("0.00")


class TestOverview:
    def test_everything_the_billing_screen_shows(self, world: World) -> None:
        world.subscribe()
        world.store.add_usage(
            [
                ("acme", D("2025-03-02"), "probes", 1440),
                ("acme", D("2025-03-02"), "notifications.sms", 4),
                ("acme", D("2025-03-03"), "notifications.email", 2),
                ("acme", D("2025-04-01"), "probes", 9),
            ]
        )
        o = world.billing.overview(world.owner(), "acme", at("2025-03-15"))
        assert o.plan is PLANS["starter"]
        assert o.status == SubscriptionStatus.ACTIVE
        assert {m.name: (m.used, m.limit) for m in o.meters} == {
            "checks": (2, 3),
            "seats": (2, 3),
            "channels": (0, 2),
            "sms": (4, 10),
            "probes": (1440, None),
        }
        assert o.notifications == {"sms": 4, "email": 2}
        assert o.projected is not None
        assert o.projected.status == InvoiceStatus.DRAFT
        assert o.projected.total == usd("19.00")
        assert (o.invoices, o.blocked) == ((), None)

    @pytest.mark.parametrize(
        ("metered", "expected"),
        [
            ({}, 2),  # nothing metered yet (today before the engines' first pass): the members now
            ({"2025-03-02": 1}, 2),  # the metered days were lower: today's members are the peak
            ({"2025-03-02": 5, "2025-03-09": 3}, 5),  # two people left since the peak on the 2nd
            ({"2025-02-27": 9, "2025-04-01": 9}, 2),  # days outside the period do not count
        ],
    )
    def test_seats_are_the_period_peak_of_what_the_engines_metered(
        self, world: World, metered: dict[str, int], expected: int
    ) -> None:
        world.subscribe()
        for day, seats in metered.items():
            world.store.record_seats("acme", D(day), seats)
        o = world.billing.overview(world.owner(), "acme", at("2025-03-15"))
        assert {m.name: m.used for m in o.meters}["seats"] == expected

    def test_the_projected_invoice_bills_seats_beyond_those_recorded(self) -> None:
        world = World(plan="team", members=5)
        world.subscribe("team")
        world.store.record_seats("acme", D("2025-03-04"), 7)
        o = world.billing.overview(world.owner(), "acme", at("2025-03-15"))
        assert o.projected is not None
        assert [(line.kind, line.amount) for line in o.projected.lines] == [
            (LineKind.PLAN_FEE, usd("49.00")),
            (LineKind.OVERAGE, usd("10.00")),  # 2 seats beyond team's 5, at 5.00
        ]

    def test_only_owners_see_billing(self, world: World) -> None:
        world.subscribe()
        with pytest.raises(PermissionDenied, match=r"m1@acme\.test is a member in .* may not manage billing"):
            world.billing.overview(world.member(), "acme", at("2025-03-15"))

    def test_an_unknown_organization(self, world: World) -> None:
        with pytest.raises(NotFoundError, match="no organization nope"):
            world.billing.overview(SYSTEM, "nope", at("2025-03-15"))


class TestClosingAndPaying:
    def test_nothing_closes_before_the_period_ends(self, world: World) -> None:
        world.subscribe()
        assert world.billing.close_period(world.owner(), "acme", at("2025-03-31")) == []

    def test_closing_issues_one_invoice_per_ended_period(self, world: World) -> None:
        world.subscribe()
        world.billing.change_plan(world.owner(), "acme", "team", at("2025-03-11"))
        world.store.add_usage([("acme", D("2025-03-20"), "notifications.sms", 130)])
        issued = world.billing.close_period(world.owner(), "acme", at("2025-05-02"))
        assert [(i.number, i.period_start, i.total) for i in issued] == [
            ("INV-acme-0001", D("2025-03-01"), usd("40.82")),  # 19.00 − 12.87 + 33.19 + 30 SMS × 0.05
            ("INV-acme-0002", D("2025-04-01"), usd("49.00")),
        ]
        assert [line.kind for line in issued[0].lines][-1] == LineKind.OVERAGE
        assert world.store.subs["acme"].period_start == D("2025-05-01")
        assert [e.action for e in world.accounts.audit].count("billing.invoice") == 2
        assert world.billing.close_period(world.owner(), "acme", at("2025-05-02")) == []

    def test_an_unpaid_invoice_past_its_grace_makes_it_past_due(self, world: World) -> None:
        world.subscribe()
        (invoice,) = world.billing.close_period(world.owner(), "acme", at("2025-04-01"))
        assert invoice.due_on == D("2025-04-15")
        world.gates.require_editable("acme", D("2025-04-15"))  # the last day of grace
        with pytest.raises(
            BillingBlocked,
            match=r"acme is past due: invoice INV-acme-0001 \(19\.00 USD\) was due "
            "on 2025-04-15; its checks keep running",
        ):
            world.gates.require_editable("acme", D("2025-04-16"))
        assert world.billing.overview(SYSTEM, "acme", at("2025-04-16")).status == SubscriptionStatus.PAST_DUE
        paid = world.billing.mark_paid(world.owner(), "INV-acme-0001", at("2025-04-20"))
        assert (paid.status, paid.paid_on, paid.paid_by) == (
            InvoiceStatus.PAID,
            D("2025-04-20"),
            "owner@acme.test",
        )
        world.gates.require_editable("acme", D("2025-04-20"))
        assert world.billing.overview(SYSTEM, "acme", at("2025-04-20")).status == SubscriptionStatus.ACTIVE
        with pytest.raises(BillingError, match="already paid"):
            world.billing.mark_paid(world.owner(), "INV-acme-0001", at("2025-04-21"))

    def test_paying_needs_billing_rights_in_the_invoice_organization(self, world: World) -> None:
        world.subscribe()
        world.billing.close_period(SYSTEM, "acme", at("2025-04-01"))
        with pytest.raises(PermissionDenied):
            world.billing.mark_paid(world.member(), "INV-acme-0001", at("2025-04-02"))
        with pytest.raises(NotFoundError):
            world.billing.mark_paid(world.owner(), "INV-acme-9999", at("2025-04-02"))

    def test_no_dates_in_the_future(self, world: World) -> None:
        world.subscribe()
        with pytest.raises(BillingError, match="in the future"):
            world.billing.close_period(world.owner(), "acme", at("2025-03-02"), on=D("2025-04-01"))


class TestChangingPlans:
    def test_a_change_updates_the_organization_and_the_audit_log(self, world: World) -> None:
        world.subscribe()
        sub = world.billing.change_plan(world.owner(), "acme", "team", at("2025-03-20"), on=D("2025-03-11"))
        assert sub.history[-1].on == D("2025-03-11")
        org = world.accounts.get_organization("acme")
        assert org is not None
        assert org.plan == "team"
        entry = world.accounts.audit[-1]
        assert (entry.actor, entry.action, entry.before, entry.after) == (
            "owner@acme.test",
            "billing.plan",
            {"plan": "starter"},
            {"plan": "team", "from": "2025-03-11"},
        )

    def test_a_downgrade_below_what_is_used_is_refused(self, world: World) -> None:
        world.subscribe()
        with pytest.raises(QuotaExceeded, match="plan free allows 1 seat; acme would have 2 members"):
            world.billing.change_plan(world.owner(), "acme", "free", at("2025-03-20"))
        assert world.store.subs["acme"].plan == "starter"

    def test_unknown_plans_are_named(self, world: World) -> None:
        with pytest.raises(
            BillingError, match="no plan gold in the config \\(declared plans: free, starter, team, trial\\)"
        ):
            world.billing.change_plan(world.owner(), "acme", "gold", at("2025-03-20"))

    def test_members_may_not_change_plans(self, world: World) -> None:
        world.subscribe()
        with pytest.raises(PermissionDenied):
            world.billing.change_plan(world.member(), "acme", "team", at("2025-03-20"))

    def test_canceling_credits_the_rest_of_the_period(self, world: World) -> None:
        world.subscribe()
        world.billing.change_plan(world.owner(), "acme", None, at("2025-03-21"))
        (invoice,) = world.billing.close_period(world.owner(), "acme", at("2025-04-01"))
        assert invoice.total == usd("12.26")
        assert world.store.subs["acme"].ended
        assert world.billing.close_period(world.owner(), "acme", at("2025-06-01")) == []


class TestSeats:
    def accounts(self, world: World) -> Accounts:
        return Accounts(world.accounts, cheap_hasher(), seat_gate=world.gates.admit_member)

    def test_a_member_beyond_the_seats_is_refused_by_user_add(self, world: World) -> None:
        world.subscribe()
        accounts = self.accounts(world)
        accounts.add_user(world.owner(), "new@acme.test", org="acme", role=Role.MEMBER, now=at("2025-03-05"))
        with pytest.raises(QuotaExceeded, match="plan starter allows 3 seats; acme would have 4 members"):
            accounts.invite(world.owner(), "acme", "more@acme.test", Role.MEMBER, now=at("2025-03-05"))
        assert world.accounts.get_user("more@acme.test") is None  # nothing was written

    def test_a_team_role_for_a_member_takes_no_seat(self, world: World) -> None:
        world = World(members=3)
        world.subscribe()
        from pulsewatch.domain.accounts import Team

        world.accounts.save_team(Team("acme", "web"))
        self.accounts(world).add_user(
            world.owner(), "m1@acme.test", org="acme", team="web", role=Role.MEMBER, now=at("2025-03-05")
        )

    def test_extra_seats_are_billed_from_the_day_they_are_taken(self) -> None:
        world = World(plan="team", members=5)
        world.subscribe("team")
        self.accounts(world).add_user(
            world.owner(), "six@acme.test", org="acme", role=Role.VIEWER, now=at("2025-03-11")
        )
        assert world.store.subs["acme"].seats == 6
        (invoice,) = world.billing.close_period(world.owner(), "acme", at("2025-04-01"))
        assert [(line.kind, str(line.amount.amount)) for line in invoice.lines] == [
            (LineKind.PLAN_FEE, "49.00"),
            (LineKind.PRORATION_CHARGE, "3.39"),  # 5.00 × 21 of 31 days
        ]

    def test_past_due_blocks_new_members(self, world: World) -> None:
        world.subscribe()
        world.billing.close_period(world.owner(), "acme", at("2025-04-01"))
        with pytest.raises(BillingBlocked):
            self.accounts(world).add_user(
                world.owner(), "x@acme.test", org="acme", role=Role.MEMBER, now=at("2025-04-30")
            )

    def test_an_organization_without_a_plan_is_not_limited(self) -> None:
        world = World(plan=None, members=1)
        for i in range(5):
            self.accounts(world).add_user(
                world.owner(), f"p{i}@acme.test", org="acme", role=Role.MEMBER, now=at("2025-03-05")
            )


class TestConfigGuard:
    def test_a_past_due_organization_refuses_config_changes(self, world: World) -> None:
        world.subscribe()
        world.billing.close_period(world.owner(), "acme", at("2025-04-01"))
        world.gates.guard_config([], {}, {}, D("2025-04-30"))  # nothing of acme changes: fine
        with pytest.raises(BillingBlocked, match="organization acme is past due"):
            world.gates.guard_config(["acme"], {}, {}, D("2025-04-30"))

    def test_members_in_the_database_and_the_file_count_together(self, world: World) -> None:
        world.accounts.save_user(User("cli@acme.test"))
        world.accounts.save_membership(Membership("cli@acme.test", "acme", Role.MEMBER))
        world.gates.guard_config(
            [], {"acme": {"owner@acme.test", "m1@acme.test"}}, {"acme": "starter"}, D("2025-03-01")
        )
        with pytest.raises(QuotaExceeded, match="plan starter allows 3 seats; acme would have 4 members"):
            world.gates.guard_config([], {"acme": {"new@acme.test"}}, {"acme": "starter"}, D("2025-03-01"))


class TestChecksOutsideTheFile:
    """The REST API creates checks the file does not list: they count against the same plan."""

    def test_a_check_beyond_the_plan_is_refused(self, world: World) -> None:
        world.gates.admit_checks("acme", checks(3), at("2025-03-01"))
        with pytest.raises(QuotaExceeded, match="plan starter allows 3 checks; acme would have 4"):
            world.gates.admit_checks("acme", checks(4), at("2025-03-01"))
        with pytest.raises(QuotaExceeded, match="plan starter allows intervals of 1m or longer; c0 has 10s"):
            world.gates.admit_checks("acme", checks(1, interval=10.0), at("2025-03-01"))

    def test_past_due_refuses_them_too(self, world: World) -> None:
        world.subscribe()
        world.billing.close_period(world.owner(), "acme", at("2025-04-01"))
        with pytest.raises(BillingBlocked):
            world.gates.admit_checks("acme", checks(1), at("2025-04-30"))

    def test_config_apply_counts_them_with_the_file(self, world: World) -> None:
        with pytest.raises(QuotaExceeded, match="plan starter allows 3 checks; acme would have 5"):
            world.gates.guard_config([], {}, {"acme": "starter"}, D("2025-03-01"), checks={"acme": checks(5)})


class TestSmsQuota:
    def test_the_period_and_what_is_used(self, world: World) -> None:
        world.store.add_usage([("acme", D("2025-03-03"), "notifications.sms", 4)])
        plan, used, period = world.gates.sms_used("acme", D("2025-03-20"))  # no subscription: calendar month
        assert (plan, used, period) == (PLANS["starter"], 4, (D("2025-03-01"), D("2025-04-01")))
        world.subscribe(day="2025-03-10")
        assert world.gates.sms_used("acme", D("2025-03-20"))[1:] == (0, (D("2025-03-10"), D("2025-04-10")))
