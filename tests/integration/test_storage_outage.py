"""The database goes away for ~30 s under a running engine (a private mariadbd, killed and restarted).

The engine keeps probing on its grid, holds results in memory and then in its spool file (a small
`engine.buffer` makes it spill), says so in its log and on /metrics, and writes every result back
when the server returns: the results table ends with exactly as many rows as probes finished.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.cluster_helpers import (
    EngineProcess,
    PrivateMariaDB,
    engine_env,
    free_port,
    mysql_results,
    slots,
    wait_for,
)
from tests.integration.servers import counting_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

CHECKS = 8
INTERVAL = 0.5
OUTAGE = 30.0


def scrape(base: str) -> dict[str, float]:
    """/metrics parsed by Prometheus's own parser: sample name → value (this engine's labels only)."""
    text = httpx.get(f"{base}/metrics", timeout=5).text
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
            if "le" not in s.labels}


def scrape_or_empty(base: str) -> dict[str, float]:
    try:
        return scrape(base)
    except httpx.TransportError:
        return {}


def write_config(tmp_path: Path, port: int, listen: int, base_url: str) -> Path:
    lines = [
        "database:", f"  url: mysql://root@127.0.0.1:{port}/pw?connect_timeout=2",
        "engine:", f"  listen: 127.0.0.1:{listen}", "  buffer: 100", "checks:",
    ]
    for i in range(CHECKS):
        lines += [f"  - name: c{i}", f"    url: {base_url}/ok/{i}", f"    interval: {int(INTERVAL * 1000)}ms"]
    path = tmp_path / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_no_result_is_lost_while_the_database_is_down(tmp_path: Path) -> None:
    server = PrivateMariaDB(tmp_path / "mariadb")
    server.install()
    server.start()
    try:
        with server.connect() as conn, conn.cursor() as cursor:
            cursor.execute("CREATE DATABASE pw CHARACTER SET utf8mb4")
        listen = free_port()
        base = f"http://127.0.0.1:{listen}"
        with counting_server() as target:
            config = write_config(tmp_path, server.port, listen, target.base_url)
            engine = EngineProcess("outage", config, tmp_path, engine_env(tmp_path)).start()
            try:
                wait_for(lambda: len(mysql_results(lambda: server.connect("pw"))) >= 4 * CHECKS,
                         what="results written before the outage")
                down_at = time.time()
                server.kill()

                during = wait_for(
                    lambda: (m := scrape_or_empty(base)) and m.get("pulsewatch_records_spooled", 0) > 0 and m,
                    timeout=OUTAGE, what="results spooled to disk",
                )
                assert during["pulsewatch_storage_up"] == 0
                assert during["pulsewatch_storage_outages_total"] == 1
                assert engine.logged("database writes fail")
                time.sleep(max(0.0, OUTAGE - (time.time() - down_at)))
                up_at = time.time()
                server.start()

                wait_for(lambda: engine.logged("database writes work again"), timeout=60,
                         what="writes resumed")
                after = wait_for(
                    lambda: (m := scrape(base))["pulsewatch_records_spooled"] == 0
                    and m["pulsewatch_records_pending"] == 0 and m,
                    timeout=60, what="the backlog written",
                )
                assert after["pulsewatch_storage_up"] == 1
                assert engine.stop() == 0, engine.log_path.read_text()[-3000:]
            finally:
                engine.kill()
        results = mysql_results(lambda: server.connect("pw"))
    finally:
        server.kill()

    summary = engine.stopped_summary()
    assert summary["records_abandoned"] == 0
    assert len(results) == summary["probes_finished"] == summary["results_written"]
    assert len({(c, t) for c, t, _, _ in results}) == len(results), "no result written twice"
    held = [r for r in results if down_at < r[1] < up_at]
    assert len(held) >= CHECKS * (OUTAGE - 5) / INTERVAL * 0.8, "the engine kept probing through the outage"
    for check_id, probed in slots(results, INTERVAL).items():
        holes = [b - a for a, b in itertools.pairwise(probed)]
        assert max(holes) <= 2, f"check {check_id} was not probed on its grid during the outage: {probed}"
