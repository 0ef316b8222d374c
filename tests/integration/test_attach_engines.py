"""Two real `pulsewatch engine` processes on MariaDB: a check created through one engine's REST API is
probed by the other without a restart, and commands left in the table are executed by exactly one
engine — the holder of the check's shard for check commands, any engine for the others.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pymysql
import pytest

from engine.storage.command_store import SqlCommandStore
from engine.storage.db import parse_url
from engine.storage.store import open_store
from pulsewatch.domain.cluster import SHARDS, shard_of
from pulsewatch.domain.commands import CommandOutcome, new_command
from tests.integration.cluster_helpers import EngineProcess, engine_env, run_cli, wait_for
from tests.integration.servers import counting_server
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from pathlib import Path

    from engine.storage.store import SqlStore
    from pulsewatch.domain.commands import Command

pytestmark = [pytest.mark.slow, pytest.mark.mysql]

CHECKS = 6
_RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


def two_url() -> str:
    target = parse_url(MYSQL_URL)
    return MYSQL_URL.rsplit("/", 1)[0] + f"/{target.database}_two"


def query(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    target = parse_url(url)
    conn = pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password,
                           database=target.database, connect_timeout=5, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, args)
            return [tuple(row) for row in cursor.fetchall()]
    except pymysql.err.ProgrammingError:  # a table not created yet
        return []
    finally:
        conn.close()


def holders(url: str) -> dict[int, str]:
    """Shard → engine, for unexpired leases."""
    now = int(time.time() * 1_000_000)
    rows = query(url, "SELECT shard, engine FROM shard_leases WHERE engine != '' AND expires_at >= %s", now)
    return {int(shard): str(engine) for shard, engine in rows}


def split_evenly(url: str) -> bool:
    held = holders(url)
    return sorted(set(held.values())) == ["e1", "e2"] and all(
        list(held.values()).count(e) == SHARDS // 2 for e in ("e1", "e2"))


def listening(engine: EngineProcess) -> str | None:
    match = _RUNNING.search(engine.log_path.read_text()) if engine.log_path.exists() else None
    return f"http://127.0.0.1:{match.group(1)}" if match else None


def write_config(tmp_path: Path, url: str, base_url: str) -> Path:
    lines = ["database:", f"  url: {url}", "engine:", "  lease: 3s", "  listen: 127.0.0.1:0",
             "api: {rate: 1000, burst: 1000}", "organizations:", "  - slug: acme", "checks:"]
    for i in range(CHECKS):
        lines += [f"  - name: c{i}", f"    url: {base_url}/ok/{i}", "    interval: 1s"]
    path = tmp_path / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def settle(store: SqlStore, command_id: int, timeout: float = 20.0) -> Command:
    commands = SqlCommandStore(store)
    return wait_for(lambda: next((c for c in commands.commands([command_id]) if c.settled), None),
                    timeout=timeout, what=f"command #{command_id} answered")


def test_check_changes_and_commands_reach_the_right_engine(tmp_path: Path) -> None:
    url = two_url()
    reset_mysql_database(url)
    with counting_server() as server:
        config = write_config(tmp_path, url, server.base_url)
        applied = run_cli("config", "apply", "-c", str(config), cwd=tmp_path)
        assert applied.returncode == 0, applied.stderr
        made = run_cli("apikey", "create", "--org", "acme", "--role", "admin", "-c", str(config),
                       cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        env = engine_env(tmp_path)
        engines = [EngineProcess(name, config, tmp_path, env).start() for name in ("e1", "e2")]
        store = open_store(url)
        try:
            e1_base = wait_for(lambda: listening(engines[0]), what="e1 listening")
            wait_for(lambda: split_evenly(url), what="the shards split between e1 and e2")

            # -- a check created through e1's API reaches e2, which holds its shard --------------------
            auth = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=e1_base, headers=auth, timeout=30) as api:
                for n in range(10):
                    created = api.post("/api/v1/checks", json={
                        "name": f"fresh-{n}", "url": f"{server.base_url}/ok/fresh-{n}", "interval_s": 1,
                        "timeout_s": 1})
                    assert created.status_code == 201, created.text
                    fresh = created.json()["id"]
                    if holders(url)[shard_of(fresh)] == "e2":
                        break
                else:
                    pytest.fail("ten new checks and none in e2's shards")
                by_e2 = "SELECT 1 FROM results WHERE check_id = %s AND engine = 'e2'"
                wait_for(lambda: query(url, by_e2, fresh), what="e2 probing the check created through e1")
                moved = api.patch(f"/api/v1/checks/{fresh}", json={"url": f"{server.base_url}/ok/moved"})
                assert moved.status_code == 200, moved.text
                wait_for(lambda: server.served.get("/ok/moved", 0) >= 1, what="e2 probing the changed URL")
            assert engines[1].logged("stored checks changed")

            # -- pause: executed by the holder of the check's shard, and by it only --------------------
            ids = {name: int(i) for i, name in query(url, "SELECT id, name FROM checks")}
            owners = {name: holders(url)[shard_of(i)] for name, i in ids.items() if name.startswith("c")}
            per_engine = {e: next(n for n, o in owners.items() if o == e) for e in ("e1", "e2")}
            commands = SqlCommandStore(store)
            sent = {
                engine: commands.add_command(new_command("pause", org="acme", requested_by="console",
                                                         now=datetime.now(UTC), check_id=ids[name])).id
                for engine, name in per_engine.items()
            }
            for engine, command_id in sent.items():
                assert command_id is not None
                done = settle(store, command_id)
                assert (done.outcome, done.claimed_by) == (CommandOutcome.OK, engine), done
                assert store.load_states()[ids[per_engine[engine]]].status.value == "paused"

            # -- organization-level commands: each done exactly once, by whichever engine came first ---
            silences = [
                commands.add_command(new_command("silence", org="acme", requested_by="console",
                                                 now=datetime.now(UTC),
                                                 args={"check": f"c{i % CHECKS}", "duration": 600,
                                                       "reason": f"race {i}"})).id
                for i in range(20)
            ]
            answers = [settle(store, i or 0) for i in silences]
            assert all(a.outcome is CommandOutcome.OK for a in answers), [a.message for a in answers]
            assert {a.claimed_by for a in answers} <= {"e1", "e2"}
            reasons = sorted(r for (r,) in query(url, "SELECT reason FROM silences"))
            assert reasons == sorted(f"race {i}" for i in range(20))  # none twice, none lost
        finally:
            store.close()
            codes = [engine.stop() for engine in engines]
        assert codes == [0, 0]
