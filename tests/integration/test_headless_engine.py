"""The headless engine as a real subprocess: results and flips land in the database; SIGTERM loses nothing."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.servers import counting_server

pytestmark = pytest.mark.slow

PULSEWATCH = [sys.executable, "-c", "import sys; from pulsewatch.cli import main; sys.exit(main())"]


def write_config(tmp_path: Path, base_url: str, n_ok: int = 10, n_fail: int = 5) -> Path:
    lines = ["database:", "  url: sqlite:///engine.db", "engine:", "  name: it-engine", "checks:"]
    for i in range(n_ok):
        lines += [f"  - name: ok-{i}", f"    url: {base_url}/ok/{i}", "    interval: 200ms",
                  '    conditions: ["[STATUS] == 200"]']
    for i in range(n_fail):
        lines += [f"  - name: fail-{i}", f"    url: {base_url}/fail/{i}", "    interval: 200ms",
                  '    conditions: ["[STATUS] == 200"]', "    failure_threshold: 2"]
    path = tmp_path / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def count_results(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_sigterm_writes_every_finished_probe(tmp_path: Path) -> None:
    with counting_server() as server:
        config = write_config(tmp_path, server.base_url)
        proc = subprocess.Popen(
            [*PULSEWATCH, "engine", "-c", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )
        try:
            db = tmp_path / "engine.db"
            wait_for(lambda: count_results(db) >= 60)
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        served = sum(server.served.values())

    assert proc.returncode == 0, stderr
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert logs, f"expected JSON log lines on stderr, got: {stderr[:500]}"
    assert all({"ts", "level", "msg"} <= set(entry) for entry in logs)

    with sqlite3.connect(tmp_path / "engine.db") as conn:
        results = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        down = conn.execute(
            "SELECT c.name FROM flips f JOIN checks c ON c.id = f.check_id WHERE f.new = 'down'"
        ).fetchall()
        states = dict(conn.execute(
            "SELECT c.name, s.status FROM check_states s JOIN checks c ON c.id = s.check_id"
        ).fetchall())

    finished = next(e for e in reversed(logs) if "probes_finished" in e)
    # Every probe the engine finished is in the database, and every response the server sent was
    # either recorded or still in flight when the stop came (at most one per check).
    assert results == finished["probes_finished"]
    assert served - 15 <= results <= served
    assert sorted(name for (name,) in down) == [f"fail-{i}" for i in range(5)]
    assert all(states[f"ok-{i}"] == "up" for i in range(10))
    assert all(states[f"fail-{i}"] == "down" for i in range(5))
