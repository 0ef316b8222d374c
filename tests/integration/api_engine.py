"""A real headless `pulsewatch engine` for the REST API tests: started as a subprocess on 127.0.0.1:0, its
port read from its log line ("Running on http://127.0.0.1:PORT"), stopped with SIGTERM.

Also the `pulsewatch` command itself (config apply, apikey create) run the way a person runs it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

PULSEWATCH = [sys.executable, "-c", "import sys; from pulsewatch.cli import main; sys.exit(main())"]
_RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


def pulsewatch(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one `pulsewatch` command with `-c config`; its output as text."""
    command = [*PULSEWATCH, *args, "-c", str(config)]
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60, cwd=config.parent)


def create_key(config: Path, org: str, role: str, name: str = "") -> str:
    """`pulsewatch apikey create`: the key it prints (once, alone on stdout)."""
    out = pulsewatch(config, "apikey", "create", "--org", org, "--role", role, "--name", name).stdout
    return out.strip()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy (bounded; no fixed sleeps in assertions)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout}s")


@dataclass
class RunningEngine:
    """A started engine: its base URL and its log file."""

    process: subprocess.Popen[str]
    base: str
    log: Path

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client for the API, authenticated with `key` when given."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def logs(self) -> list[dict[str, Any]]:
        """The engine's JSON log lines so far."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]


@contextmanager
def running_engine(config: Path) -> Iterator[RunningEngine]:
    """Start `pulsewatch engine -c config` (whose engine.listen is 127.0.0.1:0) and stop it after the block.

    Raises:
        AssertionError: the engine did not start listening within 30 s, or did not exit 0 on SIGTERM.
    """
    log = config.parent / "engine.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [*PULSEWATCH, "engine", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            cwd=config.parent,
        )
    try:

        def port() -> str | None:
            if process.poll() is not None:
                raise AssertionError(
                    f"the engine exited with {process.returncode}: {log.read_text()[-2000:]}"
                )
            match = _RUNNING.search(log.read_text())
            return match.group(1) if match else None

        engine = RunningEngine(process, f"http://127.0.0.1:{wait_for(port, what='engine listening')}", log)
        yield engine
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert process.returncode == 0, log.read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
