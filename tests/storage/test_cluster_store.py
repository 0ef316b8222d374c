"""Engines and shard leases on both backends: claims, fair shares, expiry, release, regions, quorum reads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from engine.storage.cluster_store import ClusterStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.cluster import SHARDS, shard_of
from pulsewatch.domain.engines import EngineLoad, Liveness
from pulsewatch.domain.monitoring import ProbeResult
from tests.storage.backends import raw_sql
from tests.storage.factories import make_check

TTL = 20.0


@pytest.fixture
def cluster(store: SqlStore) -> ClusterStore:
    return ClusterStore(store)


def expire(store: SqlStore, engine: str) -> None:
    """Make an engine look dead: its heartbeat and its leases are long past."""
    raw_sql(store, f"UPDATE shard_leases SET expires_at = 1 WHERE engine = '{engine}'")  # noqa: S608
    raw_sql(store, f"UPDATE engines SET heartbeat_at = 1 WHERE name = '{engine}'")  # noqa: S608


def holders(store: SqlStore, region: str = "") -> dict[int, str]:
    rows = raw_sql(store, f"SELECT shard, engine FROM shard_leases WHERE region = '{region}'")  # noqa: S608
    return {int(shard): str(engine) for shard, engine in rows}


class TestOneEngine:
    def test_a_lone_engine_holds_and_decides_every_shard(self, cluster: ClusterStore) -> None:
        claim = cluster.claim("a", "", "1.0", TTL, joining=True)

        assert claim.held == frozenset(range(SHARDS))
        assert claim.deciding == claim.held
        assert claim.release == ()
        assert (claim.live_engines, claim.live_regions) == (1, 1)

    def test_renewing_keeps_the_same_shards(self, cluster: ClusterStore) -> None:
        first = cluster.claim("a", "", "1.0", TTL, joining=True)
        second = cluster.claim("a", "", "1.0", TTL)

        assert second.held == first.held

    def test_the_engine_row_records_region_version_and_shards(self, cluster: ClusterStore) -> None:
        cluster.claim("a", "eu", "1.2.3", TTL, joining=True)

        (info,) = cluster.engines()
        assert (info.name, info.region, info.version, info.shards, info.stopped_at) == ("a", "eu", "1.2.3",
                                                                                      SHARDS, None)


class TestSeveralEngines:
    def test_a_new_engine_gets_its_share_once_the_first_gives_back(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        cluster.claim("a", "", "1", TTL, joining=True)
        joined = cluster.claim("b", "", "1", TTL, joining=True)
        assert joined.held == frozenset()  # every shard is leased to a
        assert joined.live_engines == 2

        again = cluster.claim("a", "", "1", TTL)
        assert len(again.release) == SHARDS // 2
        cluster.release("a", "", again.release)
        taken = cluster.claim("b", "", "1", TTL)

        assert taken.held == frozenset(again.release)
        owners = holders(store)
        assert sorted(owners.values()).count("a") == SHARDS // 2
        assert sorted(owners.values()).count("b") == SHARDS // 2

    def test_the_shards_of_a_dead_engine_go_to_the_survivors(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        for name in ("a", "b", "c"):
            cluster.claim(name, "", "1", TTL, joining=True)
        for name in ("a", "b", "c", "a"):  # settle: a gives back, b and c take their shares
            claim = cluster.claim(name, "", "1", TTL)
            cluster.release(name, "", claim.release)
        assert set(holders(store).values()) == {"a", "b", "c"}

        expire(store, "c")
        cluster.claim("a", "", "1", TTL)
        cluster.claim("b", "", "1", TTL)

        owners = holders(store)
        assert set(owners.values()) == {"a", "b"}
        assert len(owners) == SHARDS

    def test_leaving_frees_every_lease_at_once(self, cluster: ClusterStore, store: SqlStore) -> None:
        cluster.claim("a", "", "1", TTL, joining=True)
        cluster.claim("b", "", "1", TTL, joining=True)
        cluster.leave("a", "")

        claim = cluster.claim("b", "", "1", TTL)

        assert claim.held == frozenset(range(SHARDS))
        assert claim.live_engines == 1
        stopped = {e.name: e.stopped_at for e in cluster.engines()}
        assert stopped["a"] is not None
        assert stopped["b"] is None

    def test_concurrent_claims_never_lease_a_shard_twice(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        names = [f"e{i}" for i in range(4)]
        for name in names:  # register all four first, so every fair share is a quarter
            cluster.claim(name, "", "1", TTL, joining=True)
        raw_sql(store, "UPDATE shard_leases SET engine = '', expires_at = 1")
        claims: dict[str, frozenset[int]] = {}
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(names))

        def claim(name: str) -> None:
            try:
                barrier.wait(timeout=10)
                claims[name] = cluster.claim(name, "", "1", TTL).held
            except BaseException as exc:  # reported below, on the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=claim, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert not errors
        taken = [s for held in claims.values() for s in held]
        assert len(taken) == len(set(taken))  # disjoint
        owners = holders(store)
        assert all(owners[s] == name for name, held in claims.items() for s in held)


class TestRegions:
    def test_each_region_leases_every_shard_and_the_first_region_decides(self, cluster: ClusterStore) -> None:
        eu = cluster.claim("eu-1", "eu", "1", TTL, joining=True)
        us = cluster.claim("us-1", "us", "1", TTL, joining=True)
        eu = cluster.claim("eu-1", "eu", "1", TTL)

        assert eu.held == us.held == frozenset(range(SHARDS))
        assert eu.deciding == eu.held
        assert us.deciding == frozenset()
        assert eu.live_regions == us.live_regions == 2

    def test_the_next_region_decides_when_the_first_is_gone(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        cluster.claim("eu-1", "eu", "1", TTL, joining=True)
        cluster.claim("us-1", "us", "1", TTL, joining=True)
        expire(store, "eu-1")

        us = cluster.claim("us-1", "us", "1", TTL)

        assert us.deciding == us.held == frozenset(range(SHARDS))
        assert us.live_regions == 1

    def test_region_verdicts_are_the_latest_result_of_each_other_region(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        (check,) = store.sync_checks([make_check("api")]).added
        assert check.id is not None
        for name, region in (("eu-1", "eu"), ("us-1", "us"), ("ap-1", "ap")):
            cluster.claim(name, region, "1", TTL, joining=True)
        now = datetime.now(UTC)

        def result(engine: str, seconds_ago: float, ok: bool) -> ProbeResult:
            return ProbeResult(check_id=check.id or 0, started_at=now - timedelta(seconds=seconds_ago),
                               duration_ms=1.0, ok=ok, engine=engine)

        store.record([
            result("us-1", 50, True), result("us-1", 10, False),  # us: latest failed
            result("ap-1", 10, False), result("ap-1", 5, True),   # ap: latest ok
            result("eu-1", 1, False),                             # the asking region: ignored
            result("gone", 1, False),                             # unknown engine: ignored
            result("us-1", 500, True),                            # before the window
        ], [], [])

        verdicts = cluster.region_verdicts(check.id, now - timedelta(seconds=100), "eu", TTL)

        assert verdicts.failed == {"us": True, "ap": False}
        assert verdicts.live_regions == 3


class TestRoster:
    """What the console's Engines screen reads: shards, the checks in them, the load of each heartbeat."""

    def test_heartbeats_write_the_load_and_the_roster_counts_the_checks_in_held_shards(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        added = store.sync_checks([make_check(f"c{i}") for i in range(10)]).added
        cluster.claim("a", "", "1", TTL, joining=True, load=EngineLoad(0.002, 0.25, 12.5))
        cluster.claim("b", "", "1", TTL, joining=True)  # an engine that reports no load (an older one)
        again = cluster.claim("a", "", "1", TTL, load=EngineLoad(0.003, 0.5, 20.0))
        cluster.release("a", "", again.release)
        b_shards = cluster.claim("b", "", "1", TTL).held

        roster = cluster.roster(TTL)
        a, b = roster.engines
        assert (a.name, a.load, b.name, b.load) == ("a", EngineLoad(0.003, 0.5, 20.0), "b", None)
        assert (a.shards, b.shards) == (SHARDS - len(b_shards), len(b_shards))
        in_b = sum(1 for c in added if c.id is not None and shard_of(c.id) in b_shards)
        assert (a.checks, b.checks) == (10 - in_b, in_b)
        assert [roster.liveness(e) for e in roster.engines] == [Liveness.ALIVE, Liveness.ALIVE]
        assert roster.ttl == TTL

    def test_a_heartbeat_without_figures_keeps_the_last_ones(self, cluster: ClusterStore) -> None:
        cluster.claim("a", "", "1", TTL, joining=True, load=EngineLoad(0.001, 0.01, 3.0))
        cluster.claim("a", "", "1", TTL)

        (info,) = cluster.engines()
        assert info.load == EngineLoad(0.001, 0.01, 3.0)

    def test_a_silent_engine_is_stale_and_one_that_left_is_stopped(
        self, cluster: ClusterStore, store: SqlStore
    ) -> None:
        cluster.claim("a", "", "1", TTL, joining=True)
        cluster.claim("b", "", "1", TTL, joining=True)
        cluster.claim("c", "", "1", TTL, joining=True)
        expire(store, "b")
        cluster.leave("c", "")

        roster = cluster.roster(TTL)
        assert {e.name: roster.liveness(e) for e in roster.engines} == {
            "a": Liveness.ALIVE, "b": Liveness.STALE, "c": Liveness.STOPPED,
        }
        assert {e.name: e.shards for e in roster.engines}["b"] == 0  # its leases expired with it

    def test_no_engine_ever_ran(self, cluster: ClusterStore) -> None:
        assert cluster.roster(TTL).engines == ()

    def test_step_13_adds_the_load_columns_to_an_older_database(self, store_url: str) -> None:
        store = open_store(store_url)
        try:
            for column in ("lateness_p50_s", "lateness_p99_s", "probes_per_s"):
                raw_sql(store, f"ALTER TABLE engines DROP COLUMN {column}")
            raw_sql(store, "DELETE FROM schema_version WHERE version >= 13")
            assert store.schema_version() < 13
            assert store.upgrade()[1] >= 13
            cluster = ClusterStore(store)
            cluster.claim("a", "", "1", TTL, joining=True, load=EngineLoad(0.5, 1.5, 2.0))
            (info,) = cluster.engines()
            assert info.load == EngineLoad(0.5, 1.5, 2.0)
        finally:
            store.close()
