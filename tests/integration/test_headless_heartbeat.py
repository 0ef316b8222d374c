"""The real headless `pulsewatch engine` with `engine.listen`: /healthz answers, pings flip a heartbeat check,
a check whose job never pings goes DOWN on its own, and `status --json` shows each ping_url."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.slow

PULSEWATCH = [sys.executable, "-c", "import sys; from pulsewatch.cli import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(
        "\n".join(
            [
                "database:",
                "  url: sqlite:///engine.db",
                "engine:",
                "  name: hb-engine",
                f"  listen: 127.0.0.1:{port}",
                "checks:",
                "  - name: nightly-backup",
                "    heartbeat: {period: 1d, grace: 1h, token: nightly-7f3a}",
                "  - name: ticker",  # never pinged: DOWN on its own after 2s + 1s
                "    heartbeat: {period: 2s, grace: 1s}",
            ]
        )
        + "\n"
    )
    return path


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def status(config: Path) -> dict[str, dict[str, Any]]:
    command = [*PULSEWATCH, "status", "-c", str(config), "--json"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout
    return {row["name"]: row for row in json.loads(out)}


def healthz(base: str) -> httpx.Response | None:
    try:
        return httpx.get(f"{base}/healthz", timeout=2)
    except httpx.TransportError:
        return None


def test_the_headless_engine_serves_health_and_pings(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*PULSEWATCH, "engine", "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        health = wait_for(lambda: healthz(base))
        assert health.status_code == 200
        assert {k: v for k, v in health.json().items() if k != "uptime_s"} == {
            "status": "ok", "engine": "hb-engine", "checks": 2,
        }

        assert httpx.post(f"{base}/ping/nightly-7f3a", content=b"ok", timeout=5).text == "OK"
        assert wait_for(lambda: status(config)["nightly-backup"]["status"] == "up")
        assert httpx.get(f"{base}/ping/nightly-7f3a/2", timeout=5).text == "OK"
        backup = wait_for(lambda: (row := status(config)["nightly-backup"])["status"] == "down" and row)
        assert backup["last_error"] == "exit status 2"
        assert httpx.get(f"{base}/ping/no-such-token", timeout=5).status_code == 404

        ticker = wait_for(lambda: (row := status(config)["ticker"])["status"] == "down" and row)
        assert ticker["last_error"] == "no ping since monitoring began 3s ago (expected every 2s, grace 1s)"

        rows = status(config)
        assert rows["nightly-backup"]["ping_url"] == f"{base}/ping/nightly-7f3a"
        assert rows["ticker"]["ping_url"].startswith(f"{base}/ping/")
        assert rows["nightly-backup"]["kind"] == "heartbeat"

        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(entry.get("logger") == "pulsewatch.http" and str(port) in entry["msg"] for entry in logs)
    assert healthz(base) is None  # the listener stopped with the engine
