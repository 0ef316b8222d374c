"""The recorder through a database outage, on trio's mock clock: memory up to its bound, then the spool,
every record written back in order, StorageDown/StorageRestored, a stop during the outage, orphans."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import trio

from engine.evaluator import Record
from engine.recorder import Recorder
from engine.spool import Spool, spool_path
from engine.stats import EngineStats
from pulsewatch.domain.events import StorageDown, StorageRestored
from pulsewatch.domain.monitoring import CheckState, Flip, ProbeResult, Status
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EPOCH, EventLog, bounded, run_inline, trio_wall_clock

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from trio.testing import MockClock

pytestmark = pytest.mark.trio

BOUND = 20
BATCH = 10


def record(i: int, *, flip: bool = False) -> Record:
    result = ProbeResult(check_id=i % 4 + 1, started_at=EPOCH + timedelta(seconds=i), duration_ms=1.0,
                         ok=True, engine="e")
    state = CheckState(check_id=result.check_id, status=Status.UP, consecutive_successes=i)
    change = None
    if flip:
        change = Flip(check_id=result.check_id, at=result.started_at, old=Status.UNKNOWN, new=Status.UP)
    return Record(result=result, state=state, flip=change)


def make_recorder(store: FakeStore, tmp_path: Path | None, events: EventLog, **options: object) -> Recorder:
    spool = Spool(spool_path(tmp_path, "e")) if tmp_path is not None else None
    return Recorder(
        store, write_limiter=trio.CapacityLimiter(1), stats=EngineStats(), engine="e", batch_size=BATCH,
        batch_delay=0.25, max_pending=BOUND, run_sync=run_inline, spool=spool, emit=events,
        wall_clock=trio_wall_clock, **options,  # type: ignore[arg-type]
    )


async def feed(send: trio.MemorySendChannel[Record], records: list[Record], every: float = 0.1) -> None:
    for rec in records:
        await send.send(rec)
        await trio.sleep(every)


class TestOutage:
    @bounded(600)
    async def test_records_wait_in_memory_then_on_disk_and_are_all_written_in_order(
        self, autojump_clock: MockClock, tmp_path: Path
    ) -> None:
        store, events = FakeStore(fail_record=-1), EventLog()
        late: list[datetime] = []

        async def rewound(since: datetime) -> None:
            late.append(since)

        recorder = make_recorder(store, tmp_path, events, after_outage=rewound)
        records = [record(i, flip=i == 7) for i in range(200)]
        send, receive = trio.open_memory_channel[Record](4)
        peak_memory = 0

        async with trio.open_nursery() as nursery:
            await nursery.start(recorder.run, receive)
            async with send:
                await feed(send, records[:150])  # 15 s of results with the database down
                peak_memory = recorder._stats.records_pending
                assert recorder._stats.records_spooled > 0
                assert recorder._stats.storage_down
                store.fail_record = 0  # the database is back
                await feed(send, records[150:])

        assert [r.started_at for r in store.results] == [r.result.started_at for r in records if r.result]
        assert [f.at for f in store.flips] == [records[7].result.started_at]  # type: ignore[union-attr]
        assert store.states[4] == records[-1].state
        assert peak_memory <= BOUND
        assert [type(e) for e in events.events] == [StorageDown, StorageRestored]
        assert late == [records[0].result.started_at]  # type: ignore[union-attr]
        assert not spool_path(tmp_path, "e").exists()  # drained and removed

    @bounded(600)
    async def test_without_a_spool_a_full_buffer_pushes_back(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(fail_record=-1), EventLog()
        recorder = make_recorder(store, None, events)
        send, receive = trio.open_memory_channel[Record](0)

        async with trio.open_nursery() as nursery:
            await nursery.start(recorder.run, receive)
            sent = 0
            with trio.move_on_after(60):
                for i in range(100):
                    await send.send(record(i))
                    sent += 1
            assert sent == BOUND  # then the recorder stops reading and the sender waits
            store.fail_record = 0
            await send.aclose()

        assert len(store.results) == sent

    @bounded(600)
    async def test_a_stop_during_the_outage_leaves_the_rest_to_the_next_start(
        self, autojump_clock: MockClock, tmp_path: Path
    ) -> None:
        store, events = FakeStore(fail_record=-1), EventLog()
        recorder = make_recorder(store, tmp_path, events)
        send, receive = trio.open_memory_channel[Record](4)
        async with trio.open_nursery() as nursery:
            await nursery.start(recorder.run, receive)
            async with send:
                await feed(send, [record(i) for i in range(50)])
        assert store.results == []  # run() returned although nothing could be written

        store.fail_record = 0  # the next start, with the database back: the spool is replayed first
        again = make_recorder(store, tmp_path, EventLog())
        send, receive = trio.open_memory_channel[Record](4)
        async with trio.open_nursery() as nursery:
            await nursery.start(again.run, receive)
            await send.aclose()

        assert [r.started_at for r in store.results] == [record(i).result.started_at for i in range(50)]  # type: ignore[union-attr]
        assert store.states == {}  # old states are not replayed over newer ones

    @bounded(600)
    async def test_another_engines_orphaned_spool_is_written_by_the_next_start(
        self, autojump_clock: MockClock, tmp_path: Path
    ) -> None:
        orphan = Spool(spool_path(tmp_path, "crashed"))
        assert orphan.open()
        orphan.append([record(i) for i in range(25)])
        orphan.close()  # its engine died; nobody holds the lock
        store = FakeStore()
        recorder = make_recorder(store, tmp_path, EventLog())
        send, receive = trio.open_memory_channel[Record](4)

        async with trio.open_nursery() as nursery:
            await nursery.start(recorder.run, receive)
            await send.send(record(100))
            await send.aclose()

        assert len(store.results) == 26
        assert not spool_path(tmp_path, "crashed").exists()
