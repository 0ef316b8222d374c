"""The benchmarks `python -m bench` runs, and how one is run: a subprocess writing its own JSON.

Every benchmark stays a standalone command (`python -m bench.NAME ... --json FILE`); the runner
only chooses its arguments (full or short), reads the JSON it wrote and turns it into figures
(bench.figures). A benchmark that exits non-zero, times out, writes no JSON or JSON of another shape
becomes a failed outcome with its error; the others still run. A benchmark whose module is not
there (one that another branch has not added yet) is skipped, not failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import figures
from bench.report import Figure, Outcome, merge_repeats

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_LIMIT = 20_000
"""Characters of a benchmark's printed output kept in the JSON (its end: where tables and errors are)."""


@dataclass(frozen=True)
class Benchmark:
    """One entry of the suite.

    Attributes:
        name: what `--only` and the table call it.
        module: the `bench.<module>` command that measures it.
        extract: its JSON → the runner's figures.
        full: arguments for a full run; short: for a quick look.
        about: one line for `--list`.
    """

    name: str
    module: str
    extract: Callable[[dict[str, Any]], list[Figure]]
    full: tuple[str, ...]
    short: tuple[str, ...]
    about: str


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("engine", "engine_throughput", figures.engine,
              ("--checks", "5000", "--interval", "2.4"),
              ("--checks", "5000", "--interval", "2.4", "--window", "5", "--repeat", "1"),
              "one in-process engine, 5,000 checks at 2,083 probes/s offered, SQLite and MariaDB, "
              "with the bare-socket floor"),
    Benchmark("engine_pair", "engine_pair", figures.engine_pair, (), ("--short",),
              "recorded throughput of one `pulsewatch engine` process vs two sharing MariaDB (leases on)"),
    Benchmark("engine_memory", "engine_memory", figures.engine_memory, (), ("--short",),
              "RSS of one `pulsewatch engine` process with 10,000 checks on SQLite"),
    Benchmark("storage_size", "storage_size", figures.storage_size, (), ("--checks", "20"),
              "bytes per raw result and per check per day after rollups, SQLite and MariaDB"),
    Benchmark("alert_latency", "alert_latency", figures.alert_latency, (), ("--short",),
              "flip → delivered to a local json:// receiver"),
    Benchmark("console", "console", figures.console, (), ("--runs", "2"),
              "console first paint and 1,000 changes on a 10,000-row grid"),
    Benchmark("api_load", "api_load", figures.api_load, (), ("--checks", "200", "--requests", "500"),
              "REST API latency and throughput under load (no target in the issue)"),
    Benchmark("attach_poll", "attach_poll", figures.attach_poll, (), ("--short",),
              "attached console: write → console lag and the cost of following the database (no target)"),
    Benchmark("console_uptime", "console_uptime", figures.console_uptime, (), ("--short",),
              "stored 24h/7d uptime read for every check at 10,000 checks, SQLite (no target)"),
)


def select(only: str | None) -> list[Benchmark]:
    """The benchmarks named in `only` ("a,b"), in suite order; all of them for None.

    Raises:
        ValueError: a name that is not in the suite (the message lists the names that are).
    """
    if not only:
        return list(BENCHMARKS)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    known = {b.name for b in BENCHMARKS}
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise ValueError(f"unknown benchmark {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(b.name for b in BENCHMARKS)}")
    return [b for b in BENCHMARKS if b.name in wanted]


def command(bench: Benchmark, *, short: bool, json_path: Path) -> list[str]:
    return [sys.executable, "-m", f"bench.{bench.module}", *(bench.short if short else bench.full),
            "--json", str(json_path)]


def run(bench: Benchmark, *, short: bool, repeat: int, timeout: float, folder: Path) -> Outcome:
    """Run `bench` `repeat` times and return its figures (medians over repeats) or its failure."""
    if not (ROOT / "bench" / f"{bench.module}.py").exists():
        return Outcome(bench.name, "skipped", error=f"bench/{bench.module}.py is not there")
    started = time.monotonic()
    runs: list[list[Figure]] = []
    outcome = Outcome(bench.name, "ok")
    outputs = []
    for attempt in range(repeat):
        json_path = folder / f"{bench.name}-{attempt}.json"
        outcome.command = command(bench, short=short, json_path=json_path)
        error, output = _execute(outcome.command, timeout)
        outputs.append(output)
        if error is None:
            error = _read(bench, json_path, outcome, runs)
        if error is not None:
            outcome.status, outcome.error = "failed", error
            break
    outcome.seconds = time.monotonic() - started
    outcome.output = "".join(outputs)[-OUTPUT_LIMIT:]
    if outcome.status == "ok":
        outcome.figures = merge_repeats(runs)
    return outcome


def _execute(argv: list[str], timeout: float) -> tuple[str | None, str]:
    """Run one benchmark command in its own process group (it starts servers and engines of its own,
    all killed with it on a timeout); return (error or None, what it printed)."""
    log_path = Path(argv[-1]).with_suffix(".log")
    with log_path.open("w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return f"timed out after {timeout:g} s", log_path.read_text(errors="replace")
    output = log_path.read_text(errors="replace")
    if code != 0:
        return f"exit {code}: {last_line(output)}", output
    return None, output


def _read(bench: Benchmark, json_path: Path, outcome: Outcome, runs: list[list[Figure]]) -> str | None:
    try:
        raw = json.loads(json_path.read_text())
    except FileNotFoundError:
        return "wrote no JSON"
    except json.JSONDecodeError as exc:
        return f"wrote JSON that does not parse: {exc}"
    outcome.raw.append(raw)
    try:
        runs.append(bench.extract(raw))
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        return f"unexpected JSON shape: {type(exc).__name__}: {exc}"
    return None


def last_line(output: str, limit: int = 300) -> str:
    """The line that says what went wrong: the last non-empty one (a traceback's exception line)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    text = lines[-1] if lines else "(no output)"
    return text if len(text) <= limit else text[: limit - 1] + "…"
