"""Two engines with shard leases on one database share heartbeat checks: the check's owner alone judges it.

Both engines run in this process on the real clock, each with its own HTTP listener, shard leases
(2 shards, so each engine ends up owning one of the two checks) and the ping queue between them.
The job pings the engine that does *not* own its check; what the database must show: one result
per ping, the check UP while pings come, one DOWN (one flip, one "late" result, by the owner) once
they stop — and the same across a handover, when the owner stops and the other engine takes over.
On MariaDB (the production case) and on an SQLite file (leases under BEGIN IMMEDIATE).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import trio

from engine.cluster import Cluster
from engine.runtime import Engine
from engine.storage.cluster_store import ClusterStore
from engine.storage.db import parse_url
from engine.storage.ping_store import PingStore
from engine.storage.store import open_store
from pulsewatch.domain.heartbeats import LATE, HeartbeatSpec
from pulsewatch.domain.monitoring import Check, Flip, ProbeResult, Status
from tests.engine.helpers import bounded
from tests.storage.backends import MYSQL_URL, raw_sql, reset_mysql_database

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = [pytest.mark.trio, pytest.mark.slow]

SHARDS = 2
LEASE = 1.5
"""Seconds: leases renewed every 0.5 s, so the two engines split the shards within a few seconds."""
PERIOD = 3.0
GRACE = 1.0
PING_EVERY = 0.4


def heartbeat(name: str) -> Check:
    token = f"{name}-token"
    return Check(name=name, url=f"/ping/{token}", kind="heartbeat",
                 heartbeat=HeartbeatSpec(token=token, period=PERIOD, grace=GRACE))


CHECKS = [heartbeat("backup-a"), heartbeat("backup-b")]


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "mysql":
        url = MYSQL_URL.rsplit("/", 1)[0] + f"/{parse_url(MYSQL_URL).database}_pings"
        reset_mysql_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'pings.db'}"
    opened = open_store(url)
    yield opened
    opened.close()


def make_engine(store: SqlStore, name: str) -> Engine:
    cluster = Cluster(ClusterStore(store, shards=SHARDS), engine=name, lease=LEASE, shards=SHARDS,
                      pings=PingStore(store))
    return Engine(store, CHECKS, name=name, listen="127.0.0.1:0", batch_delay=0.05, cluster=cluster)


async def until(predicate: Callable[[], Awaitable[bool] | bool], what: str, within: float = 20.0) -> None:
    with trio.move_on_after(within):
        while True:
            value = predicate()
            if not isinstance(value, bool):
                value = await value
            if value:
                return
            await trio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within}s")


async def split(first: Engine, second: Engine) -> tuple[Check, Check]:
    """Wait until each engine owns one shard; returns (the check `first` owns, the one `second` owns)."""
    assert first.cluster is not None
    assert second.cluster is not None
    await until(lambda: len(first.cluster.held) == 1 and len(second.cluster.held) == 1,  # type: ignore[union-attr]
                "the two engines hold one shard each")
    owned = {c.name: c for c in first.checks if first.cluster.owns(c.id or 0)}
    assert len(owned) == 1
    mine = next(iter(owned.values()))
    theirs = next(c for c in second.checks if c.name != mine.name)
    assert second.cluster.owns(theirs.id or 0)
    return mine, theirs


async def history(store: SqlStore, check: Check) -> tuple[list[ProbeResult], list[Flip]]:
    """The check's stored results and flips, oldest first."""
    assert check.id is not None
    results = await trio.to_thread.run_sync(store.recent_results, check.id, 1000)
    flips = await trio.to_thread.run_sync(store.recent_flips, check.id, 1000)
    return results[::-1], flips[::-1]


async def queued(store: SqlStore) -> int:
    """Pings waiting in the database for their owner."""
    rows = await trio.to_thread.run_sync(raw_sql, store, "SELECT COUNT(*) FROM heartbeat_pings")
    return int(rows[0][0])


async def ping_for(
    seconds: float, client: httpx.AsyncClient, check: Check, during: Callable[[], None] | None = None
) -> int:
    """Ping `check` every PING_EVERY seconds for `seconds` (calling `during` half-way); returns how many
    were answered OK — every one must be."""
    assert check.heartbeat is not None
    sent = 0
    deadline = trio.current_time() + seconds
    halfway = trio.current_time() + seconds / 2
    while trio.current_time() < deadline:
        response = await client.get(f"/ping/{check.heartbeat.token}")
        assert (response.status_code, response.text) == (200, "OK")
        sent += 1
        if during is not None and trio.current_time() >= halfway:
            during()
            during = None
        await trio.sleep(PING_EVERY)
    return sent


def flipped(flips: list[Flip]) -> list[tuple[Status, Status]]:
    return [(f.old, f.new) for f in flips]


