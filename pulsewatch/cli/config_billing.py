"""Billing's part of `config apply` and `config plan` (called from `commands.py`).

`config apply` runs in one transaction: the past-due and seat guard, the accounts and checks
(`config_accounts.apply_config`), then the subscriptions, which follow `organizations[].plan`. Checks
beyond a plan never get this far: `require_within_plans` refuses the file first (exit 2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pulsewatch.cli import wiring
from pulsewatch.config_billing import require_within_plans

if TYPE_CHECKING:
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.check_sync import CheckSyncPlan

__all__ = [
    "apply_config",
    "guard_config_apply",
    "plan_config_plans",
    "require_within_plans",
    "sync_config_plans",
]


def guard_config_apply(config: LoadedConfig, store: SqlStore) -> None:
    """Before `config apply` changes anything: refuse changes to past-due organizations and members
    beyond a plan's seats (members already in the database count too).

    Raises:
        BillingBlocked: an organization the apply would change is past due.
        QuotaExceeded: an organization would have more members than its plan allows.
    """
    from engine.storage.accounts_store import SqlAccountsStore
    from pulsewatch.cli import billing_wiring, config_accounts
    from pulsewatch.domain.monitoring import API_ORIGIN
    from pulsewatch.services.accounts_config import plan_accounts
    from pulsewatch.services.billing import day_of
    from pulsewatch.services.check_sync import plan_check_sync

    desired, stored = wiring.desired_checks(config, store), store.load_checks()
    checks = plan_check_sync(desired, stored)
    accounts = plan_accounts(SqlAccountsStore(store), config_accounts.declared_accounts(config))
    touched = {c.org for c in (*checks.added, *checks.changed, *checks.removed)}
    touched |= {t.org for t in accounts.added_teams} | {m.org for m in accounts.added_memberships}
    touched |= {new.org for _, new in accounts.changed_memberships}
    members = {
        org.slug: {m.email.lower() for m in (*org.members, *(m for t in org.teams for m in t.members))}
        for org in config.organizations
    }
    plans = {org.slug: org.plan for org in config.organizations}
    after: dict[str, list[Check]] = {}  # the file's checks and the REST API's, which the file keeps
    for check in (*desired, *(c for c in stored if c.origin == API_ORIGIN)):
        after.setdefault(check.org, []).append(check)
    gates = billing_wiring.billing_gates(config, store)
    gates.guard_config(touched, members, plans, day_of(_now()), checks=after)


def apply_config(config: LoadedConfig, store: SqlStore, as_user: str | None) -> CheckSyncPlan:
    """`config apply` with billing, in one transaction: the past-due and seat guard, the accounts and
    checks (`config_accounts.apply_config`, which prints account changes), then the subscriptions.

    Raises:
        BillingBlocked, QuotaExceeded, PermissionDenied: nothing was changed.
    """
    from engine.storage.accounts_store import SqlAccountsStore
    from pulsewatch.cli import config_accounts

    with SqlAccountsStore(store).transaction():
        guard_config_apply(config, store)
        plan = config_accounts.apply_config(config, store, as_user)
        for line in sync_config_plans(config, store, as_user):
            print(line)
    return plan


def plan_config_plans(config: LoadedConfig, store: SqlStore) -> list[str]:
    """`config plan`: the subscription changes applying would make, one a line."""
    from engine.storage.billing_store import SqlBillingStore

    billing = SqlBillingStore(store)
    lines = []
    for org in config.organizations:
        sub = billing.get_subscription(org.slug)
        before = sub.plan if sub is not None else None
        if before != org.plan:
            how = " (pro-rated from today)" if sub is not None and not sub.ended else ""
            lines.append(f"~ subscription {org.slug}: {before or 'no plan'} → {org.plan or 'no plan'}{how}")
    return lines


def sync_config_plans(config: LoadedConfig, store: SqlStore, as_user: str | None) -> list[str]:
    """After `config apply`: subscriptions follow `organizations[].plan`; returns what changed."""
    from pulsewatch.cli import billing_wiring

    declared = {org.slug: org.plan for org in config.organizations}
    return billing_wiring.billing_service(config, store).sync_plans(
        declared, _now(), actor=as_user or "config"
    )


def _now() -> datetime:
    return datetime.now(UTC)
