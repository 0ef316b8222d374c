"""The engine's real HTTP listener on 127.0.0.1:0: /healthz and heartbeat pings sent with httpx, recorded
in a real SqlStore on an SQLite file, with the same flips and events as probe results."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import trio

from engine.http import ListenerError
from engine.runtime import Engine
from engine.storage.store import open_store
from pulsewatch.domain.events import CheckUpdated, EngineStopped
from pulsewatch.domain.heartbeats import HeartbeatSpec
from pulsewatch.domain.monitoring import Check, Status
from tests.engine.helpers import EventLog, bounded

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = pytest.mark.trio

TOKEN = "nightly-7f3a"
BACKUP = Check(
    name="nightly-backup",
    url=f"/ping/{TOKEN}",
    kind="heartbeat",
    heartbeat=HeartbeatSpec(token=TOKEN, period=86400.0, grace=3600.0),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'pings.db'}")
    yield opened
    opened.close()


class TestListener:
    @bounded(30)
    async def test_pings_over_http_become_results_and_flips_in_the_database(self, store: SqlStore) -> None:
        events = EventLog()
        engine = Engine(
            store, [BACKUP], name="it-engine", emit=events, listen="127.0.0.1:0", batch_delay=0.05
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            assert engine.listen_address is not None
            host, port = engine.listen_address.rsplit(":", 1)
            assert (host, port != "0") == ("127.0.0.1", True)
            base = f"http://{engine.listen_address}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:

                async def send(method: str, path: str, body: bytes = b"", expect: str = "OK") -> None:
                    shown = len(events.of(CheckUpdated))
                    response = await client.request(method, path, content=body)
                    assert (response.status_code, response.text) == (200, "" if method == "HEAD" else expect)
                    await events.wait_for(lambda log: len(log.of(CheckUpdated)) == shown + 1)

                health = await client.get("/healthz")
                assert health.status_code == 200
                payload = health.json()
                assert (payload["status"], payload["engine"], payload["checks"]) == ("ok", "it-engine", 1)
                assert isinstance(payload["uptime_s"], float)
                assert payload["uptime_s"] >= 0

                await send("POST", f"/ping/{TOKEN}/start", b"starting")
                await send("POST", f"/ping/{TOKEN}", b"backup done: 3.2 GB\n")
                await send("GET", f"/ping/{TOKEN}/fail")
                await send("HEAD", f"/ping/{TOKEN}/0")
                await send("POST", f"/ping/{TOKEN}/3", b"rsync failed")
                await send("POST", f"/ping/{TOKEN}/log", "still here ✓".encode())
                await send("POST", f"/ping/{TOKEN}", b"x" * 50_000)

                refused = [
                    await client.get("/ping/unknown-token"),
                    await client.post("/ping/unknown-token/fail"),
                    await client.get(f"/ping/{TOKEN}/999"),
                    await client.get(f"/ping/{TOKEN}/finish"),
                ]
                assert [(r.status_code, r.text) for r in refused] == [
                    (404, "unknown ping token"),
                    (404, "unknown ping token"),
                    (400, "exit status must be 0 to 255"),
                    (404, "unknown ping action: expected start, fail, log or an exit status"),
                ]
            engine.stop()

        assert isinstance(events.events[-1], EngineStopped)
        assert events.events[-1].error is None
        shown = [e.result for e in events.of(CheckUpdated)]
        assert len(shown[-1].message) == 10_000  # the body is cut at 10 kB before it is kept
        check_id = engine.checks[0].id or 0
        results = list(reversed(store.recent_results(check_id, 20)))
        assert [(r.ok, r.error, r.message[:40]) for r in results] == [
            (True, "start", "run started: starting"),
            (True, None, "backup done: 3.2 GB"),
            (False, "fail", "the job reported failure"),
            (True, None, ""),
            (False, "exit", "exit status 3: rsync failed"),
            (True, "log", "still here ✓"),
            (True, None, "x" * 40),
        ]
        assert results[1].duration_ms > 0  # start → success is the run's duration
        assert all(r.engine == "it-engine" for r in results)
        flips = [(f.old, f.new, f.reason) for f in reversed(store.recent_flips(check_id, 20))]
        assert flips == [
            (Status.UNKNOWN, Status.UP, "first successful probe"),
            (Status.UP, Status.DOWN, "the job reported failure"),
            (Status.DOWN, Status.UP, "recovered"),
            (Status.UP, Status.DOWN, "exit status 3: rsync failed"),
            (Status.DOWN, Status.UP, "recovered"),
        ]
        state = store.load_states()[check_id]
        assert (state.status, state.last_error) == (Status.UP, "")

    @bounded(30)
    async def test_a_busy_address_is_a_clear_engine_error(self, store: SqlStore) -> None:
        with trio.socket.socket() as taken:
            await taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            events = EventLog()
            engine = Engine(store, [BACKUP], name="it-engine", emit=events, listen=f"127.0.0.1:{port}")
            with pytest.raises(BaseExceptionGroup) as caught:
                async with trio.open_nursery() as nursery:
                    await nursery.start(engine.run)
        errors = caught.value.exceptions
        while errors and isinstance(errors[0], BaseExceptionGroup):
            errors = errors[0].exceptions
        assert isinstance(errors[0], ListenerError)
        assert str(errors[0]) == f"cannot listen on 127.0.0.1:{port}: Address already in use"
        stopped = events.of(EngineStopped)[-1]
        assert stopped.error == f"ListenerError: cannot listen on 127.0.0.1:{port}: Address already in use"
