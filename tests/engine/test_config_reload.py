"""Reloading the config in a running engine: unchanged checks keep state and schedule, changed ones start
afresh, removed ones stop, new ones start; the watcher reloads on request and on file changes only."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
import trio

from engine.config_reload import ConfigSource, ConfigWatcher
from pulsewatch.domain.events import CheckChanged, CheckRemoved
from pulsewatch.domain.monitoring import Status
from pulsewatch.errors import ConfigError
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EventLog, ScriptedTarget, bounded, http_check
from tests.engine.test_engine import check_id, make_engine
from tests.engine.test_heartbeats import heartbeat_check

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from trio.testing import MockClock

    from pulsewatch.domain.monitoring import Check

pytestmark = pytest.mark.trio


class TestReload:
    @bounded(600)
    async def test_only_what_changed_is_touched(self, autojump_clock: MockClock) -> None:
        store, events, target = FakeStore(), EventLog(), ScriptedTarget()
        a, b, c = (http_check(n, interval=10) for n in "abc")
        engine = make_engine(store, [a, b, c], target, events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(30)
            ids = {n: check_id(engine, n) for n in "abc"}
            before = engine.states[ids["a"]]
            assert before.status == Status.UP
            calls = dict(target.calls)

            changed = [a, replace(b, url="http://b2.test/"), http_check("d", interval=10)]
            plan = await engine.reload_config(changed)
            assert plan is not None
            await trio.sleep(30)
            engine.stop()

        assert engine.states[ids["a"]].since == before.since  # kept: not reset to UNKNOWN and back
        assert engine.states[ids["a"]].consecutive_successes > before.consecutive_successes
        assert target.calls["c.test"] == calls["c.test"]  # removed: no more probes
        assert target.calls["b2.test"] >= 3
        assert target.calls["d.test"] >= 3
        assert ids["c"] not in engine.states
        assert [e.check_id for e in events.of(CheckRemoved)] == [ids["c"]]
        assert {e.check.name for e in events.of(CheckChanged)} == {"b", "d"}
        assert engine.stats.reloads == 1

    @bounded(600)
    async def test_a_removed_heartbeat_check_stops_taking_pings(self, autojump_clock: MockClock) -> None:
        store, events = FakeStore(), EventLog()
        engine = make_engine(store, [heartbeat_check(), http_check("api")], ScriptedTarget(), events)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            assert engine.heartbeats.knows("nightly-7f3a")
            await engine.reload_config([http_check("api")])
            knows = engine.heartbeats.knows("nightly-7f3a")
            engine.stop()

        assert not knows


class TestWatcher:
    async def test_it_reloads_on_request_and_on_change_and_skips_a_broken_file(self, tmp_path: Path) -> None:
        path = tmp_path / "pulsewatch.yaml"
        path.write_text("v1")
        loaded: list[str] = []
        applied = trio.Event()

        def load() -> Sequence[Check]:
            text = path.read_text()
            if text == "broken":
                raise ConfigError("bad", ["pulsewatch.yaml:1:1: broken"])
            loaded.append(text)
            return ()

        async def apply(checks: Sequence[Check]) -> None:
            applied.set()

        watcher = ConfigWatcher(ConfigSource(path=path, load=load, poll=0.02), apply)
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                await nursery.start(watcher.run)
                watcher.request()
                await applied.wait()
                applied = trio.Event()
                path.write_text("broken")
                await trio.sleep(0.2)
                path.write_text("version 2")
                await applied.wait()
                nursery.cancel_scope.cancel()

        assert loaded == ["v1", "version 2"]

    async def test_with_watching_off_only_a_request_reloads(self, tmp_path: Path) -> None:
        path = tmp_path / "pulsewatch.yaml"
        path.write_text("v1")
        reloads: list[int] = []
        reloaded = trio.Event()

        async def apply(checks: Sequence[Check]) -> None:
            reloads.append(len(checks))
            reloaded.set()

        watcher = ConfigWatcher(ConfigSource(path=path, load=lambda: (), poll=0), apply)
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                await nursery.start(watcher.run)
                path.write_text("version 2")
                await trio.sleep(0.3)
                assert reloads == []
                watcher.request()
                await reloaded.wait()
                nursery.cancel_scope.cancel()

        assert reloads == [0]


