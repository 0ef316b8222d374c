"""Pause, resume and run now through the REST API of an engine that does not run the check: two real
`pulsewatch engine` processes on MariaDB, each request sent to the engine that does not hold the
check's shard.

What must hold: the owner applies it — it stops probing a paused check and the stored state says
paused, a resumed check is probed again, a run-now probes a check whose schedule would not — and the
API never reports a state the owner has not applied.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest

from engine.storage.db import parse_url
from engine.storage.store import open_store
from pulsewatch.domain.cluster import shard_of
from pulsewatch.domain.commands import CommandOutcome
from tests.integration.cluster_helpers import EngineProcess, engine_env, run_cli, wait_for
from tests.integration.servers import counting_server
from tests.integration.test_attach_engines import holders, listening, query, settle, split_evenly
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = [pytest.mark.slow, pytest.mark.mysql]

CHECKS = 8
"""Checks of each kind: enough that e2 holds at least one of each."""


def route_url() -> str:
    target = parse_url(MYSQL_URL)
    return MYSQL_URL.rsplit("/", 1)[0] + f"/{target.database}_route"


def write_config(tmp_path: Path, url: str, base_url: str) -> Path:
    lines = ["database:", f"  url: {url}", "engine:", "  lease: 3s", "  listen: 127.0.0.1:0",
             "api: {rate: 1000, burst: 1000}", "organizations:", "  - slug: acme", "checks:"]
    for kind, interval in (("fast", "1s"), ("slow", "1h")):  # slow: not probed again within the test
        for i in range(CHECKS):
            lines += [f"  - name: {kind}{i}", f"    url: {base_url}/ok/{kind}{i}",
                      f"    interval: {interval}"]
    path = tmp_path / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def base_of(engine: EngineProcess) -> str:
    """The engine's API address, once it listens."""
    return str(wait_for(lambda: listening(engine), what=f"{engine.name} listening"))


def stored_status(store: SqlStore, check_id: int) -> str:
    return store.load_states()[check_id].status.value


def applied(api: httpx.Client, store: SqlStore, response: httpx.Response, owner: str) -> dict[str, object]:
    """The check after a forwarded pause/resume: at once (200), or once its command is done (202)."""
    assert response.status_code in (200, 202), response.text
    body: dict[str, object] = response.json()
    if response.status_code == 202:
        assert body["status"] == "pending"
        done = settle(store, int(str(body["command_id"])))
        assert done.outcome is CommandOutcome.OK, done
        assert done.claimed_by == owner
        body = api.get(f"/api/v1/checks/{body['check_id']}").json()
    return body


def test_pause_resume_and_run_now_through_a_non_owner_reach_the_owner(tmp_path: Path) -> None:
    url = route_url()
    reset_mysql_database(url)
    with counting_server() as server:
        config = write_config(tmp_path, url, server.base_url)
        assert run_cli("config", "apply", "-c", str(config), cwd=tmp_path).returncode == 0
        made = run_cli("apikey", "create", "--org", "acme", "--role", "admin", "-c", str(config),
                       cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        auth = {"Authorization": f"Bearer {made.stdout.strip()}"}
        env = engine_env(tmp_path)
        engines = [EngineProcess(name, config, tmp_path, env).start() for name in ("e1", "e2")]
        store = open_store(url)
        try:
            bases = {e.name: base_of(e) for e in engines}
            wait_for(lambda: split_evenly(url), what="the shards split between e1 and e2")
            ids = {str(name): int(i) for i, name in query(url, "SELECT id, name FROM checks")}
            held = holders(url)
            fast = "fast0"
            owner = held[shard_of(ids[fast])]
            other = "e1" if owner == "e2" else "e2"
            slow = next(n for n, i in ids.items() if n.startswith("slow") and held[shard_of(i)] == owner)
            path = f"/ok/{fast}"
            wait_for(lambda: server.served.get(path, 0) >= 2, what=f"{owner} probing {fast}")

            with httpx.Client(base_url=bases[other], headers=auth, timeout=30) as api:
                # -- pause through e1: e2 applies it, stops probing, the stored state says paused ------
                paused = applied(api, store, api.post(f"/api/v1/checks/{ids[fast]}/pause"), owner)
                assert paused["state"]["status"] == "paused"  # type: ignore[index]
                assert stored_status(store, ids[fast]) == "paused"
                time.sleep(1.5)  # a probe that was in flight when the pause landed may still finish
                before = server.served.get(path, 0)
                time.sleep(3.5)  # three intervals and more: a probing owner would have probed again
                assert server.served.get(path, 0) == before, f"{owner} kept probing a paused check"
                assert stored_status(store, ids[fast]) == "paused", "the owner overwrote the pause"
                audit = query(url, "SELECT actor, action FROM audit_log WHERE target = %s", f"acme/{fast}")
                assert any(actor.startswith("apikey:") for actor, _ in audit), audit

                # -- resume through e1: probed again -------------------------------------------------
                resumed = applied(api, store, api.post(f"/api/v1/checks/{ids[fast]}/resume"), owner)
                assert resumed["state"]["status"] != "paused"  # type: ignore[index]
                wait_for(lambda: server.served.get(path, 0) > before, what=f"{owner} probing {fast} again")
                wait_for(lambda: stored_status(store, ids[fast]) != "paused", what="the resume stored")

                # -- run now through e1: e2 probes a check whose schedule would not, once ------------
                slow_path = f"/ok/{slow}"
                time.sleep(1.0)  # past any start-up probe of the slow check
                runs = server.served.get(slow_path, 0)
                ran = api.post(f"/api/v1/checks/{ids[slow]}/run")
                assert ran.status_code == 202, ran.text
                assert ran.json()["command_id"] is not None, f"{other} does not run it: it must forward"
                wait_for(lambda: server.served.get(slow_path, 0) >= runs + 1,
                         what=f"{owner} probing {slow} now")
                done = settle(store, int(ran.json()["command_id"]))
                assert (done.outcome, done.claimed_by) == (CommandOutcome.OK, owner), done
                time.sleep(1.0)
                assert server.served.get(slow_path, 0) == runs + 1, "probed once"
        finally:
            store.close()
            codes = [engine.stop() for engine in engines]
        assert codes == [0, 0]
