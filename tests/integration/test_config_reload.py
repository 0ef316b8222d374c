"""Config as code with a running engine: `config plan` and `apply` round trips, then the engine picks the
change up on SIGHUP (file watching off) — and, in a second run, on a plain file change — keeping the
state of the checks that did not change; /metrics counts the reloads."""

from __future__ import annotations

import signal
import sqlite3
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.cluster_helpers import EngineProcess, engine_env, free_port, run_cli, wait_for
from tests.integration.servers import counting_server

if TYPE_CHECKING:
    from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def write_config(path: Path, base_url: str, listen: int, checks: dict[str, str], watch: str = "off") -> None:
    lines = ["database:", "  url: sqlite:///engine.db", "engine:", "  name: reloader",
             f"  listen: 127.0.0.1:{listen}", f"  watch: {watch}", "checks:"]
    for name, target in checks.items():
        lines += [f"  - name: {name}", f"    url: {base_url}{target}", "    interval: 300ms"]
    path.write_text("\n".join(lines) + "\n")


def state(db: Path, name: str) -> tuple[str, int, int] | None:
    """(status, since, consecutive successes) of a check, or None."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT s.status, s.since, s.consecutive_successes FROM check_states s "
            "JOIN checks c ON c.id = s.check_id WHERE c.name = ?", (name,)
        ).fetchone()
    return None if row is None else (str(row[0]), int(row[1] or 0), int(row[2]))


def reloads(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        if family.name == "pulsewatch_config_reloads":
            return float(family.samples[0].value)
    raise AssertionError("no pulsewatch_config_reloads metric")


def test_plan_apply_and_sighup_reload_keep_unchanged_checks(tmp_path: Path) -> None:
    config = tmp_path / "pulsewatch.yaml"
    db = tmp_path / "engine.db"
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    with counting_server() as server:
        write_config(config, server.base_url, listen, {"a": "/ok/a", "b": "/ok/b", "c": "/ok/c"})
        engine = EngineProcess("reloader", config, tmp_path, engine_env(tmp_path)).start()
        try:
            wait_for(lambda: all(server.served[f"/ok/{n}"] >= 2 for n in "abc"), what="a, b, c probed")
            kept = wait_for(lambda: (s := state(db, "a")) and s[0] == "up" and s, what="a up")

            write_config(config, server.base_url, listen, {"a": "/ok/a", "b": "/ok/b2", "d": "/ok/d"})
            plan = run_cli("config", "plan", "-c", str(config), cwd=tmp_path)
            assert plan.returncode == 0, plan.stderr
            assert "+ check default/d" in plan.stdout
            assert "~ check default/b" in plan.stdout
            assert "- check default/c" in plan.stdout
            assert "would change: 1 to add, 1 to change, 1 to remove" in plan.stdout
            applied = run_cli("config", "apply", "-c", str(config), cwd=tmp_path)
            assert applied.returncode == 0, applied.stderr
            assert "changed: 1 to add, 1 to change, 1 to remove" in applied.stdout
            again = run_cli("config", "plan", "-c", str(config), cwd=tmp_path)
            assert "no changes" in again.stdout

            assert not engine.logged("config reloaded")  # watching is off: only SIGHUP reloads
            engine.signal(signal.SIGHUP)
            wait_for(lambda: engine.logged("config reloaded: 1 added, 1 changed, 1 removed"), what="reload")
            assert engine.logged("reloading the config (SIGHUP)")
            wait_for(lambda: server.served["/ok/d"] >= 2 and server.served["/ok/b2"] >= 2, what="d and new b")
            removed_probes = server.served["/ok/c"]
            wait_for(lambda: server.served["/ok/d"] >= 6, what="more rounds")
            assert server.served["/ok/c"] <= removed_probes + 1  # at most one probe was in flight
            status, since, successes = state(db, "a") or ("", 0, 0)
            assert (status, since) == kept[:2], "the unchanged check kept its state"
            assert successes > kept[2]
            assert reloads(base) == 1
            assert engine.stop() == 0
        finally:
            engine.kill()
        assert state(db, "c") is None

        # A second run watches the file: no signal, the engine notices the change itself.
        checks = {"a": "/ok/a", "b": "/ok/b2", "d": "/ok/d"}
        write_config(config, server.base_url, listen, checks, watch="500ms")
        engine = EngineProcess("reloader-2", config, tmp_path, engine_env(tmp_path)).start()
        try:
            wait_for(lambda: engine.logged("started with"), what="restart")
            write_config(config, server.base_url, listen, {**checks, "e": "/ok/e"}, watch="500ms")
            wait_for(lambda: server.served["/ok/e"] >= 2, what="e probed after a file change")
            assert engine.logged("reloading the config (file change)")
            assert reloads(base) == 1
            assert engine.stop() == 0
        finally:
            engine.kill()
