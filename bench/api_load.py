"""REST API under load: latency (p50/p95/p99) and throughput of `GET /api/v1/checks` from a second process.

    python -m bench.api_load                          # 500 checks, 8 clients, 3000 requests, SQLite
    python -m bench.api_load --checks 2000 --clients 16 --requests 5000 --limit 100
    python -m bench.api_load --probing                # the checks are probed meanwhile (1 s interval)

The engine is the real `pulsewatch engine` (a subprocess, listen 127.0.0.1:0, port read from its log);
this process is the load generator: `--clients` threads, each with its own keep-alive httpx client,
share a fixed number of requests, so the run is bounded in count (and by `--timeout` in time). By
default the checks are paused, so the figures are the API's alone; `--probing` points them at a local
target every second, to see what the API costs while the engine works. The key's rate limit is set far
above the offered load (the limiter still runs on every request).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

PULSEWATCH = [sys.executable, "-c", "import sys; from pulsewatch.cli import main; sys.exit(main())"]
RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def _config(folder: Path, checks: int, target: str, probing: bool) -> Path:
    lines = [
        "database: {url: 'sqlite:///bench.db'}",
        "engine: {name: bench, listen: '127.0.0.1:0'}",
        "api: {rate: 100000, burst: 1000000}",
        "checks:",
    ]
    every = "interval: 1s, timeout: 1s" if probing else "interval: 60s, paused: true"
    lines += [
        f"  - {{name: check-{n:05}, url: '{target}/c{n}', {every}, tags: [t{n % 10}]}}" for n in range(checks)
    ]
    path = folder / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(config: Path, *args: str) -> str:
    command = [*PULSEWATCH, *args, "-c", str(config)]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout


def _load(base: str, key: str, *, clients: int, requests: int, limit: int, timeout: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + timeout

    def worker() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                response = client.get("/api/v1/checks", params={"limit": limit})
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200 and len(response.json()["items"]) == limit:
                        latencies.append(elapsed)
                    else:
                        errors.append(f"{response.status_code}: {response.text[:80]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))] if ms else float("nan")

    return {
        "requests_ok": len(ms),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": round(wall, 2),
        "throughput_rps": round(len(ms) / wall, 1) if wall else 0.0,
        "p50_ms": round(pct(50), 2),
        "p95_ms": round(pct(95), 2),
        "p99_ms": round(pct(99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=50, help="checks per page")
    parser.add_argument("--timeout", type=float, default=120.0, help="stop the load after this many seconds")
    parser.add_argument("--probing", action="store_true", help="probe every check each second meanwhile")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = parser.parse_args()

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pw-api-load-")))
        target = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
        target.daemon_threads = True
        threading.Thread(target=target.serve_forever, daemon=True).start()
        stack.callback(target.shutdown)
        config = _config(folder, args.checks, f"http://127.0.0.1:{target.server_address[1]}", args.probing)
        _run(config, "config", "apply")
        key = _run(
            config, "apikey", "create", "--org", "default", "--role", "viewer", "--name", "bench"
        ).strip()
        log = folder / "engine.log"
        with log.open("w") as sink:
            engine = subprocess.Popen([*PULSEWATCH, "engine", "-c", str(config)], stderr=sink, cwd=folder)
        try:
            port = None
            for _ in range(600):
                if (match := RUNNING.search(log.read_text())) is not None:
                    port = match.group(1)
                    break
                if engine.poll() is not None:
                    raise SystemExit(f"the engine exited: {log.read_text()[-1000:]}")
                time.sleep(0.05)
            if port is None:
                raise SystemExit("the engine did not start listening within 30 s")
            base = f"http://127.0.0.1:{port}"
            _load(
                base,
                key,
                clients=args.clients,
                requests=min(200, args.requests),
                limit=args.limit,
                timeout=30,
            )
            figures = _load(
                base,
                key,
                clients=args.clients,
                requests=args.requests,
                limit=args.limit,
                timeout=args.timeout,
            )
        finally:
            engine.send_signal(signal.SIGTERM)
            try:
                engine.wait(timeout=30)
            except subprocess.TimeoutExpired:
                engine.kill()
                engine.wait()
    result = {
        "checks": args.checks,
        "clients": args.clients,
        "limit": args.limit,
        "probing": args.probing,
        **figures,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
