"""Flip → delivered latency of alerts: a real engine, a real local target, Apprise to a local webhook.

    python -m bench.alert_latency [--flips 50] [--json out.json]
    python -m bench.alert_latency --short         # a quick look: 20 flips

The target alternates between healthy and failing; every flip (down, then recovered) is one
notification to a json:// receiver on 127.0.0.1. Latency is the receiver's arrival time minus the
flip's instant (the incident's opening or resolution, as the engine stamped it): it covers the
notifier's queue, the incident and outbox writes (SQLite), the claim, Apprise in a worker thread,
the HTTP delivery and the confirmation's start. Prints count, p50, p95 and max.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import trio

from engine.notifier import Notifier
from engine.runtime import Engine
from engine.storage.alerting_store import AlertStore
from engine.storage.store import open_store
from pulsewatch.domain.alerting import (
    AlertingConfig,
    Channel,
    EscalationPolicy,
    EscalationStep,
    FlapPolicy,
    Route,
)
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check
from tests.integration.alert_receivers import JsonReceiver, ToggleTarget, serving


def measure(flips: int) -> list[float]:
    """Run the scenario; returns one latency (seconds) per delivered notification."""
    with (
        tempfile.TemporaryDirectory() as folder,
        serving(ToggleTarget()) as target,
        serving(JsonReceiver()) as receiver,
    ):
        store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            policy = EscalationPolicy("bench", (EscalationStep(0, ("ops",)),), flapping=FlapPolicy(flips=0))
            config = AlertingConfig(
                channels=(Channel("ops", (receiver.url,)),), policies=(policy,), routes=(Route("bench"),)
            )
            alerts = AlertStore(store)
            notifier = Notifier(alerts, config, engine="bench", wall_clock=lambda: datetime.now(UTC))
            check = Check(
                name="flappy",
                url=f"{target.base_url}/",
                kind="http",
                interval=0.1,
                timeout=1.0,
                conditions=(parse_condition("[STATUS] == 200"),),
            )
            engine = Engine(store, [check], name="bench", notifier=notifier)

            async def main() -> None:
                with trio.fail_after(60 + flips * 5):
                    async with trio.open_nursery() as nursery:
                        await nursery.start(engine.run)
                        while not _up(engine):  # noqa: ASYNC110 - polls state nothing signals
                            await trio.sleep(0.01)
                        for n in range(flips):
                            target.healthy = n % 2 == 1
                            while len(receiver.received) <= n:  # noqa: ASYNC110 - as above
                                await trio.sleep(0.005)
                            await trio.sleep(0.3)  # a calm gap, so each flip is judged on its own
                        engine.stop()

            trio.run(main)
            incidents = {i.id: i for i in alerts.incidents(limit=10 * flips)}
            latencies = []
            for message in receiver.received:
                match = re.search(r"Incident #(\d+)", message.body)
                incident = incidents[int(match.group(1))] if match else None
                if incident is None:
                    continue
                flipped = incident.opened_at if message.title.startswith("DOWN") else incident.resolved_at
                if flipped is not None:
                    latencies.append(message.at - flipped.timestamp())
            return latencies
        finally:
            store.close()


def _up(engine: Engine) -> bool:
    return any(state.status.value == "up" for state in engine.states.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flips", type=int, default=50)
    parser.add_argument("--short", action="store_true", help="20 flips")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.short:
        args.flips = 20
    started = time.monotonic()
    latencies = sorted(measure(args.flips))
    ms = [x * 1000 for x in latencies]
    if not ms:
        raise SystemExit("alert latency: no notification reached the json:// receiver")
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(f"alert latency over {len(ms)} flips (flip → received by a local json:// webhook):")
    print(
        f"  p50 {statistics.median(ms):.1f} ms   p95 {p95:.1f} ms   max {ms[-1]:.1f} ms   min {ms[0]:.1f} ms"
    )
    print(f"  ({time.monotonic() - started:.1f}s in all)")
    if args.json:
        figures = {"count": len(ms), "p50_ms": statistics.median(ms), "p95_ms": p95, "max_ms": ms[-1],
                   "min_ms": ms[0]}
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
