"""The engine runs checks created through the REST API: at start-up (config sync keeps them) and, while it
runs, after `ReloadChecks` — new ones are probed at once, changed ones redefined, deleted ones dropped,
paused ones left alone. A real SqlStore on an SQLite file; probes answered by an httpx.MockTransport."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import trio

from engine.runtime import Engine
from engine.storage.api_store import SqlApiStore
from engine.storage.store import open_store
from pulsewatch.domain.events import CheckChanged, CheckRemoved, CheckUpdated, ReloadChecks
from pulsewatch.domain.monitoring import API_ORIGIN, Status
from tests.engine.helpers import EventLog, ScriptedTarget, bounded, http_check

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = pytest.mark.trio

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'reload.db'}")
    yield opened
    opened.close()


@bounded(30)
async def test_api_checks_are_run_from_start_up_and_reloaded_while_running(store: SqlStore) -> None:
    api = SqlApiStore(store)
    kept, _ = api.add_api_check(http_check("kept", origin=API_ORIGIN, interval=3600.0), NOW)
    target = ScriptedTarget({"fresh.test": [200], "kept.test": [200], "yaml.test": [200]})
    events = EventLog()
    engine = Engine(
        store,
        [http_check("yaml", interval=3600.0)],
        name="reload",
        emit=events,
        http_transport=target.transport(),
        batch_delay=0.01,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        assert sorted(c.name for c in engine.checks) == ["kept", "yaml"]

        fresh, _ = api.add_api_check(http_check("fresh", origin=API_ORIGIN, interval=3600.0), NOW)
        api.add_api_check(http_check("parked", origin=API_ORIGIN, paused=True), NOW)
        engine.submit_nowait(ReloadChecks())
        await events.wait_for(
            lambda log: any(
                e.state.check_id == fresh.id and e.state.status == Status.UP for e in log.of(CheckUpdated)
            )
        )
        assert target.calls["fresh.test"] == 1  # probed at once, not an hour later
        changed = {e.check.name: e.state.status for e in events.of(CheckChanged)}
        assert changed == {"fresh": Status.UNKNOWN, "parked": Status.PAUSED}
        assert "parked.test" not in target.calls

        api.update_api_check(replace(fresh, url="http://moved.test/"), NOW)
        api.delete_check(kept.id or 0)
        engine.submit_nowait(ReloadChecks())
        await events.wait_for(lambda log: bool(log.of(CheckRemoved)))
        await events.wait_for(lambda log: "moved.test" in target.calls)
        assert [e.check_id for e in events.of(CheckRemoved)] == [kept.id]
        assert sorted(c.name for c in engine.checks) == ["fresh", "parked", "yaml"]
        assert next(c for c in engine.checks if c.name == "fresh").url == "http://moved.test/"
        engine.stop()
    assert store.load_states()[fresh.id or 0].status == Status.UP
