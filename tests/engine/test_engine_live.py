"""The engine end to end on the real clock: real worker threads for the store, a real local HTTP target."""

from __future__ import annotations

import pytest
import trio

from engine.runtime import Engine
from pulsewatch.domain.events import CheckUpdated, EngineStopped
from pulsewatch.domain.monitoring import Status
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EventLog, bounded, http_check
from tests.engine.targets import serve

pytestmark = pytest.mark.trio


class TestLiveEngine:
    @bounded(30)
    async def test_results_and_flips_survive_a_stop_under_load(self) -> None:
        store, events = FakeStore(), EventLog()
        with serve() as base:
            checks = [
                *(
                    http_check(f"ok-{i}", url=f"{base}/ok", interval=0.05, conditions=("[STATUS] == 200",))
                    for i in range(8)
                ),
                *(
                    http_check(
                        f"bad-{i}",
                        url=f"{base}/status/503",
                        interval=0.05,
                        failure_threshold=2,
                        conditions=("[STATUS] == 200",),
                    )
                    for i in range(4)
                ),
            ]
            engine = Engine(store, checks, name="live", emit=events, batch_delay=0.05)
            async with trio.open_nursery() as nursery:
                await nursery.start(engine.run)
                await events.wait_for(lambda log: len(log.of(CheckUpdated)) >= 200)
                engine.stop()

        shown = [e.result for e in events.of(CheckUpdated)]
        assert sorted(map(id, store.results)) == sorted(map(id, shown))
        assert engine.stats.results_written == len(shown) == engine.stats.probes_total
        by_name = {c.name: c.id or 0 for c in engine.checks}
        assert all(store.states[by_name[f"ok-{i}"]].status == Status.UP for i in range(8))
        assert all(store.states[by_name[f"bad-{i}"]].status == Status.DOWN for i in range(4))
        downs = sorted(f.check_id for f in store.flips if f.new == Status.DOWN)
        assert downs == sorted(by_name[f"bad-{i}"] for i in range(4))
        assert isinstance(events.events[-1], EngineStopped)
        assert events.events[-1].error is None

    @bounded(30)
    async def test_a_store_failing_twice_loses_nothing_with_real_threads(self) -> None:
        store, events = FakeStore(fail_record=2), EventLog()
        with serve() as base:
            engine = Engine(
                store,
                [http_check("ok", url=f"{base}/ok", interval=0.02)],
                name="live",
                emit=events,
                batch_delay=0.02,
            )
            async with trio.open_nursery() as nursery:
                await nursery.start(engine.run)
                await events.wait_for(lambda log: len(log.of(CheckUpdated)) >= 20)
                engine.stop()

        assert store.failed_calls == 2
        assert sorted(map(id, store.results)) == sorted(id(e.result) for e in events.of(CheckUpdated))
