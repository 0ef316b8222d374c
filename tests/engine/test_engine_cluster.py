"""The engine as one of several, on trio's mock clock with an in-memory lease table (the ClusterPort fake):
it probes only checks of held shards, takes over states with a shard, records without judging when
another region decides, waits for the quorum before DOWN, keeps probing when leases cannot be renewed,
and gives its leases back on stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import trio

from engine.cluster import Cluster
from engine.runtime import Engine
from engine.storage.cluster_store import LeaseClaim, RegionVerdicts
from pulsewatch.domain.events import CheckUpdated
from pulsewatch.domain.monitoring import CheckState, Status
from pulsewatch.errors import StorageError
from tests.engine.fakes import FakeStore
from tests.engine.helpers import (
    EPOCH,
    EventLog,
    ScriptedTarget,
    bounded,
    http_check,
    run_inline,
    trio_wall_clock,
)

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from trio.testing import MockClock

    from pulsewatch.domain.engines import EngineLoad
    from pulsewatch.domain.monitoring import Check

pytestmark = pytest.mark.trio

SHARDS = 4
LEASE = 30.0


@dataclass
class FakeLeases:
    """What ClusterStore would answer, set by the test."""

    store: FakeStore
    held: set[int] = field(default_factory=lambda: set(range(SHARDS)))
    deciding: set[int] | None = None
    failed: dict[str, bool] = field(default_factory=dict)
    live_regions: int = 1
    fail: bool = False
    claims: int = 0
    left: bool = False
    loads: list[EngineLoad | None] = field(default_factory=list)

    def claim(
        self, engine: str, region: str, version: str, ttl: float, *, joining: bool = False,
        load: EngineLoad | None = None,
    ) -> LeaseClaim:
        if self.fail:
            raise StorageError("the database is down (fake)")
        self.claims += 1
        self.loads.append(load)
        deciding = self.held if self.deciding is None else self.deciding
        return LeaseClaim(now=EPOCH, held=frozenset(self.held), release=(), deciding=frozenset(deciding),
                          live_engines=1, live_regions=self.live_regions)

    def release(self, engine: str, region: str, shards: Collection[int]) -> None:
        self.held -= set(shards)

    def leave(self, engine: str, region: str) -> None:
        self.left = True

    def region_verdicts(self, check_id: int, since: datetime, region: str, ttl: float) -> RegionVerdicts:
        return RegionVerdicts(failed=dict(self.failed), live_regions=self.live_regions)

    def states_of(self, check_ids: Collection[int]) -> dict[int, CheckState]:
        return {i: s for i, s in self.store.states.items() if i in check_ids}


def make_engine(
    store: FakeStore, leases: FakeLeases, checks: list[Check], target: ScriptedTarget, events: EventLog,
    **cluster: Any,
) -> Engine:
    return Engine(
        store, checks, name="e1", emit=events, wall_clock=trio_wall_clock, http_transport=target.transport(),
        run_sync=run_inline,
        cluster=Cluster(leases, engine="e1", lease=LEASE, run_sync=run_inline, shards=SHARDS, **cluster),
    )


def four_checks(**fields: Any) -> list[Check]:
    return [http_check(f"c{i}", interval=10, conditions=("[STATUS] == 200",), **fields) for i in range(1, 5)]


class TestShards:
    @bounded(600)
    async def test_only_checks_of_held_shards_are_probed_and_a_new_shard_brings_its_state(
        self, autojump_clock: MockClock
    ) -> None:
        store, events, target = FakeStore(), EventLog(), ScriptedTarget()
        leases = FakeLeases(store, held={1, 2})  # check ids 1..4 → shards 1, 2, 3, 0
        engine = make_engine(store, leases, four_checks(), target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(35)
            assert set(target.calls) == {"c1.test", "c2.test"}
            # Another engine held shard 3 and judged c3 DOWN; it dies and the shard comes here.
            taken_over = CheckState(check_id=3, status=Status.DOWN, consecutive_failures=4)
            store.states[3] = taken_over
            leases.held = {1, 2, 3}
            await trio.sleep(LEASE / 3 + 0.001)
            assert engine.states[3] == taken_over
            await trio.sleep(25)
            engine.stop()

        assert set(target.calls) == {"c1.test", "c2.test", "c3.test"}
        assert engine.states[3].status == Status.UP  # judged from the taken-over state: it recovered
        assert [(f.check_id, f.old, f.new) for f in store.flips if f.check_id == 3] == [
            (3, Status.DOWN, Status.UP)
        ]
        assert leases.left

    @bounded(600)
    async def test_probing_goes_on_while_leases_cannot_be_renewed(self, autojump_clock: MockClock) -> None:
        store, events, target = FakeStore(), EventLog(), ScriptedTarget()
        leases = FakeLeases(store)
        engine = make_engine(store, leases, four_checks(), target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            leases.fail = True
            await trio.sleep(5 * LEASE)  # far past the lease's TTL
            engine.stop()

        assert all(target.calls[f"c{i}.test"] >= 14 for i in range(1, 5))


class TestRegions:
    @bounded(600)
    async def test_an_observer_records_results_but_leaves_states_and_flips_to_the_decider(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(scripts={f"c{i}.test": [503] for i in range(1, 5)})
        leases = FakeLeases(store, deciding=set())
        engine = make_engine(store, leases, four_checks(), target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) >= 8)
            engine.stop()

        assert len(store.results) >= 8
        assert store.flips == []
        assert all(s.status == Status.UNKNOWN for s in store.states.values())
        assert all(c.states == () for c in store.calls)

    @bounded(600)
    async def test_down_waits_for_the_quorum_of_regions(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(scripts={"c1.test": [503]})
        leases = FakeLeases(store, live_regions=2)
        engine = make_engine(store, leases, four_checks()[:1], target, events, quorum=2)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 3)
            held = engine.states[1]
            leases.failed = {"us": True}  # the other region now sees it failing too
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 4)
            engine.stop()

        assert held.status == Status.UNKNOWN
        assert held.consecutive_failures == 3
        assert [(f.old, f.new) for f in store.flips] == [(Status.UNKNOWN, Status.DOWN)]
        assert store.flips[0].at == store.results[3].started_at


class TestHeartbeatLoad:
    @bounded(600)
    async def test_each_heartbeat_carries_lateness_and_the_probe_rate_since_the_previous_one(
        self, autojump_clock: MockClock
    ) -> None:
        store, events, target = FakeStore(), EventLog(), ScriptedTarget()
        leases = FakeLeases(store)
        engine = make_engine(store, leases, four_checks(), target, events)  # 4 checks every 10 s

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(LEASE + 1)  # the join and three renewals, one every LEASE/3 = 10 s
            engine.stop()

        first, *renewals = leases.loads
        assert first is not None
        assert first.probes_per_s == 0.0  # the join: nothing probed before it
        assert len(renewals) == 3
        assert [load.probes_per_s if load else None for load in renewals] == [pytest.approx(0.4)] * 3
        assert all(load and 0.0 <= load.lateness_p50_s <= load.lateness_p99_s for load in renewals)
