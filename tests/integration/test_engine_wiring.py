"""The engine as `pulsewatch engine` builds it (`wiring.make_engine_factory`), on a real SQLite file and a
real listener: its start-up sync is audited as `engine:<name>`, and a heartbeat check without `token:`
answers on its generated, unguessable token — the same one on every start — and not on the token the
check's name alone would give."""

from __future__ import annotations

import base64
import hashlib
import textwrap
from typing import TYPE_CHECKING

import httpx
import pytest
import trio

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.settings_store import installation_secret
from engine.storage.store import open_store
from pulsewatch.cli import wiring
from pulsewatch.config import parse_config
from pulsewatch.domain.heartbeats import generated_token
from tests.engine.helpers import EventLog, bounded

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig

pytestmark = pytest.mark.trio

CONFIG = """
engine: {listen: "127.0.0.1:0"}
checks:
  - name: nightly
    heartbeat: {period: 1d}
  - name: own-token
    heartbeat: {period: 1d, token: my-own-token-1}
"""


def config(text: str = CONFIG) -> LoadedConfig:
    return parse_config(textwrap.dedent(text).lstrip("\n"), "pulsewatch.yaml", environ={})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'engine.db'}")
    yield opened
    opened.close()


async def start_ping_stop(loaded: LoadedConfig, store: SqlStore, paths: list[str]) -> list[int]:
    """Start the engine the CLI would build, GET each path on its listener, stop it; the statuses."""
    engine = wiring.make_engine_factory(loaded, store, "it-1")(EventLog())
    statuses = []
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        async with httpx.AsyncClient(base_url=f"http://{engine.listen_address}", timeout=10) as client:
            for path in paths:
                statuses.append((await client.get(path)).status_code)
        engine.stop()
    return statuses


def audit(store: SqlStore) -> list[tuple[str, str, str]]:
    return sorted((e.actor, e.action, e.target) for e in SqlAccountsStore(store).audit_entries(None))


class TestEngineStart:
    @bounded(30)
    async def test_the_sync_is_audited_and_generated_tokens_work(self, store: SqlStore) -> None:
        token = generated_token(installation_secret(store), "default", "nightly")
        identity_only = hashlib.sha256(b"pulsewatch-heartbeat\0default\0nightly").digest()
        guessable = base64.b32encode(identity_only).decode().lower()[:20]

        statuses = await start_ping_stop(
            config(), store, [f"/ping/{token}", f"/ping/{guessable}", "/ping/my-own-token-1", "/ping/"]
        )

        assert statuses == [200, 404, 200, 404]
        assert audit(store) == [
            ("engine:it-1", "check.create", "default/nightly"),
            ("engine:it-1", "check.create", "default/own-token"),
        ]
        nightly = next(c for c in store.load_checks() if c.name == "nightly")
        assert nightly.heartbeat is not None
        assert (nightly.heartbeat.token, nightly.url) == (token, f"/ping/{token}")

    @bounded(30)
    async def test_a_restart_keeps_the_token_and_audits_only_changes(self, store: SqlStore) -> None:
        await start_ping_stop(config(), store, [])
        first = [(c.name, c.url) for c in store.load_checks()]
        changed = config(CONFIG.replace("period: 1d, token", "period: 2d, token"))

        await start_ping_stop(changed, store, [])

        assert [(c.name, c.url) for c in store.load_checks()] == first
        assert audit(store) == [
            ("engine:it-1", "check.create", "default/nightly"),
            ("engine:it-1", "check.create", "default/own-token"),
            ("engine:it-1", "check.update", "default/own-token"),
        ]