class TestPingsReachTheOwner:
    @bounded(90)
    async def test_pings_through_the_other_engine_keep_it_up_and_only_the_owner_turns_it_down(
        self, store: SqlStore
    ) -> None:
        a, b = make_engine(store, "engine-a"), make_engine(store, "engine-b")
        async with trio.open_nursery() as nursery:
            await nursery.start(a.run)
            await nursery.start(b.run)
            owned_by_a, _ = await split(a, b)
            async with httpx.AsyncClient(base_url=f"http://{b.listen_address}", timeout=10) as to_b:
                sent = await ping_for(3 * PERIOD, to_b, owned_by_a)  # far past a deadline, were pings lost
            await until(lambda: _none_queued(store), "the queue drained")
            up_results, up_flips = await history(store, owned_by_a)
            check_id = owned_by_a.id or 0
            await until(lambda: stored_down(store, owned_by_a), "the owner turning it DOWN")
            await trio.sleep(2 * PERIOD)  # room for a second DOWN from anyone, were there one
            results, flips = await history(store, owned_by_a)
            states_b = dict(b.states)
            a.stop()
            b.stop()

        assert sent >= 3 * PERIOD / PING_EVERY / 2
        assert [(r.ok, r.error, r.engine) for r in up_results] == [(True, None, "engine-b")] * sent
        assert flipped(up_flips) == [(Status.UNKNOWN, Status.UP)]
        assert flipped(flips) == [(Status.UNKNOWN, Status.UP), (Status.UP, Status.DOWN)]
        late = [r for r in results if r.error == LATE]
        assert [(r.ok, r.engine) for r in late] == [(False, "engine-a")]
        assert late[0].message.startswith("no ping for ")
        assert states_b[check_id].status == Status.UNKNOWN  # the other engine never judged it
        assert await queued(store) == 0


async def _none_queued(store: SqlStore) -> bool:
    return await queued(store) == 0


async def stored_down(store: SqlStore, check: Check) -> bool:
    """Whether the check's DOWN flip is in the database."""
    _, flips = await history(store, check)
    return any(f.new == Status.DOWN for f in flips)


class TestHandover:
    @bounded(90)
    async def test_pings_in_transit_when_the_owner_stops_are_applied_once_and_raise_no_alert(
        self, store: SqlStore
    ) -> None:
        a, b = make_engine(store, "engine-a"), make_engine(store, "engine-b")
        async with trio.open_nursery() as nursery:
            await nursery.start(a.run)
            await nursery.start(b.run)
            owned_by_a, _ = await split(a, b)
            check_id = owned_by_a.id or 0
            async with httpx.AsyncClient(base_url=f"http://{b.listen_address}", timeout=10) as to_b:
                # A clean stop gives A's leases back half-way: B takes the shard at its next claim.
                sent = await ping_for(4 * PERIOD, to_b, owned_by_a, during=a.stop)
            assert b.cluster is not None
            assert b.cluster.owns(check_id)
            await until(lambda: _none_queued(store), "the queue drained")
            up_results, up_flips = await history(store, owned_by_a)
            await until(lambda: stored_down(store, owned_by_a), "the new owner turning it DOWN")
            await trio.sleep(PERIOD)  # room for a second DOWN, were there one
            results, flips = await history(store, owned_by_a)
            b.stop()

        assert [(r.ok, r.error, r.engine) for r in up_results] == [(True, None, "engine-b")] * sent
        assert flipped(up_flips) == [(Status.UNKNOWN, Status.UP)]
        assert flipped(flips) == [(Status.UNKNOWN, Status.UP), (Status.UP, Status.DOWN)]
        assert [r.engine for r in results if r.error == LATE] == ["engine-b"]

    @bounded(90)
    async def test_the_new_owner_judges_from_the_last_ping_stored_before_the_handover(
        self, store: SqlStore
    ) -> None:
        a, b = make_engine(store, "engine-a"), make_engine(store, "engine-b")
        async with trio.open_nursery() as nursery:
            await nursery.start(a.run)
            await nursery.start(b.run)
            owned_by_a, _ = await split(a, b)
            check_id = owned_by_a.id or 0
            async with httpx.AsyncClient(base_url=f"http://{a.listen_address}", timeout=10) as to_a:
                sent = await ping_for(PERIOD / 2, to_a, owned_by_a)  # straight to the owner
            a.stop()  # before the check is due: B learns of its last ping only from the database
            assert b.cluster is not None
            await until(lambda: b.cluster.owns(check_id), "engine B owning the check")  # type: ignore[union-attr]
            await until(lambda: stored_down(store, owned_by_a), "the new owner turning it DOWN")
            await trio.sleep(PERIOD)  # room for a second DOWN, were there one
            results, flips = await history(store, owned_by_a)
            b.stop()

        assert [(r.ok, r.engine) for r in results if r.error is None] == [(True, "engine-a")] * sent
        assert flipped(flips) == [(Status.UNKNOWN, Status.UP), (Status.UP, Status.DOWN)]
        late = [r for r in results if r.error == LATE]
        assert [r.engine for r in late] == ["engine-b"]
        assert late[0].message.startswith("no ping for ")  # not "since monitoring began": the stored ping
