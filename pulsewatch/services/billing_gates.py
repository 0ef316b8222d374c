"""The billing gates other use cases call: past-due organizations refuse edits, plans limit seats,
and the notifier asks how much of the SMS quota is left.

The gates make no permission checks of their own: the use cases calling them already did (adding a
member needs MANAGE_MEMBERS, `config apply` checks every change). They run inside the caller's
transaction, so a refused member or apply leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from pulsewatch.domain.billing import BillingBlocked, Plan, QuotaExceeded, Subscription, next_anchor
from pulsewatch.domain.invoicing import SMS, Invoice, notification_metric
from pulsewatch.domain.quotas import check_violations, seat_refusal

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.billing_ports import BillingStore
    from pulsewatch.services.ports import AccountsStore


class BillingGates:
    """Quota and past-due checks over the billing and accounts stores and the config's plans.

    Args:
        store: subscriptions, usage and invoices.
        accounts: organizations and their members.
        plans: the config's plans by name.
    """

    def __init__(self, store: BillingStore, accounts: AccountsStore, plans: Mapping[str, Plan]) -> None:
        self._store = store
        self._accounts = accounts
        self._plans = dict(plans)

    def guard_config(
        self,
        touched: Iterable[str],
        members: Mapping[str, Iterable[str]],
        plans: Mapping[str, str | None],
        today: date,
        checks: Mapping[str, Sequence[Check]] | None = None,
    ) -> None:
        """Before `config apply` changes anything: refuse edits to past-due organizations, and members
        beyond the seats of the plan each organization will be on (those in the database and the file).

        Args:
            touched: organizations whose checks, teams or members the apply would change.
            members: emails the config declares per organization.
            plans: the plan the config gives each organization.
            today: the day of the apply.
            checks: every check each organization will have (the file's and the REST API's).

        Raises:
            BillingBlocked: an organization that would change is past due.
            QuotaExceeded: an organization would have more members than its plan's seats, or
                (with the REST API's checks) more checks than it allows.
        """
        blocked = [
            m for org in sorted(set(touched)) if (m := blocked_message(org, self._store.invoices(org), today))
        ]
        if blocked:
            raise BillingBlocked("; ".join(blocked))
        violations = []
        for org, emails in sorted(members.items()):
            plan = self._plans.get(plans.get(org) or "")
            refusal = plan and seat_refusal(plan, org, len(members_of(self._accounts, org) | set(emails)))
            if refusal:
                violations.append(refusal)
        for org, mine in sorted((checks or {}).items()):
            plan = self._plans.get(plans.get(org) or "")
            if plan is not None:
                violations += [v.message for v in check_violations(plan, org, mine)]
        if violations:
            raise QuotaExceeded(dict.fromkeys(violations))

    def admit_checks(self, org: str, checks: Sequence[Check], now: datetime) -> None:
        """Before `org`'s checks become `checks` (all of them, in order): refuse while past due, and
        refuse checks beyond the plan — too many, an interval too short, too many alert channels.
        For every path that changes checks outside the file (the REST API).

        Raises:
            BillingBlocked: the organization is past due.
            QuotaExceeded: naming the plan and each limit.
        """
        plan = current_plan(self._accounts, self._plans, org, self._store.get_subscription(org))
        if plan is None:
            return
        self.require_editable(org, day_of(now))
        violations = check_violations(plan, org, checks)
        if violations:
            raise QuotaExceeded(dict.fromkeys(v.message for v in violations))

    def require_editable(self, org: str, today: date) -> None:
        """Refuse edits to a past-due organization (its checks keep running).

        Raises:
            BillingBlocked: naming the overdue invoice and how to clear it.
        """
        message = blocked_message(org, self._store.invoices(org), today)
        if message is not None:
            raise BillingBlocked(message)

    def admit_member(self, org: str, email: str, now: datetime) -> None:
        """Called before `email` joins `org`: refuse a member beyond the plan's seats (or while past
        due); on a plan that sells extra seats, the new seat is billed from today.

        Raises:
            QuotaExceeded: the plan has no seat left.
            BillingBlocked: the organization is past due.
        """
        today = day_of(now)
        members = members_of(self._accounts, org)
        if email in members:
            return  # a team role for someone already in the organization takes no new seat
        sub = self._store.get_subscription(org)
        plan = current_plan(self._accounts, self._plans, org, sub)
        if plan is None:
            return
        self.require_editable(org, today)
        refusal = seat_refusal(plan, org, len(members) + 1)
        if refusal is not None:
            raise QuotaExceeded([refusal])
        if sub is not None and plan.overage.seat is not None and sub.period_start <= today < sub.period_end:
            self._store.save_subscription(
                sub.change(max(today, sub.history[-1].on), sub.plan, len(members) + 1)
            )

    def sms_used(self, org: str, today: date) -> tuple[Plan | None, int, tuple[date, date]]:
        """The organization's plan, the SMS sent in its current period, and that period — the
        calendar month when it has no running subscription (the notifier's quota check)."""
        sub = self._store.get_subscription(org)
        plan = current_plan(self._accounts, self._plans, org, sub)
        if sub is None or sub.ended:
            period = (today.replace(day=1), next_anchor(today.replace(day=1), 1))
        else:
            period = (sub.period_start, sub.period_end)
        used = self._store.usage(org, *period).get(notification_metric(SMS), 0)
        return plan, used, period


def day_of(now: datetime) -> date:
    """The UTC calendar day of an instant: billing periods are in UTC days."""
    return now.astimezone(UTC).date()


def blocked_message(org: str, invoices: Sequence[Invoice], today: date) -> str | None:
    """Why edits to `org` are blocked today (its oldest overdue invoice), or None."""
    overdue = sorted((i for i in invoices if i.overdue(today)), key=lambda i: i.due_on)
    if not overdue:
        return None
    first = overdue[0]
    return (
        f"organization {org} is past due: invoice {first.number} ({first.total.text()}) was due on "
        f"{first.due_on}; its checks keep running, but changes are blocked until it is paid "
        f"(an owner records the payment with `pulsewatch billing mark-paid {first.number}`)"
    )


def members_of(accounts: AccountsStore, org: str) -> set[str]:
    """The distinct people with any role in `org` (each takes one seat)."""
    return {m.email for m in accounts.memberships_in(org)}


def current_plan(
    accounts: AccountsStore, plans: Mapping[str, Plan], org: str, sub: Subscription | None
) -> Plan | None:
    """The plan `org` is on: its subscription's, else (none yet) the one its organization names."""
    if sub is not None:
        name = sub.plan
    else:
        organization = accounts.get_organization(org)
        name = organization.plan if organization is not None else None
    return plans.get(name) if name is not None else None
