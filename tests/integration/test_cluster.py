"""Three real `pulsewatch engine` processes share the checks on MariaDB; one is killed with SIGKILL.

What the results table must show, per check: never two results in one round (slot) of its grid, and
never a hole longer than one lease period plus a round, before, during and after the kill.
"""

from __future__ import annotations

import itertools
import math
import signal
import time
from collections import defaultdict
from typing import TYPE_CHECKING

import pymysql
import pytest

from engine.storage.db import parse_url
from tests.integration.cluster_helpers import EngineProcess, engine_env, mysql_results, slots, wait_for
from tests.integration.servers import counting_server
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.slow, pytest.mark.mysql]

CHECKS = 12
INTERVAL = 1.0
LEASE = 3.0


def cluster_url() -> str:
    target = parse_url(MYSQL_URL)
    return MYSQL_URL.rsplit("/", 1)[0] + f"/{target.database}_three"


def connect(url: str) -> pymysql.Connection:  # type: ignore[type-arg]
    target = parse_url(url)
    return pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password,
                           database=target.database, connect_timeout=5)


def write_config(tmp_path: Path, url: str, base_url: str) -> Path:
    lines = ["database:", f"  url: {url}", "engine:", f"  lease: {LEASE}s", "checks:"]
    for i in range(CHECKS):
        lines += [f"  - name: c{i}", f"    url: {base_url}/ok/{i}", f"    interval: {INTERVAL}s"]
    path = tmp_path / "pulsewatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_killed_engines_checks_move_within_one_lease_and_none_is_probed_twice(tmp_path: Path) -> None:
    url = cluster_url()
    reset_mysql_database(url)
    with counting_server() as server:
        config = write_config(tmp_path, url, server.base_url)
        env = engine_env(tmp_path)
        engines = [EngineProcess(f"e{i}", config, tmp_path, env) for i in range(3)]
        try:
            for engine in engines:  # one after the other: the first creates the schema and the checks
                engine.start()
                wait_for(lambda e=engine: e.logged("started with"), what=f"{engine.name} started")
            victim = engines[2]
            wait_for(lambda: victim.logged("now holds"), what="the third engine holding shards")
            # Let every engine probe a few rounds with its share, then kill one without warning.
            time.sleep(4 * INTERVAL)
            killed_at = time.time()
            victim.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            victim.proc.wait(timeout=10)  # type: ignore[union-attr]
            time.sleep(LEASE + 5 * INTERVAL)
            survivors = engines[:2]
            for engine in survivors:
                assert engine.stop() == 0, engine.log_path.read_text()[-2000:]
        finally:
            for engine in engines:
                engine.kill()

    results = mysql_results(lambda: connect(url))
    by_slot = slots(results, INTERVAL)
    assert len(by_slot) == CHECKS, "every check was probed"
    for check_id, probed in by_slot.items():
        assert len(probed) == len(set(probed)), f"check {check_id} probed twice in one round: {probed}"
        holes = [b - a for a, b in itertools.pairwise(probed)]
        assert max(holes) <= math.ceil(LEASE / INTERVAL) + 2, f"check {check_id} unprobed too long: {probed}"

    victims = {c for c, _, engine, _ in results if engine == victim.name}
    assert victims, "the killed engine held some checks"
    after = defaultdict(set)
    for check_id, started, engine, _ok in results:
        if started > killed_at + LEASE + INTERVAL:
            after[check_id].add(engine)
    assert set(after) == set(by_slot), "every check is still probed after the takeover"
    assert all(engines <= {"e0", "e1"} for engines in after.values())
    summary = [e.stopped_summary() for e in survivors]
    assert all(s["records_abandoned"] == 0 for s in summary)
