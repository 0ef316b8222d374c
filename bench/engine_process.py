"""Real `pulsewatch engine` processes for the benchmarks that measure a whole engine from outside.

`bench.engine_memory` and `bench.engine_pair` run the production engine (the CLI's composition:
notifier, cluster leases, maintenance, metering, the listener) exactly as an operator would, each in
its own process, and read it the way an operator's tools do: `/proc/<pid>/status` and `/proc/<pid>/stat`
for memory and CPU, `/metrics` for its counters, the results table for what was recorded. The local
HTTP target is `bench.target_server`, started through its command line in a process of its own so
its CPU is never charged to an engine.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PULSEWATCH = [sys.executable, "-c", "import sys; from pulsewatch.cli import main; sys.exit(main())"]
MYSQL_URL = os.environ.get("PULSEWATCH_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/pulsewatch_bench")
"""The benchmarks' MariaDB database: dropped and created again by every run that uses it."""
RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
"""What the listener logs once bound (the port is chosen by the OS: listen 127.0.0.1:0)."""
MB = 1_000_000
"""The issue's memory target is in MB; /proc reports KiB (1,024 bytes)."""


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it returns something truthy, and return that.

    Raises:
        RuntimeError: not met within `timeout` seconds (names `what`).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout:g} s")


@contextmanager
def local_target() -> Iterator[str]:
    """`bench.target_server` in its own process; yields its base URL, kills it on exit.

    Raises:
        RuntimeError: the server did not report its port within 10 s.
    """
    with tempfile.TemporaryDirectory(prefix="pw-bench-target-") as folder:
        port_file = Path(folder) / "port"
        proc = subprocess.Popen([sys.executable, "-m", "bench.target_server", str(port_file)])
        try:
            port = wait_for(lambda: port_file.exists() and port_file.read_text().strip(), 10,
                            "the local target server reporting its port")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.kill()
            proc.wait()


def fresh_mysql(url: str) -> None:
    """Drop and recreate the database of `url`, so a run starts from an empty schema."""
    import pymysql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                           user=parts.username or "root", password=parts.password or "")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()


def mysql_query(url: str, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query on the database of `url` (a connection of its own, closed after)."""
    import pymysql

    parts = urlsplit(url)
    conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                           user=parts.username or "root", password=parts.password or "",
                           database=parts.path.lstrip("/"))
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    finally:
        conn.close()


def write_config(folder: Path, *, database: str, target: str, checks: int, interval: float,
                 lease: float = 30.0) -> Path:
    """A config file with `checks` plain-HTTP checks on distinct paths of the local target."""
    lines = [
        "database:",
        f"  url: '{database}'",
        "engine:",
        "  listen: '127.0.0.1:0'",
        f"  lease: {lease:g}s",
        "checks:",
    ]
    timeout = min(5.0, interval)  # the config refuses a timeout longer than the interval
    lines += [
        f"  - {{name: c{i:05d}, url: '{target}/c/{i}', interval: {interval:g}s, timeout: {timeout:g}s}}"
        for i in range(checks)
    ]
    path = folder / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


class EngineProcess:
    """One `pulsewatch engine --name NAME` subprocess, its JSON log in a file (a pipe could fill)."""

    def __init__(self, name: str, config: Path, folder: Path) -> None:
        self.name = name
        self.config = config
        self.folder = folder
        self.log_path = folder / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._metrics_url: str | None = None

    def start(self) -> EngineProcess:
        env = dict(os.environ)
        env["XDG_DATA_HOME"] = str(self.folder / "xdg")  # the spool goes under the run's folder
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*PULSEWATCH, "engine", "-c", str(self.config), "--name", self.name],
                stdout=subprocess.DEVNULL, stderr=log, cwd=self.folder, env=env,
            )
        return self

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"engine {self.name} was not started")
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def wait_started(self, timeout: float) -> None:
        """Wait for "started with" in the log.

        Raises:
            RuntimeError: the engine exited first (with its log's tail) or took longer than `timeout`.
        """

        def started() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"engine {self.name} exited with {self.proc.returncode}: "
                                   f"{self.log_text()[-1500:]}")
            return "started with" in self.log_text()

        wait_for(started, timeout, f"engine {self.name} starting")

    def shards(self) -> int | None:
        """Shards this engine holds, by its latest lease log line (joined / now holds)."""
        held = [entry["shards"] for entry in self.logs() if "shards" in entry]
        return int(held[-1]) if held else None

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (the peak resident) of the engine, in KiB."""
        figures = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0])
        return figures

    def cpu_seconds(self) -> float:
        """User plus system CPU the engine process has used (all its threads)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()  # the command name may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metrics(self) -> dict[str, float]:
        """One /metrics scrape: sample name → value, histogram buckets as `name{le}`."""
        from prometheus_client.parser import text_string_to_metric_families

        if self._metrics_url is None:
            match = RUNNING.search(self.log_text())
            if match is None:
                raise RuntimeError(f"engine {self.name} has not logged its listen address")
            self._metrics_url = f"http://127.0.0.1:{match.group(1)}/metrics"
        with urllib.request.urlopen(self._metrics_url, timeout=10) as response:  # noqa: S310 - local URL
            text = response.read().decode()
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                le = sample.labels.get("le")
                samples[f"{sample.name}{{{le}}}" if le is not None else sample.name] = sample.value
        return samples

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (a clean stop: every finished probe is written), wait, return the exit code.

        Raises:
            RuntimeError: it did not stop within `timeout` (it is killed first).
        """
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"engine {self.name} did not stop within {timeout:g} s") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def histogram_percentile(before: dict[str, float], after: dict[str, float], name: str, q: float) -> float:
    """The q-th percentile (0–100) of a Prometheus histogram's observations between two scrapes, as
    the upper bound of the bucket it falls in (inf: beyond the last bound; nan: no observations).

    Bucket bounds are coarse (0.1, 0.25, 0.5 s...), so this says "at most", not an exact figure.
    """
    prefix = f"{name}_bucket{{"
    bounds = sorted(
        (float(key[len(prefix):-1]), after[key] - before.get(key, 0.0))
        for key in after if key.startswith(prefix)
    )
    if not bounds or bounds[-1][1] <= 0:
        return math.nan
    total = bounds[-1][1]
    return next(bound for bound, cumulative in bounds if cumulative >= q / 100 * total)
