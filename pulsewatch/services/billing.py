"""Billing use cases: the overview, closing periods into invoices, paying them, changing plans, and
the quota and past-due gates other use cases call.

Who may: everything here needs MANAGE_BILLING in the organization (owners), checked on a freshly
loaded actor like every other use case; the gates (`admit_member`, `require_editable`) are called by
use cases that did their own permission checks. Every change is recorded in the audit log in the
same transaction. Times are passed in: a day is the UTC date of `now` unless an effective date is given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import Actor, Permission
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.billing import (
    BillingError,
    Plan,
    QuotaExceeded,
    Subscription,
    SubscriptionStatus,
    effective_status,
)
from pulsewatch.domain.invoicing import (
    Invoice,
    InvoiceStatus,
    build_invoice,
    usage_from_counters,
)
from pulsewatch.domain.quotas import channels_used, check_violations, seat_refusal
from pulsewatch.errors import NotFoundError
from pulsewatch.services.billing_gates import blocked_message, current_plan, day_of, members_of
from pulsewatch.services.signin import refresh_actor

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pulsewatch.services.billing_ports import BillingStore
    from pulsewatch.services.ports import AccountsStore

INVOICE_CLOSE = "billing.invoice"
INVOICE_PAID = "billing.paid"
PLAN_CHANGE = "billing.plan"


@dataclass(frozen=True)
class Meter:
    """One usage bar of the Billing screen: what was used this period against the plan's limit."""

    name: str
    used: int
    limit: int | None = None
    """None: unlimited (or not limited by plans at all, like probes)."""

    @property
    def fraction(self) -> float | None:
        """used / limit for a bar (may exceed 1.0); None when unlimited."""
        if self.limit is None:
            return None
        return self.used / self.limit if self.limit else (1.0 if self.used else 0.0)


@dataclass(frozen=True)
class BillingOverview:
    """Everything the Billing screen and `billing show` need about one organization."""

    org: str
    currency: str
    plan: Plan | None
    subscription: Subscription | None
    status: SubscriptionStatus | None
    meters: tuple[Meter, ...]
    notifications: Mapping[str, int]
    """Notifications sent this period by channel kind."""
    projected: Invoice | None
    """The current period's invoice as it stands (a draft), None without a running period."""
    invoices: tuple[Invoice, ...]
    """Past invoices, newest first."""
    blocked: str | None
    """Why edits are blocked (past due), None when they are not."""


