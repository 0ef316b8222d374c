"""Raw results pruned per organization by its plan's retention, on both backends: a short plan loses
its old results, a longer plan keeps them beyond the engine's `retention.raw`, organizations without a
plan retention follow `retention.raw`, and rollups are never touched."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from engine.storage.billing_store import SqlBillingStore
from engine.storage.fields import from_micros
from engine.storage.plan_prune import ChecksRawTarget, PlanRetentionRollups
from engine.storage.rollup_store import PruneBatch, RollupStore
from engine.storage.store import SqlStore
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.billing import PeriodChange, Plan, PlanLimits, Subscription, SubscriptionStatus
from pulsewatch.domain.money import Money
from pulsewatch.domain.quotas import raw_retention
from pulsewatch.domain.rollups import Level
from tests.storage.backends import raw_sql
from tests.storage.factories import make_check
from tests.storage.rollup_data import DELAY, T0, result

DAY = 86400.0
NOW = T0 + timedelta(days=4)
RETENTION = RetentionSettings(raw=2 * DAY, minute=400 * DAY, hour=400 * DAY, day=400 * DAY)
"""Raw results 2 days unless a plan says otherwise; rollups kept far longer than the data spans."""
PLANS = {
    "short": Plan("short", Money(Decimal("9.00"), "USD"), PlanLimits(retention_days=1)),
    "long": Plan("long", Money(Decimal("49.00"), "USD"), PlanLimits(retention_days=3)),
    "plain": Plan("plain", Money(Decimal("19.00"), "USD")),
}


def subscribe(billing: SqlBillingStore, org: str, plan: str | None) -> None:
    """`org` on `plan` since March 1st; None: it was on `short` and canceled on the 3rd."""
    start = date(2025, 3, 1)
    history: tuple[PeriodChange, ...] = (PeriodChange(start, plan or "short", 1),)
    if plan is None:
        history = (*history, PeriodChange(date(2025, 3, 3), None, 0))
    billing.save_subscription(
        Subscription(org, SubscriptionStatus.ACTIVE, start, date(2025, 4, 1), 1, history)
    )


@pytest.fixture
def world(store: SqlStore) -> dict[str, int]:
    """One check per organization with a result every hour for 4 days, rolled up: acme on `short`
    (1 day), beta on `long` (3 days), gamma on `plain` (no retention), delta canceled, epsilon never
    subscribed, and results of a deleted check. Returns check ids by organization."""
    orgs = ("acme", "beta", "gamma", "delta", "epsilon", "gone")
    added = store.sync_checks([make_check(f"c-{org}", org=org) for org in orgs]).added
    ids = {c.org: c.id or 0 for c in added}
    store.record([result(i, T0 + timedelta(hours=h), 10.0) for h in range(96) for i in ids.values()], [], [])
    raw_sql(store, f"DELETE FROM checks WHERE id = {ids['gone']}")  # noqa: S608 — an int
    billing = SqlBillingStore(store)
    for org, plan in (("acme", "short"), ("beta", "long"), ("gamma", "plain"), ("delta", None)):
        subscribe(billing, org, plan)
    RollupStore(store).roll_up_pending(NOW, DELAY)
    return ids


def pruner(store: SqlStore, **options: int) -> PlanRetentionRollups:
    billing = SqlBillingStore(store)
    return PlanRetentionRollups(
        RollupStore(store), store, lambda: raw_retention(billing.subscriptions(), PLANS), **options
    )


def prune_all(keeper: PlanRetentionRollups, batch: int) -> list[PruneBatch]:
    """Every target until done, as engine.maintenance runs them."""
    steps = []
    for target in keeper.prune_targets(NOW, RETENTION):
        step = PruneBatch(0, more=True)
        while step.more:
            step = keeper.prune_batch(target, batch, step.resume_after)
            steps.append(step)
    return steps


def oldest(store: SqlStore) -> dict[int, datetime]:
    rows = raw_sql(store, "SELECT check_id, MIN(started_at) FROM results GROUP BY check_id")
    return {int(c): from_micros(int(t)) for c, t in rows}


def rollup_rows(store: SqlStore) -> list[tuple[int, ...]]:
    rows = raw_sql(
        store, "SELECT check_id, level, bucket_start, probes, failures FROM rollups ORDER BY 1, 2, 3"
    )
    return [tuple(int(v) for v in row) for row in rows]


def test_the_plan_decides_how_long_each_organizations_raw_results_stay(
    store: SqlStore, world: dict[str, int]
) -> None:
    rollups_before = rollup_rows(store)
    keeper = pruner(store, checks_per_delete=2)

    steps = prune_all(keeper, batch=7)

    kept_from = {org: oldest(store)[check_id] for org, check_id in world.items()}
    assert kept_from == {
        "acme": NOW - timedelta(days=1),  # short: 1 day
        "beta": NOW - timedelta(days=3),  # long: 3 days, beyond retention.raw
        "gamma": NOW - timedelta(days=2),  # a plan without retention: retention.raw
        "delta": NOW - timedelta(days=2),  # canceled: retention.raw
        "epsilon": NOW - timedelta(days=2),  # no subscription: retention.raw
        "gone": NOW - timedelta(days=3),  # a deleted check's: the longest retention in effect
    }
    assert rollup_rows(store) == rollups_before  # minutes, hours and days untouched
    assert sum(s.deleted for s in steps) == 24 * (3 + 1 + 1 + 2 * 3)  # days gone: acme, beta, gone, the rest
    assert max(s.deleted for s in steps) <= 7
    assert RollupStore(store).marks()[0][1] == NOW - timedelta(days=1)  # raw `pruned_to`: the newest cutoff
    assert prune_all(keeper, batch=7)[-1].deleted == 0


def test_the_targets_group_checks_by_retention_after_the_longest(
    store: SqlStore, world: dict[str, int]
) -> None:
    targets = pruner(store).prune_targets(NOW, RETENTION)

    raw = [t for t in targets if t.level is None]
    assert [type(t).__name__ for t in raw] == ["PruneTarget", "ChecksRawTarget", "ChecksRawTarget"]
    assert raw[0].cutoff == NOW - timedelta(days=3)
    plan_targets = [t for t in raw if isinstance(t, ChecksRawTarget)]
    assert [(t.keep, set(t.check_ids)) for t in plan_targets] == [
        (2 * DAY, {world["gamma"], world["delta"], world["epsilon"]}),
        (1 * DAY, {world["acme"]}),
    ]
    assert [t.level for t in targets if t.level is not None] == [Level.MINUTE, Level.HOUR, Level.DAY]


def test_nothing_is_pruned_ahead_of_the_minute_rollups(store: SqlStore) -> None:
    [check] = store.sync_checks([make_check("c", org="acme")]).added
    store.record([result(check.id or 0, T0 + timedelta(hours=h), 10.0) for h in range(96)], [], [])
    subscribe(SqlBillingStore(store), "acme", "short")
    RollupStore(store).roll_up_pending(T0 + timedelta(hours=12), DELAY)  # minutes built to 11:55 only

    prune_all(pruner(store), batch=50)

    assert oldest(store) == {check.id: T0 + timedelta(hours=12)}


def test_without_plan_retention_it_prunes_as_the_rollup_store_does(store: SqlStore) -> None:
    [check] = store.sync_checks([make_check("c", org="acme")]).added
    store.record([result(check.id or 0, T0 + timedelta(hours=h), 10.0) for h in range(96)], [], [])
    subscribe(SqlBillingStore(store), "acme", "plain")
    RollupStore(store).roll_up_pending(NOW, DELAY)
    keeper = pruner(store)

    assert [type(t).__name__ for t in keeper.prune_targets(NOW, RETENTION)] == ["PruneTarget"] * 4
    prune_all(keeper, batch=50)
    assert oldest(store) == {check.id: NOW - timedelta(days=2)}
