"""Heartbeat pings in transit between engines, on both backends: stored, polled by shard, consumed exactly
once in the transaction that records them (the recorder's write), dropped when they can never apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import trio

from engine.evaluator import Record
from engine.recorder import Recorder
from engine.spool import decode, encode
from engine.stats import EngineStats
from engine.storage.ping_store import PingStore
from engine.storage.store import SqlStore
from pulsewatch.domain.heartbeats import Ping, PingKind
from pulsewatch.domain.monitoring import CheckState, ProbeResult, Status
from pulsewatch.errors import StorageError
from tests.engine.helpers import bounded
from tests.storage.backends import raw_sql
from tests.storage.factories import T0, make_check


@pytest.fixture
def pings(store: SqlStore) -> PingStore:
    return PingStore(store)


def check_ids(store: SqlStore, count: int) -> list[int]:
    plan = store.sync_checks([make_check(f"c{i}") for i in range(count)])
    return sorted(c.id or 0 for c in plan.added)


def queued(store: SqlStore) -> list[int]:
    return [int(i) for (i,) in raw_sql(store, "SELECT id FROM heartbeat_pings ORDER BY id")]


class TestQueue:
    def test_a_stored_ping_reads_back_whole_in_its_shard_only(self, pings: PingStore) -> None:
        first = pings.add(7, 3, Ping(PingKind.FAIL, exit_status=2, body="disk ✓ full"), T0, "engine-b")
        second = pings.add(8, 0, Ping(PingKind.START), T0 + timedelta(seconds=1), "engine-c")

        [read] = pings.pending({3}, 10)
        assert (read.id, read.check_id, read.received_at, read.engine) == (first, 7, T0, "engine-b")
        assert read.ping == Ping(PingKind.FAIL, exit_status=2, body="disk ✓ full")
        assert [p.id for p in pings.pending({0, 3}, 10)] == [first, second]
        assert [p.id for p in pings.pending({0, 3}, 1)] == [first]
        assert [p.id for p in pings.pending({0, 3}, 10, skip={first})] == [second]
        assert pings.pending({1, 2}, 10) == []
        assert pings.pending(set(), 10) == []

    def test_ids_are_never_reused_after_a_ping_is_consumed(self, pings: PingStore) -> None:
        first = pings.add(1, 1, Ping(PingKind.SUCCESS), T0, "b")
        with pings.consuming([first]):
            pass
        assert pings.add(1, 1, Ping(PingKind.SUCCESS), T0, "b") > first

    def test_drop_deletes_only_the_given_pings(self, store: SqlStore, pings: PingStore) -> None:
        ids = [pings.add(1, 1, Ping(PingKind.SUCCESS), T0, "b") for _ in range(3)]
        pings.drop([ids[0], ids[2]])
        assert queued(store) == [ids[1]]


class TestConsuming:
    def test_the_pings_go_with_the_write_that_records_them(self, store: SqlStore, pings: PingStore) -> None:
        [check] = check_ids(store, 1)
        ids = [pings.add(check, 0, Ping(PingKind.SUCCESS), T0, "b") for _ in range(2)]

        with pings.consuming(ids) as present:
            store.record([result(check, 0)], [], [])
        assert present == frozenset(ids)
        assert queued(store) == []
        assert len(store.recent_results(check, 10)) == 1

        with pings.consuming(ids) as again:  # another engine applied them too: nothing is left for it
            assert again == frozenset()

    def test_a_failed_write_leaves_the_pings_for_the_next_try(
        self, store: SqlStore, pings: PingStore
    ) -> None:
        [check] = check_ids(store, 1)
        ping_id = pings.add(check, 0, Ping(PingKind.SUCCESS), T0, "b")

        with pytest.raises(StorageError), pings.consuming([ping_id]):
            raise StorageError("the write failed")
        assert queued(store) == [ping_id]


def result(check_id: int, seconds: float) -> ProbeResult:
    started = T0 + timedelta(seconds=seconds)
    return ProbeResult(check_id=check_id, started_at=started, duration_ms=0.0, ok=True, engine="b")


def applying(check_id: int, seconds: float, ping: int | None) -> Record:
    state = CheckState(check_id=check_id, status=Status.UP, consecutive_successes=1)
    return Record(result=result(check_id, seconds), state=state, ping=ping)


class TestRecorder:
    @pytest.mark.trio
    @bounded(60)
    async def test_a_ping_applied_by_two_engines_is_written_once_and_other_records_are_kept(
        self, store: SqlStore, pings: PingStore
    ) -> None:
        one, two = check_ids(store, 2)
        ping_id = pings.add(one, 0, Ping(PingKind.SUCCESS), T0, "b")
        stats = EngineStats()
        recorder = Recorder(store, write_limiter=trio.CapacityLimiter(1), stats=stats, engine="a",
                            batch_delay=0.01, pings=pings)
        send, receive = trio.open_memory_channel[Record](10)
        async with trio.open_nursery() as nursery:
            await nursery.start(recorder.run, receive)
            async with send:
                await send.send(applying(one, 0, ping_id))
                await send.send(applying(two, 1, None))
                await trio.sleep(0.2)  # its own batch: the ping is consumed
                await send.send(applying(one, 0, ping_id))  # the same ping, applied by another engine too
                await send.send(applying(two, 2, None))

        assert len(store.recent_results(one, 10)) == 1
        assert len(store.recent_results(two, 10)) == 2
        assert stats.results_written == 3
        assert queued(store) == []

    def test_a_spooled_record_keeps_its_ping(self) -> None:
        record = applying(1, 0, 42)
        assert decode(encode(record)).ping == 42
        assert decode(encode(applying(1, 0, None))).ping is None


def test_instants_round_trip_with_microseconds(pings: PingStore) -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    pings.add(1, 1, Ping(PingKind.LOG, body=""), when, "b")
    assert pings.pending({1}, 1)[0].received_at == when
