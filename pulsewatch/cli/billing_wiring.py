"""Composition for billing: the services, the engine's usage meter and the notifier's SMS gate.

Everything is imported lazily, like the rest of the command line: `pulsewatch config validate`
never loads the storage layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.maintenance import MaintenanceStore
    from engine.metering import SmsGate, UsageMeter
    from engine.storage.alerting_outbox_store import OutboxStore
    from engine.storage.billing_store import SqlBillingStore
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.services.billing import Billing
    from pulsewatch.services.billing_gates import BillingGates


def billing_service(config: LoadedConfig, store: SqlStore) -> Billing:
    """The billing use cases on `store`, with the config's plans."""
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.billing_store import SqlBillingStore
    from pulsewatch.config_billing import billing_config
    from pulsewatch.services.billing import Billing

    plans = billing_config(config)
    return Billing(SqlBillingStore(store), SqlAccountsStore(store), plans.plans, plans.currency)


def billing_gates(config: LoadedConfig, store: SqlStore) -> BillingGates:
    """The quota and past-due gates on `store`, with the config's plans."""
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.billing_store import SqlBillingStore
    from pulsewatch.config_billing import billing_config
    from pulsewatch.services.billing_gates import BillingGates

    return BillingGates(SqlBillingStore(store), SqlAccountsStore(store), billing_config(config).plans)


def usage_meter(store: SqlStore) -> UsageMeter:
    """The recorder's meter: probe results counted per organization and day, with the results."""
    from engine.metering import UsageMeter
    from engine.storage.billing_store import SqlBillingStore

    return UsageMeter(SqlBillingStore(store))


def maintained_rollups(config: LoadedConfig, store: SqlStore) -> MaintenanceStore:
    """What the engine's maintenance rolls up and prunes: the RollupStore, pruning raw results per
    organization by its plan's retention when some plan sets one (the subscriptions are read once
    per pass, so a plan change takes effect at the next)."""
    from engine.storage.billing_store import SqlBillingStore
    from engine.storage.plan_prune import PlanRetentionRollups
    from engine.storage.rollup_store import RollupStore
    from pulsewatch.config_billing import billing_config
    from pulsewatch.domain.quotas import raw_retention

    rollups = RollupStore(store)
    plans = billing_config(config).plans
    if all(plan.limits.retention_days is None for plan in plans.values()):
        return rollups
    billing = SqlBillingStore(store)
    return PlanRetentionRollups(rollups, store, lambda: raw_retention(billing.subscriptions(), plans))


def seat_meter(store: SqlStore) -> SqlBillingStore:
    """Maintenance's seat meter: each organization's members, recorded per day as a high-water mark."""
    from engine.storage.billing_store import SqlBillingStore

    return SqlBillingStore(store)


def sms_gate(config: LoadedConfig, store: SqlStore, outbox: OutboxStore) -> SmsGate:
    """The dispatcher's gate: SMS quotas with fallback, and notifications counted by channel kind."""
    from engine.metering import SmsGate
    from engine.storage.billing_store import SqlBillingStore

    return SmsGate(SqlBillingStore(store), outbox, billing_gates(config, store), config.alerting)
