"""The whole engine on trio's mock clock: FakeStore for storage, httpx.MockTransport for targets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import trio

from engine.runtime import COMMANDS_BUFFER, Engine
from engine.scheduler import initial_phase
from pulsewatch.domain.events import (
    CheckChanged,
    CheckFlipped,
    CheckUpdated,
    EngineStarted,
    EngineStopped,
    HistoryLoaded,
    LoadHistory,
    RunNow,
    SetPaused,
)
from pulsewatch.domain.monitoring import Status
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EventLog, ScriptedTarget, bounded, http_check, run_inline, trio_wall_clock

if TYPE_CHECKING:
    from trio.testing import MockClock

    from pulsewatch.domain.monitoring import Check

pytestmark = pytest.mark.trio


def make_engine(  # the store runs inline: see engine.offload
    store: FakeStore, checks: list[Check], target: ScriptedTarget, events: EventLog, **options: Any
) -> Engine:
    return Engine(
        store,
        checks,
        name="test-engine",
        emit=events,
        wall_clock=trio_wall_clock,
        http_transport=target.transport(),
        run_sync=run_inline,
        **options,
    )


def check_id(engine: Engine, name: str) -> int:
    found = next(c.id for c in engine.checks if c.name == name)
    assert found is not None
    return found


class TestLifecycle:
    @bounded(600)
    async def test_three_failing_intervals_make_three_results_and_exactly_one_flip(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(scripts={"api.test": [503]})
        check = http_check("api", interval=30, failure_threshold=3, conditions=("[STATUS] == 200",))
        engine = make_engine(store, [check], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 3)
            engine.stop()

        assert len(store.results) == 3
        assert [(f.old, f.new) for f in store.flips] == [(Status.UNKNOWN, Status.DOWN)]
        assert store.flips[0].reason == "expected [STATUS] == 200, got 503"
        [flipped] = events.of(CheckFlipped)
        assert flipped.flip == store.flips[0]
        assert store.states[check_id(engine, "api")].status == Status.DOWN
        assert all(r.engine == "test-engine" and r.error == "condition" for r in store.results)

    @bounded(600)
    async def test_events_start_with_engine_started_and_end_with_engine_stopped(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [http_check("a"), http_check("b", paused=True)], ScriptedTarget(), events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            engine.stop()

        first, last = events.events[0], events.events[-1]
        assert isinstance(first, EngineStarted)
        assert first.engine == "test-engine"
        assert [c.name for c in first.checks] == ["a", "b"]
        assert all(c.id is not None for c in first.checks)
        assert {s.check_id for s in first.states} == {c.id for c in first.checks}
        assert isinstance(last, EngineStopped)
        assert last.error is None

    @bounded(600)
    async def test_up_down_up_follows_the_thresholds(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        statuses = [200, 200, 500, 500, 500, 200, 200]
        target = ScriptedTarget(scripts={"web.test": statuses})
        check = http_check(
            "web", interval=10, failure_threshold=2, success_threshold=2, conditions=("[STATUS] < 400",)
        )
        engine = make_engine(store, [check], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == len(statuses))
            engine.stop()

        assert [r.status_code for r in store.results] == statuses
        assert [(f.old, f.new) for f in store.flips] == [
            (Status.UNKNOWN, Status.UP),
            (Status.UP, Status.DOWN),
            (Status.DOWN, Status.UP),
        ]
        assert store.flips[2].at == store.results[6].started_at

    @bounded(600)
    async def test_probes_run_on_the_drift_free_grid(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(delay=4.0)  # slow answers do not shift the schedule
        engine = make_engine(store, [http_check("api", interval=30)], target, events)
        start = trio.current_time()

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 5)
            engine.stop()

        phase = initial_phase(check_id(engine, "api"), 30)
        started = [
            (r.started_at - trio_wall_clock()).total_seconds() + trio.current_time() for r in store.results
        ]
        assert started == pytest.approx([start + phase + k * 30 for k in range(5)])
        assert all(r.duration_ms == pytest.approx(4000) for r in store.results)
        assert engine.stats.probes_total == 5
        assert engine.stats.lateness.max == pytest.approx(0, abs=1e-9)

    @bounded(5)
    async def test_stop_before_run_returns_at_once(self) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [http_check("api")], ScriptedTarget(), events)
        engine.stop()

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)

        assert [type(e) for e in events.events] == [EngineStopped]
        assert store.results == []

    @bounded(600)
    async def test_a_store_that_cannot_sync_fails_run_with_the_storage_error(
        self, autojump_clock: MockClock
    ) -> None:
        class BrokenStore(FakeStore):
            def sync_checks(self, desired: Any) -> Any:
                from pulsewatch.errors import StorageError

                raise StorageError("cannot open database")

        events = EventLog()
        engine = make_engine(BrokenStore(), [http_check("api")], ScriptedTarget(), events)

        from pulsewatch.errors import StorageError

        with pytest.raises(StorageError, match="cannot open database"):
            await engine.run()
        [stopped] = events.of(EngineStopped)
        assert stopped.error == "StorageError: cannot open database"

    @bounded(600)
    async def test_checks_paused_in_config_or_in_storage_are_not_probed(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget()
        checks = [
            http_check("live", interval=10),
            http_check("cfg", interval=10, paused=True),
            http_check("stored", interval=10),
        ]
        # A first run stores the checks; then an operator pauses "stored".
        store.sync_checks(checks)
        stored_id = next(c.id for c in store.checks.values() if c.name == "stored")
        assert stored_id is not None
        store.set_paused(stored_id, True, trio_wall_clock())
        engine = make_engine(store, checks, target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(100)
            engine.stop()

        assert set(target.calls) == {"live.test"}
        assert store.states[check_id(engine, "cfg")].status == Status.PAUSED
        assert store.states[stored_id].status == Status.PAUSED

    @bounded(600)
    async def test_retries_reprobe_within_the_round_and_keep_the_last_attempt(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(scripts={"api.test": [503, 503, 200]})
        check = http_check("api", interval=60, retries=2, conditions=("[STATUS] == 200",))
        engine = make_engine(store, [check], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 1)
            engine.stop()

        assert target.calls["api.test"] == 3
        [result] = store.results
        assert result.ok
        assert result.status_code == 200


class TestFlushing:
    @bounded(600)
    async def test_stop_writes_every_result_already_produced(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        checks = [http_check(f"c{i}", interval=5) for i in range(30)]
        target = ScriptedTarget(delay=1.5)
        # Batches never fill or time out on their own: only the stop flush can write them.
        engine = make_engine(store, checks, target, events, batch_size=10_000, batch_delay=10_000)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(21.7)  # some probes are mid-flight now
            assert store.results == []
            engine.stop()

        shown = [e.result for e in events.of(CheckUpdated)]
        assert len(shown) > 100
        assert store.results == shown
        assert len(store.calls) == 1
        assert engine.stats.results_written == len(shown)
        assert engine.stats.probes_total == len(shown)

    @bounded(600)
    async def test_flips_are_flushed_with_their_results(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(scripts={"api.test": [500]})
        engine = make_engine(
            store, [http_check("api", interval=5)], target, events, batch_size=10_000, batch_delay=10_000
        )

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: len(log.of(CheckFlipped)) == 1)
            engine.stop()

        assert [f.new for f in store.flips] == [Status.DOWN]
        assert store.states[check_id(engine, "api")].status == Status.DOWN

    @bounded(600)
    async def test_record_failing_twice_then_succeeding_loses_nothing(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(fail_record=2), EventLog()
        checks = [http_check(f"c{i}", interval=2) for i in range(5)]
        engine = make_engine(store, checks, ScriptedTarget(), events, batch_size=7, batch_delay=0.5)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(60)
            engine.stop()

        shown = [e.result for e in events.of(CheckUpdated)]
        assert store.failed_calls == 2
        assert engine.stats.write_errors == 2
        assert sorted(store.results, key=id) == sorted(shown, key=id)
        assert len(store.results) == len(shown) > 100
        # The batches kept their bound while the buffer grew during the outage.
        assert all(len(call.results) <= 7 for call in store.calls)
        assert engine.stats.records_pending == 0

    @bounded(600)
    async def test_a_second_stop_gives_up_on_an_unreachable_database(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(fail_record=-1), EventLog()
        engine = make_engine(store, [http_check("api", interval=1)], ScriptedTarget(), events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(10)
            engine.stop()
            await trio.sleep(120)  # still retrying: a first stop never drops results
            assert events.of(EngineStopped) == []
            engine.stop()

        assert store.results == []
        assert engine.stats.records_abandoned == len(events.of(CheckUpdated)) > 0
        assert len(events.of(EngineStopped)) == 1


class TestCommands:
    @bounded(600)
    async def test_pause_stops_probing_and_resume_probes_at_once(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget()
        engine = make_engine(store, [http_check("api", interval=10)], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            api = check_id(engine, "api")
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 2)

            engine.submit_nowait(SetPaused(api, paused=True))
            await events.wait_for(lambda log: len(log.of(CheckChanged)) == 1)
            paused_at = len(events.of(CheckUpdated))
            await trio.sleep(100)
            assert len(events.of(CheckUpdated)) == paused_at
            assert engine.states[api].status == Status.PAUSED

            engine.submit_nowait(SetPaused(api, paused=False))
            await events.wait_for(lambda log: len(log.of(CheckChanged)) == 2)
            resumed = trio.current_time()
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == paused_at + 1)
            assert trio.current_time() == resumed
            await trio.sleep(30)
            engine.stop()

        changed = events.of(CheckChanged)
        assert [c.state.status for c in changed] == [Status.PAUSED, Status.UNKNOWN]
        assert [c.check.paused for c in changed] == [True, False]
        assert len(events.of(CheckUpdated)) >= paused_at + 3
        assert store.states[api].status == Status.UP

    @bounded(600)
    async def test_a_pause_is_not_undone_by_a_probe_in_flight(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(delay=5.0)
        engine = make_engine(store, [http_check("api", interval=10)], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            api = check_id(engine, "api")
            await trio.sleep(initial_phase(api, 10) + 1)  # a probe is in flight
            engine.submit_nowait(SetPaused(api, paused=True))
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 1)
            engine.stop()

        [updated] = events.of(CheckUpdated)
        assert updated.state.status == Status.PAUSED
        assert store.states[api].status == Status.PAUSED
        assert len(store.results) == 1  # kept for history

    @bounded(600)
    async def test_run_now_probes_immediately(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget()
        engine = make_engine(store, [http_check("api", interval=3600)], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            asked = trio.current_time()
            engine.submit_nowait(RunNow(check_id(engine, "api")))
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 1)
            assert trio.current_time() == asked
            engine.stop()

        assert len(store.results) == 1

    @bounded(600)
    async def test_load_history_answers_with_recent_results_and_flips_newest_first(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        target = ScriptedTarget(scripts={"api.test": [200, 200, 503, 503]})
        engine = make_engine(store, [http_check("api", interval=10)], target, events, batch_delay=0.1)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            api = check_id(engine, "api")
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) == 4)
            await trio.sleep(1)  # past the batch delay: written
            engine.submit_nowait(LoadHistory(api, limit=3))
            await events.wait_for(lambda log: bool(log.of(HistoryLoaded)))
            engine.stop()

        [history] = events.of(HistoryLoaded)
        assert (history.check_id, history.limit) == (api, 3)  # the answer names the request it answers
        assert [r.status_code for r in history.results] == [503, 503, 200]
        assert [(f.old, f.new) for f in history.flips] == [
            (Status.UP, Status.DOWN),
            (Status.UNKNOWN, Status.UP),
        ]

    @bounded(5)
    async def test_submit_nowait_raises_would_block_when_the_queue_is_full(self) -> None:
        engine = make_engine(FakeStore(), [http_check("api")], ScriptedTarget(), EventLog())
        for _ in range(COMMANDS_BUFFER):
            engine.submit_nowait(RunNow(1))
        with pytest.raises(trio.WouldBlock):
            engine.submit_nowait(RunNow(1))

    @bounded(600)
    async def test_commands_for_unknown_checks_are_ignored(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [http_check("api", interval=3600)], ScriptedTarget(), events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            engine.submit_nowait(RunNow(999))
            engine.submit_nowait(SetPaused(999, paused=True))
            await trio.sleep(1)
            engine.stop()

        assert events.of(CheckUpdated) == []
        assert events.of(CheckChanged) == []
        assert isinstance(events.events[-1], EngineStopped)
