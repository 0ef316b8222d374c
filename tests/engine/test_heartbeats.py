"""Heartbeat checks inside the engine, on trio's mock clock: pings through the evaluator, the lateness clock,
restart recovery, pause and resume. Pings go straight to `engine.heartbeats.receive` here; the HTTP
path is tested against a real listener in tests/integration/test_heartbeat_listener.py."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import trio

from engine.runtime import Engine
from pulsewatch.domain.events import CheckFlipped, CheckUpdated, RunNow, SetPaused
from pulsewatch.domain.heartbeats import LATE, HeartbeatSpec, Ping, PingKind
from pulsewatch.domain.monitoring import Check, Status
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EPOCH, EventLog, bounded, run_inline, trio_wall_clock

if TYPE_CHECKING:
    from trio.testing import MockClock

pytestmark = pytest.mark.trio

HOUR = 3600.0
DAY = 86400.0
TOKEN = "nightly-7f3a"


def heartbeat_check(name: str = "backup", token: str = TOKEN, **spec: Any) -> Check:
    spec.setdefault("period", DAY)
    spec.setdefault("grace", HOUR)
    spec_ = HeartbeatSpec(token=token, **spec)
    return Check(name=name, url=f"/ping/{token}", kind="heartbeat", heartbeat=spec_)


def make_engine(store: FakeStore, checks: list[Check], events: EventLog) -> Engine:
    return Engine(
        store, checks, name="test-engine", emit=events, wall_clock=trio_wall_clock, run_sync=run_inline
    )


async def ping(engine: Engine, kind: PingKind, *, token: str = TOKEN, **fields: Any) -> None:
    assert await engine.heartbeats.receive(token, Ping(kind, **fields))


def flips(store: FakeStore) -> list[tuple[Status, Status, str]]:
    return [(f.old, f.new, f.reason) for f in store.flips]


async def sleep_until(seconds: float) -> None:
    await trio.sleep_until(seconds)


class TestPingsThroughTheEngine:
    @bounded(600)
    async def test_success_fail_exit_status_and_log(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await ping(engine, PingKind.SUCCESS, body="done")
            await ping(engine, PingKind.FAIL, body="disk full")
            await ping(engine, PingKind.SUCCESS, exit_status=0)
            await ping(engine, PingKind.FAIL, exit_status=3)
            await ping(engine, PingKind.LOG, body="still going")
            engine.stop()

        assert [(r.ok, r.error, r.message) for r in store.results] == [
            (True, None, "done"),
            (False, "fail", "the job reported failure: disk full"),
            (True, None, ""),
            (False, "exit", "exit status 3"),
            (True, "log", "still going"),
        ]
        assert all(r.engine == "test-engine" for r in store.results)
        assert flips(store) == [
            (Status.UNKNOWN, Status.UP, "first successful probe"),
            (Status.UP, Status.DOWN, "the job reported failure: disk full"),
            (Status.DOWN, Status.UP, "recovered"),
            (Status.UP, Status.DOWN, "exit status 3"),
        ]
        assert len(events.of(CheckFlipped)) == 4
        # the log ping was shown and stored, the state it carries unchanged: still DOWN for exit 3
        log_update = events.of(CheckUpdated)[-1]
        assert (log_update.result.error, log_update.state.status) == ("log", Status.DOWN)
        assert log_update.state.last_error == "exit status 3"

    @bounded(600)
    async def test_start_changes_nothing_and_the_finish_carries_the_run_duration(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await ping(engine, PingKind.START)
            assert engine.states[engine.checks[0].id or 0].status == Status.UNKNOWN
            await trio.sleep(90)
            await ping(engine, PingKind.SUCCESS)
            engine.stop()

        start, finish = store.results
        assert (start.ok, start.error, start.message) == (True, "start", "run started")
        assert finish.duration_ms == pytest.approx(90_000.0)
        assert flips(store) == [(Status.UNKNOWN, Status.UP, "first successful probe")]

    @bounded(600)
    async def test_an_unknown_token_is_refused(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            assert not engine.heartbeats.knows("no-such-token")
            assert not await engine.heartbeats.receive("no-such-token", Ping(PingKind.SUCCESS))
            engine.stop()
        assert store.results == []


class TestLateness:
    @bounded(10 * DAY)
    async def test_a_missing_ping_is_down_once_with_the_reason_and_a_ping_brings_it_back(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            t0 = trio.current_time()
            await ping(engine, PingKind.SUCCESS)
            await sleep_until(t0 + DAY + HOUR - 1)
            assert len(store.results) == 1  # on time until the last second of grace
            await sleep_until(t0 + 5 * DAY)  # days pass: still one late result, not one a minute
            await ping(engine, PingKind.SUCCESS)
            engine.stop()

        first, late, back = store.results
        assert (late.ok, late.error, late.message) == (
            False, LATE, "no ping for 1d 1h (expected every 1d, grace 1h)"
        )
        due = first.started_at + timedelta(seconds=DAY + HOUR)
        assert due <= late.started_at < due + timedelta(seconds=1)
        assert back.ok
        assert flips(store) == [
            (Status.UNKNOWN, Status.UP, "first successful probe"),
            (Status.UP, Status.DOWN, "no ping for 1d 1h (expected every 1d, grace 1h)"),
            (Status.DOWN, Status.UP, "recovered"),
        ]

    @bounded(10 * DAY)
    async def test_a_check_never_pinged_is_late_from_the_engine_start(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await events.wait_for(lambda log: bool(log.of(CheckFlipped)))
            engine.stop()
        assert flips(store) == [
            (Status.UNKNOWN, Status.DOWN,
             "no ping since monitoring began 1d 1h ago (expected every 1d, grace 1h)"),
        ]
        assert store.results[0].started_at >= EPOCH + timedelta(seconds=DAY + HOUR)

    @bounded(10 * DAY)
    async def test_a_run_that_does_not_finish_within_grace_is_down(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check(grace=1800.0)], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await ping(engine, PingKind.SUCCESS)
            await trio.sleep(HOUR)
            await ping(engine, PingKind.START)
            await events.wait_for(lambda log: len(log.of(CheckFlipped)) == 2)
            engine.stop()
        reason = "run started 30m ago has not finished (grace 30m)"
        assert flips(store)[-1] == (Status.UP, Status.DOWN, reason)

    @bounded(10 * DAY)
    async def test_a_failed_check_is_not_also_reported_late(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await ping(engine, PingKind.FAIL, exit_status=1)
            await trio.sleep(3 * DAY)
            engine.stop()
        assert [r.message for r in store.results] == ["exit status 1"]
        assert store.states[engine.checks[0].id or 0].last_error == "exit status 1"

    @bounded(10 * DAY)
    async def test_cron_schedule_in_a_time_zone(self, autojump_clock: MockClock) -> None:
        # The mock wall clock starts at 2025-01-01 00:00 UTC = 01:00 in Berlin; 03:00 CET is 02:00 UTC.
        store, events = FakeStore(), EventLog()
        check = heartbeat_check(period=None, cron="0 3 * * *", timezone="Europe/Berlin", grace=1800.0)
        engine = make_engine(store, [check], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await ping(engine, PingKind.SUCCESS)
            await events.wait_for(lambda log: len(log.of(CheckFlipped)) == 2)
            engine.stop()
        late = store.results[-1]
        assert late.message == 'no ping for 2h 30m (expected "0 3 * * *" in Europe/Berlin, grace 30m)'
        due = EPOCH + timedelta(hours=2, minutes=30)
        assert due <= late.started_at < due + timedelta(seconds=1)


class TestRestartPauseAndRunNow:
    @bounded(10 * DAY)
    async def test_a_restarted_engine_counts_from_the_last_stored_ping(
        self, autojump_clock: MockClock
    ) -> None:
        store = FakeStore()
        first = make_engine(store, [heartbeat_check()], EventLog())
        async with trio.open_nursery() as nursery:
            await nursery.start(first.run)
            t0 = trio.current_time()
            await ping(first, PingKind.SUCCESS)
            await ping(first, PingKind.LOG, body="after the ping: must not count as one")
            first.stop()

        await sleep_until(t0 + 20 * HOUR)
        events = EventLog()
        second = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(second.run)
            await events.wait_for(lambda log: bool(log.of(CheckFlipped)))
            second.stop()

        late = store.results[-1]
        assert late.message == "no ping for 1d 1h (expected every 1d, grace 1h)"
        due = store.results[0].started_at + timedelta(seconds=DAY + HOUR)
        assert due <= late.started_at < due + timedelta(seconds=1)

    @bounded(10 * DAY)
    async def test_paused_checks_record_pings_but_are_never_late_and_resume_afresh(
        self, autojump_clock: MockClock
    ) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            check_id = engine.checks[0].id or 0
            await ping(engine, PingKind.SUCCESS)
            engine.submit_nowait(SetPaused(check_id, True))
            await events.wait_for(lambda log: engine.states[check_id].status == Status.PAUSED)
            await ping(engine, PingKind.FAIL)  # recorded, state stays PAUSED
            await trio.sleep(3 * DAY)
            assert len(store.results) == 2
            engine.submit_nowait(SetPaused(check_id, False))
            await events.wait_for(lambda log: engine.states[check_id].status == Status.UNKNOWN)
            resumed_at = trio_wall_clock()
            await events.wait_for(lambda log: engine.states[check_id].status == Status.DOWN)
            engine.stop()

        late = store.results[-1]
        assert late.message == "no ping since monitoring began 1d 1h ago (expected every 1d, grace 1h)"
        assert resumed_at + timedelta(seconds=DAY + HOUR) <= late.started_at

    @bounded(600)
    async def test_run_now_on_a_heartbeat_check_probes_nothing(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check()], events)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            engine.submit_nowait(RunNow(engine.checks[0].id or 0))
            await trio.sleep(60)
            engine.stop()
        assert store.results == []
