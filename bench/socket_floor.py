"""The floor an HTTP probe is measured against: a bare trio socket probe, a new connection per probe.

    python -m bench.socket_floor --rate 2000 --window 10     # against its own bench.target_server

Each probe connects, sends a GET, reads the response (head and Content-Length body), and closes:
no HTTP library, no pool, no scheduling beyond a 10 ms ticker, no evaluation, no storage. Probes
start at `rate` per second, as the engine's checks do, because CPU per probe depends on the pace
(a saturated loop batches more events per epoll wakeup). CPU is `time.process_time()` over the
window divided by the probes finished in it, as in bench.engine_throughput.
"""

from __future__ import annotations

import argparse
import json
import time

import trio

TICK = 0.01
"""Seconds between batches of probe starts."""
IN_FLIGHT = 256
"""The most probes at once (the engine's default concurrency); starts past it are skipped and counted."""


async def probe_once(port: int, request: bytes) -> bool:
    """One bare probe; True when a complete response arrived."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    try:
        await stream.send_all(request)
        data = b""
        while True:
            chunk = await stream.receive_some(65536)
            if not chunk:
                return False
            data += chunk
            head_end = data.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            length = 0
            for line in data[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(data) >= head_end + 4 + length:
                return data.startswith(b"HTTP/1.1 200")
    finally:
        await stream.aclose()


async def _paced(port: int, rate: float, warmup: float, window: float) -> dict[str, float]:
    request = f"GET /floor HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: floor\r\n\r\n".encode()
    counts = {"done": 0, "failed": 0, "skipped": 0, "running": 0}

    async def one() -> None:
        ok = False
        try:
            with trio.move_on_after(5):
                ok = await probe_once(port, request)
        except OSError:
            pass
        finally:
            counts["running"] -= 1
        counts["done"] += 1
        counts["failed"] += not ok

    async with trio.open_nursery() as nursery:
        started = last = trio.current_time()
        owed = 0.0
        marks: dict[str, tuple[int, float, float]] = {}
        while True:
            now = trio.current_time()
            if "start" not in marks and now - started >= warmup:
                marks["start"] = (counts["done"], time.process_time(), time.monotonic())
            if now - started >= warmup + window:
                marks["end"] = (counts["done"], time.process_time(), time.monotonic())
                break
            owed += rate * (now - last)  # by the clock, not per tick: a late tick starts more
            last = now
            while owed >= 1:
                owed -= 1
                if counts["running"] >= IN_FLIGHT:
                    counts["skipped"] += 1
                    continue
                counts["running"] += 1
                nursery.start_soon(one)
            await trio.sleep_until(now + TICK)
    (p0, c0, w0), (p1, c1, w1) = marks["start"], marks["end"]
    probes = p1 - p0
    return {
        "probes": probes,
        "probes_per_s": probes / (w1 - w0),
        "cpu_ms_per_probe": (c1 - c0) * 1000 / max(probes, 1),
        "failed": counts["failed"],
        "skipped": counts["skipped"],
    }


def measure_floor(port: int, rate: float, *, warmup: float = 1.0, window: float = 10.0) -> dict[str, float]:
    """CPU per bare new-connection probe against 127.0.0.1:`port`, at `rate` probes per second.

    Returns:
        probes, probes_per_s, cpu_ms_per_probe, failed (probes without a complete 200) and skipped
        (starts refused with IN_FLIGHT probes running: the target or the machine could not keep up).
    """
    return trio.run(_paced, port, rate, warmup, window)


def main() -> None:
    from bench.engine_throughput import start_target

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2000.0, help="probes started per second")
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    target, port = start_target()
    try:
        figures = measure_floor(port, args.rate, window=args.window)
    finally:
        target.kill()
        target.wait()
    print(f"bare trio socket probe, new connection each: {figures['probes_per_s']:.0f} probes/s, "
          f"{figures['cpu_ms_per_probe']:.3f} ms CPU/probe, {figures['failed']:.0f} failed, "
          f"{figures['skipped']:.0f} skipped")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"args": vars(args), "results": figures}, out, indent=2)


if __name__ == "__main__":
    main()