class Billing:
    """The billing use cases over a `BillingStore`, the `AccountsStore` and the config's plans.

    Args:
        store: subscriptions, usage and invoices.
        accounts: organizations, members, the audit log; and who the actor is.
        plans: the config's plans by name.
        currency: the currency of every plan (the config requires one).
    """

    def __init__(
        self, store: BillingStore, accounts: AccountsStore, plans: Mapping[str, Plan], currency: str
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._plans = dict(plans)
        self._currency = currency

    # -- reading --------------------------------------------------------------------------------

    def overview(self, actor: Actor, org: str, now: datetime) -> BillingOverview:
        """The plan, usage against each limit this period, the projected invoice and past invoices.

        Seats are the most members the organization had on any day of the period: the engines'
        metered peak, or today's members when more (today may not be metered yet). Checks and
        channels are what it has now.

        Raises:
            NotFoundError: no such organization.
            PermissionDenied: the actor may not manage billing there.
        """
        self._authorize(actor, org)
        today = day_of(now)
        sub = self._store.get_subscription(org)
        invoices = self._store.invoices(org)
        plan = self._current_plan(org, sub)
        running = sub is not None and not sub.ended
        counters = self._store.usage(org, sub.period_start, sub.period_end) if sub and running else {}
        usage = usage_from_counters(counters)
        # Seats: the period's metered peak, and today's members — the figure today's metering has
        # reached or will reach (before the engines' first pass of the day, it is all there is).
        usage = replace(usage, seats=max(usage.seats, len(self._members_of(org))))
        checks = self._store.checks_of(org)
        limits = plan.limits if plan is not None else None
        meters = (
            Meter("checks", len(checks), limits.checks if limits else None),
            Meter("seats", usage.seats, limits.seats if limits else None),
            Meter("channels", len(channels_used(checks)), limits.channels if limits else None),
            Meter("sms", usage.sms, limits.sms_per_month if limits else None),
            Meter("probes", usage.probes),
        )
        projected = None
        if sub is not None and running:
            projected = build_invoice(
                sub,
                self._plans,
                usage,
                number="draft",
                currency=self._currency,
                issued_on=sub.period_end,
                status=InvoiceStatus.DRAFT,
            )
        overdue = any(i.overdue(today) for i in invoices)
        return BillingOverview(
            org=org,
            currency=self._currency,
            plan=plan,
            subscription=sub,
            status=effective_status(sub, overdue, today) if sub is not None else None,
            meters=meters,
            notifications=dict(usage.notifications),
            projected=projected,
            invoices=tuple(invoices),
            blocked=blocked_message(org, invoices, today),
        )

    def invoices(self, actor: Actor, org: str) -> list[Invoice]:
        """The organization's invoices, newest first.

        Raises:
            NotFoundError: no such organization.
            PermissionDenied: the actor may not manage billing there.
        """
        self._authorize(actor, org)
        return self._store.invoices(org)

    # -- changing -------------------------------------------------------------------------------

    def close_period(self, actor: Actor, org: str, now: datetime, *, on: date | None = None) -> list[Invoice]:
        """Issue the invoice of every billing period of `org` that has ended by `on` (default: today).

        Returns:
            The new invoices, oldest first; empty when the current period is still running.

        Raises:
            NotFoundError: no such organization, or it has no subscription.
            PermissionDenied: the actor may not manage billing there.
        """
        actor = self._authorize(actor, org)
        today = _not_after_today(on, now)
        with self._store.transaction():
            sub = self._subscription(org)
            issued = self._catch_up(sub, today, actor.name, now)
        return issued

    def mark_paid(self, actor: Actor, number: str, now: datetime, *, on: date | None = None) -> Invoice:
        """Record that an invoice was paid (collecting the money happens outside PulseWatch).

        Raises:
            NotFoundError: no such invoice.
            PermissionDenied: the actor may not manage billing in its organization.
            BillingError: it is paid already.
        """
        found = self._store.invoice(number)
        if found is None:
            raise NotFoundError(f"no invoice {number}")
        actor = self._authorize(actor, found.org)
        with self._store.transaction():
            invoice = self._store.invoice(number) or found
            if invoice.status == InvoiceStatus.PAID:
                raise BillingError(f"invoice {number} was already paid on {invoice.paid_on}")
            paid = replace(
                invoice, status=InvoiceStatus.PAID, paid_on=_not_after_today(on, now), paid_by=actor.name
            )
            self._store.save_invoice(paid)
            self._refresh_status(invoice.org, day_of(now))
            self._audit(
                now,
                actor.name,
                INVOICE_PAID,
                number,
                invoice.org,
                {"status": invoice.status.value},
                {"status": "paid", "paid_on": str(paid.paid_on)},
            )
        return paid

    def change_plan(
        self, actor: Actor, org: str, plan_name: str | None, now: datetime, *, on: date | None = None
    ) -> Subscription:
        """Move `org` to another plan (None: cancel) from day `on` (default today), pro-rated to the day.

        Ended periods are closed first (their invoices issued). The new plan must fit what the
        organization has now: its checks, intervals, channels and members.

        Raises:
            NotFoundError: no such organization.
            PermissionDenied: the actor may not manage billing there.
            BillingError: unknown plan, or `on` outside the current period.
            QuotaExceeded: the organization does not fit the new plan.
        """
        actor = self._authorize(actor, org)
        plan = self._plan(plan_name)
        today = _not_after_today(on, now)
        with self._store.transaction():
            sub = self._apply_plan(org, plan, today, actor.name, now)
            organization = self._accounts.get_organization(org)
            if organization is not None and organization.plan != plan_name:
                self._accounts.save_organization(replace(organization, plan=plan_name))
        return sub

    def sync_plans(
        self, declared: Mapping[str, str | None], now: datetime, *, actor: str = "config"
    ) -> list[str]:
        """`config apply`: subscriptions follow `organizations[].plan` (a change is pro-rated from today),
        and on plans that sell extra seats the seats follow the members.

        Returns:
            What changed, one line each, as `config apply` prints it.

        Raises:
            QuotaExceeded: an organization does not fit its new plan (nothing is changed).
        """
        today = day_of(now)
        lines: list[str] = []
        with self._store.transaction():
            for org, plan_name in sorted(declared.items()):
                sub = self._store.get_subscription(org)
                before = sub.plan if sub is not None else None
                if before != plan_name:
                    self._apply_plan(org, self._plan(plan_name), today, actor, now, lines)
                    lines.append(
                        f"~ subscription {org}: {before or 'no plan'} → {plan_name or 'no plan'}"
                        f" from {today}{' (pro-rated)' if sub is not None and not sub.ended else ''}"
                    )
                elif sub is not None and plan_name is not None:
                    self._follow_seats(sub, today, lines)
        return lines

    # -- internals ------------------------------------------------------------------------------

    def _apply_plan(
        self,
        org: str,
        plan: Plan | None,
        today: date,
        who: str,
        now: datetime,
        lines: list[str] | None = None,
    ) -> Subscription:
        """Start, change or cancel `org`'s subscription from `today`, closing ended periods first."""
        members = self._members_of(org)
        if plan is not None:
            violations = [v.message for v in check_violations(plan, org, self._store.checks_of(org))]
            refusal = seat_refusal(plan, org, len(members))
            if violations or refusal:
                raise QuotaExceeded(dict.fromkeys([*violations, *([refusal] if refusal else [])]))
        sub = self._store.get_subscription(org)
        before = sub.plan if sub is not None else None
        if sub is None:
            if plan is None:
                raise NotFoundError(f"organization {org} has no subscription to cancel")
            new = Subscription.start(org, plan, len(members), today)
        else:
            for invoice in self._catch_up(sub, today, who, now):
                if lines is not None:
                    lines.append(f"+ invoice {invoice.number} for {org}: {invoice.total.text()}")
            new = self._subscription(org).change(
                today, plan.name if plan else None, len(members) if plan else 0
            )
        self._store.save_subscription(new)
        if before != new.plan:
            self._audit(
                now, who, PLAN_CHANGE, org, org, {"plan": before}, {"plan": new.plan, "from": str(today)}
            )
        return new

    def _follow_seats(self, sub: Subscription, today: date, lines: list[str]) -> None:
        """On a plan that sells extra seats, bill the seats the organization has now, from today."""
        plan = self._plans.get(sub.plan or "")
        seats = len(self._members_of(sub.org))
        if plan is None or plan.overage.seat is None or seats == sub.seats:
            return
        if not sub.period_start <= today < sub.period_end or today < sub.history[-1].on:
            return  # the period ended: closing it starts the next one with today's members
        self._store.save_subscription(sub.change(today, sub.plan, seats))
        lines.append(f"~ subscription {sub.org}: {sub.seats} → {seats} seats from {today} (pro-rated)")

    def _catch_up(self, sub: Subscription, today: date, who: str, now: datetime) -> list[Invoice]:
        """Close every period that has ended by `today`; the next period starts with today's members."""
        issued = []
        while not sub.ended and sub.period_end <= today:
            # Seats at their metered peak: a day no engine metered adds nothing, and what the
            # subscription's history billed stands (the invoice only adds seats beyond it).
            counters = self._store.usage(sub.org, sub.period_start, sub.period_end)
            invoice = build_invoice(
                sub,
                self._plans,
                usage_from_counters(counters),
                number=self._store.next_invoice_number(sub.org),
                currency=self._currency,
                issued_on=sub.period_end,
            )
            self._store.save_invoice(invoice)
            self._audit(now, who, INVOICE_CLOSE, invoice.number, sub.org, None, _invoice_json(invoice))
            issued.append(invoice)
            sub = sub.next_period()
            if not sub.ended:
                sub = sub.change(sub.period_start, sub.plan, len(self._members_of(sub.org)))
        if issued:
            self._store.save_subscription(sub)
            self._refresh_status(sub.org, today)
        return issued

    def _refresh_status(self, org: str, today: date) -> None:
        sub = self._store.get_subscription(org)
        if sub is None:
            return
        overdue = any(i.overdue(today) for i in self._store.invoices(org))
        status = effective_status(sub, overdue, today)
        if status != sub.status:
            self._store.save_subscription(replace(sub, status=status))

    def _authorize(self, actor: Actor, org: str) -> Actor:
        actor = refresh_actor(self._accounts, actor)
        if self._accounts.get_organization(org) is None:
            raise NotFoundError(f"no organization {org}")
        actor.require(Permission.MANAGE_BILLING, org)
        return actor

    def _subscription(self, org: str) -> Subscription:
        sub = self._store.get_subscription(org)
        if sub is None:
            raise NotFoundError(f"organization {org} has no subscription (give it a plan in the config)")
        return sub

    def _plan(self, name: str | None) -> Plan | None:
        if name is None:
            return None
        plan = self._plans.get(name)
        if plan is None:
            known = ", ".join(sorted(self._plans)) or "none"
            raise BillingError(f"no plan {name} in the config (declared plans: {known})")
        return plan

    def _current_plan(self, org: str, sub: Subscription | None) -> Plan | None:
        return current_plan(self._accounts, self._plans, org, sub)

    def _members_of(self, org: str) -> set[str]:
        return members_of(self._accounts, org)

    def _audit(
        self,
        now: datetime,
        who: str,
        action: str,
        target: str,
        org: str,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> None:
        self._accounts.append_audit([AuditEntry(now, who, action, target, org, before, after)])


def _invoice_json(invoice: Invoice) -> dict[str, object]:
    return {
        "period": f"{invoice.period_start}/{invoice.period_end}",
        "total": str(invoice.total.amount),
        "currency": invoice.currency,
        "due_on": str(invoice.due_on),
    }


def _not_after_today(on: date | None, now: datetime) -> date:
    """The effective day: `on`, which may be in the past (a late entry) but not in the future."""
    today = day_of(now)
    if on is not None and on > today:
        raise BillingError(f"{on} is in the future (today is {today}, UTC): billing records what happened")
    return on or today


__all__ = ["Billing", "BillingOverview", "Meter", "day_of"]
