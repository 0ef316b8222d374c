"""Run every benchmark against local targets it starts itself; print one table; write the same as JSON.

    python -m bench                          # the full suite (about 15–20 minutes on 2 cores)
    python -m bench --short                  # a quick look (a few minutes)
    python -m bench --only engine,console --repeat 3
    python -m bench --list
    python -m bench --from bench/results/latest.json --markdown   # an earlier run's table, for the docs

Each benchmark runs as its own subprocess (`python -m bench.NAME ... --json FILE`). The table has one
row per figure: its median (over the benchmark's own runs, and over `--repeat` repeats), the issue's
target and whether it was met, and ours ÷ peer for the peer figures the issue quotes. Exit status: 0
when every benchmark ran (targets missed included), 1 when one failed to run, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report, suite

DEFAULT_JSON = Path("bench/results/latest.json")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="each benchmark's quick settings")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="run only these benchmarks (see --list)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each benchmark; medians reported")
    parser.add_argument("--json", metavar="FILE", type=Path, default=DEFAULT_JSON,
                        help=f"where the JSON goes (default {DEFAULT_JSON})")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds one benchmark run may take (default 1,800; 600 with --short)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--from", dest="source", metavar="FILE", type=Path,
                        help="print the table of an earlier run's JSON instead of running")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")
    try:
        args.selected = suite.select(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for bench in suite.BENCHMARKS:
            print(f"{bench.name:14} {bench.about}")
        return 0
    if args.source is not None:
        try:
            document = json.loads(args.source.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"python -m bench: cannot read {args.source}: {exc}", file=sys.stderr)
            return 2
        try:
            outcomes = report.from_json(document)
        except (KeyError, TypeError) as exc:
            print(f"python -m bench: {args.source} is not the JSON of a `python -m bench` run "
                  f"({type(exc).__name__}: {exc})", file=sys.stderr)
            return 2
        print(render(outcomes, document, markdown=args.markdown))
        return 0
    timeout = args.timeout or (600.0 if args.short else 1800.0)
    meta: dict[str, Any] = {
        "mode": "short" if args.short else "full",
        "repeat": args.repeat,
        "started_at": _now(),
        "load_average_start": list(os.getloadavg()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "commit": _commit(),
    }
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as folder:
        for n, bench in enumerate(args.selected, 1):
            print(f"[{n}/{len(args.selected)}] {bench.name} …", end=" ", file=sys.stderr, flush=True)
            outcome = suite.run(bench, short=args.short, repeat=args.repeat, timeout=timeout,
                                folder=Path(folder))
            detail = f": {outcome.error}" if outcome.error else ""
            print(f"{outcome.status} in {outcome.seconds:.0f} s{detail}", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    meta.update(finished_at=_now(), load_average_end=list(os.getloadavg()))
    document = report.to_json(outcomes, meta)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(render(outcomes, document, markdown=args.markdown))
    print(f"\nJSON: {args.json}", file=sys.stderr)
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def render(outcomes: list[report.Outcome], document: dict[str, Any], *, markdown: bool) -> str:
    """The header line (mode, machine, load average, commit), the table, the summary line."""
    load = " → ".join(
        " ".join(f"{x:.2f}" for x in document[key]) for key in ("load_average_start", "load_average_end")
        if document.get(key)
    )
    header = (f"PulseWatch benchmarks, {document.get('mode', '?')} run of {document.get('started_at', '?')}"
              f" · {document.get('cpus', '?')} CPUs · load average (1/5/15 min) {load or '?'}"
              f" · commit {document.get('commit') or '?'}")
    total = report.summary(outcomes)
    footer = (f"targets met: {total['met']}, missed: {total['missed']}; failed to run: "
              f"{', '.join(total['failed']) or 'none'}; skipped: {', '.join(total['skipped']) or 'none'}")
    if markdown:
        return f"{header}\n\n{report.format_table(outcomes, markdown=True)}\n\n{footer}"
    return f"{header}\n\n{report.format_table(outcomes)}\n\n{footer}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _commit() -> str | None:
    """The checkout's commit, marked "+local changes" when the tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=suite.ROOT, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=suite.ROOT, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+local changes" if dirty else head


if __name__ == "__main__":
    raise SystemExit(main())
