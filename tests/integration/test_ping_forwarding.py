"""A ping for a check another engine owns, over the real listener on SQLite: stored for the owner before
"OK", and answered 503 (so the job retries) when the database cannot store it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import trio

from engine.cluster import Cluster
from engine.runtime import Engine
from engine.storage.cluster_store import ClusterStore
from engine.storage.ping_store import PingStore
from engine.storage.store import open_store
from pulsewatch.domain.heartbeats import HeartbeatSpec
from pulsewatch.domain.monitoring import Check
from tests.engine.helpers import bounded
from tests.storage.backends import raw_sql

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = pytest.mark.trio

TOKEN = "nightly-7f3a"
BACKUP = Check(name="nightly-backup", url=f"/ping/{TOKEN}", kind="heartbeat",
               heartbeat=HeartbeatSpec(token=TOKEN, period=86400.0, grace=3600.0))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'pings.db'}")
    yield opened
    opened.close()


class TestForwarding:
    @bounded(30)
    async def test_a_ping_for_another_engines_check_is_stored_and_a_refused_one_is_a_503(
        self, store: SqlStore
    ) -> None:
        leases = ClusterStore(store, shards=2)
        leases.claim("the-owner", "", "1", 3600.0, joining=True)  # holds both shards for the whole test
        cluster = Cluster(leases, engine="receiver", lease=30.0, shards=2, pings=PingStore(store))
        engine = Engine(store, [BACKUP], name="receiver", listen="127.0.0.1:0", cluster=cluster)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            async with httpx.AsyncClient(base_url=f"http://{engine.listen_address}", timeout=10) as client:
                accepted = await client.post(f"/ping/{TOKEN}/3", content=b"rsync failed")
                stored = raw_sql(
                    store, "SELECT check_id, kind, exit_status, body, engine FROM heartbeat_pings"
                )
                raw_sql(store, "DROP TABLE heartbeat_pings")  # the database now refuses the write
                refused = await client.get(f"/ping/{TOKEN}")
            engine.stop()

        assert (accepted.status_code, accepted.text) == (200, "OK")
        check_id = engine.checks[0].id
        assert stored == [(check_id, "fail", 3, "rsync failed", "receiver")]
        assert store.recent_results(check_id or 0, 10) == []  # the owner applies it, not the receiver
        assert refused.status_code == 503
        assert refused.text == "ping not recorded: the database is unavailable, try again"
        assert refused.headers["retry-after"] == "5"
