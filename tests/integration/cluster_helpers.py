"""Real processes for the production tests: headless engines, a private MariaDB server, result slots.

The shared MariaDB server is never stopped: outage tests start a private `mariadbd` on a free port
with a data directory under the test's tmp_path, and kill and restart that one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql
import pytest

from engine.scheduler import initial_phase

if TYPE_CHECKING:
    from collections.abc import Callable

PULSEWATCH = [sys.executable, "-c", "import sys; from pulsewatch.cli import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout}s")


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PULSEWATCH, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env,
                          check=False)


@dataclass
class EngineProcess:
    """A `pulsewatch engine` subprocess whose JSON log goes to a file (a pipe could fill and block it)."""

    name: str
    config: Path
    cwd: Path
    env: dict[str, str]
    log_path: Path = field(init=False)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.log_path = self.cwd / f"{self.name}.log"

    def start(self) -> EngineProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*PULSEWATCH, "engine", "-c", str(self.config), "--name", self.name],
                stdout=subprocess.DEVNULL, stderr=log, cwd=self.cwd, env=self.env,
            )
        return self

    def logs(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        return [json.loads(line) for line in lines if line.startswith("{")]

    def logged(self, text: str) -> bool:
        return any(text in entry.get("msg", "") for entry in self.logs())

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait, and return the exit code (killed when it does not stop in time)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stopped_summary(self) -> dict[str, Any]:
        """The engine's last "stopped" log line (probes finished, results written...)."""
        return next(e for e in reversed(self.logs()) if "probes_finished" in e)


def engine_env(tmp_path: Path) -> dict[str, str]:
    """The environment of test engines: spool files under tmp_path, not in the user's data dir."""
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return env


class PrivateMariaDB:
    """A mariadbd of the test's own, on a free port, that can be killed and started again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.datadir = root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binaries() -> tuple[str, str] | None:
        mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
        install = shutil.which("mariadb-install-db")
        return (mariadbd, install) if mariadbd and install else None

    def install(self) -> None:
        found = self.binaries()
        if found is None:
            pytest.skip("mariadbd and mariadb-install-db are not installed: cannot run a private server")
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [found[1], "--no-defaults", "--auth-root-authentication-method=normal",
             f"--datadir={self.datadir}", "--skip-test-db",
             "--user=root" if os.geteuid() == 0 else f"--user={os.environ.get('USER', 'nobody')}"],
            check=True, capture_output=True, timeout=120,
        )

    def start(self) -> None:
        found = self.binaries()
        assert found is not None
        command = [
            found[0], "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.root / 'mysqld.sock'}",
            f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-networking=0",
            f"--pid-file={self.root / 'mysqld.pid'}", f"--log-error={self.root / 'error.log'}",
            "--innodb-buffer-pool-size=32M", "--skip-log-bin",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=60, what="private mariadbd answering")

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-connection, as in a crash or a network cut."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def connect(self, database: str | None = None) -> pymysql.Connection[Any]:
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database,
                               connect_timeout=2, autocommit=True)

    def _answers(self) -> bool:
        try:
            self.connect().close()
        except pymysql.MySQLError:
            return False
        return True


def mysql_results(connect: Callable[[], Any]) -> list[tuple[int, float, str, bool]]:
    """(check id, started at as Unix seconds, engine, ok) of every stored result, oldest first."""
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT check_id, started_at, engine, ok FROM results ORDER BY started_at, id")
            return [(int(c), int(t) / 1e6, str(e), bool(ok)) for c, t, e, ok in cursor.fetchall()]
    except pymysql.err.ProgrammingError:  # no results table yet: the engine is still creating the schema
        return []
    finally:
        conn.close()


def slots(results: list[tuple[int, float, str, bool]], interval: float) -> dict[int, list[int]]:
    """Each check's results as slot numbers on its wall-clock grid (engine.scheduler: slot k is due at
    Unix time phase + k × interval). A probe starts at or after its due time, so a result belongs to
    the latest slot due before it started (a few ms of clock noise allowed)."""
    by_check: dict[int, list[int]] = defaultdict(list)
    for check_id, started, _engine, _ok in results:
        phase = initial_phase(check_id, interval)
        by_check[check_id].append(math.floor((started - phase) / interval + 0.02))
    return {c: sorted(s) for c, s in by_check.items()}
