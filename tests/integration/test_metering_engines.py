"""Metering is exact with several engines: two real `pulsewatch engine` processes on one MariaDB database
write results at once; the probe counters equal the results rows, per organization, and the seats both
engines record are each organization's members (a high-water mark, never their sum)."""

from __future__ import annotations

import os
from pathlib import Path

import pymysql
import pytest

from engine.storage.db import parse_url
from tests.integration.cluster_helpers import EngineProcess, engine_env, run_cli, wait_for
from tests.integration.servers import counting_server
from tests.storage.backends import MYSQL_URL, reset_mysql_database

pytestmark = [pytest.mark.slow, pytest.mark.mysql]

URL = MYSQL_URL.rsplit("/", 1)[0] + "/" + os.environ.get("PULSEWATCH_TEST_METERING_DB", "pw_metering")


def config(base_url: str) -> str:
    lines = [
        "database:", f"  url: {URL}",
        "engine:", "  lease: 5s",
        "plans:", "  - name: team", "    price: 49.00 USD", "    limits: {checks: 50}",
        "organizations:",
        "  - slug: acme", "    plan: team",
        "    members: [{email: ana@acme.test, role: owner}, {email: bo@acme.test, role: member}]",
        "  - slug: beta", "    members: [{email: bea@beta.test, role: owner}]",
        "checks:",
    ]  # fmt: skip
    for org, n in (("acme", 12), ("beta", 6)):
        for i in range(n):
            lines += [
                f"  - name: {org}-{i}",
                f"    org: {org}",
                f"    url: {base_url}/ok/{org}/{i}",
                "    interval: 100ms",
                '    conditions: ["[STATUS] == 200"]',
            ]
    return "\n".join(lines) + "\n"


def query(sql: str) -> list[tuple[object, ...]]:
    target = parse_url(URL)
    conn = pymysql.connect(
        host=target.host,
        port=target.port,
        user=target.user,
        password=target.password,
        database=target.database,
        connect_timeout=5,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def results_by_org() -> dict[str, int]:
    rows = query("SELECT c.org, COUNT(*) FROM results r JOIN checks c ON c.id = r.check_id GROUP BY c.org")
    return {str(org): int(str(n)) for org, n in rows}


def probes_by_org() -> dict[str, int]:
    rows = query("SELECT org, SUM(n) FROM usage_counters WHERE metric = 'probes' GROUP BY org")
    return {str(org): int(str(n)) for org, n in rows}


def seats_by_org() -> dict[str, list[int]]:
    rows = query("SELECT org, n FROM usage_counters WHERE metric = 'seats' ORDER BY org, day")
    found: dict[str, list[int]] = {}
    for org, n in rows:
        found.setdefault(str(org), []).append(int(str(n)))
    return found


def engines_writing() -> bool:
    rows = query("SELECT COUNT(DISTINCT engine) FROM results")
    return int(str(rows[0][0])) == 2


def test_two_engines_count_exactly_what_they_write(tmp_path: Path) -> None:
    reset_mysql_database(URL)
    env = engine_env(tmp_path)
    with counting_server() as server:
        path = tmp_path / "pulsewatch.yaml"
        path.write_text(config(server.base_url))
        # The schema first, as a deployment does: two engines creating it at once is not what this tests.
        upgraded = run_cli("db", "upgrade", "-c", str(path), cwd=tmp_path, env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        applied = run_cli("config", "apply", "-c", str(path), cwd=tmp_path, env=env)  # members: seats
        assert applied.returncode == 0, applied.stderr
        engines = [EngineProcess(name, path, tmp_path, env).start() for name in ("meter-1", "meter-2")]
        try:
            wait_for(
                lambda: sum(results_by_org().values()) >= 1500 and engines_writing(),
                90,
                "both engines writing 1500 results",
            )
            codes = [engine.stop() for engine in engines]
        finally:
            for engine in engines:
                engine.kill()

    assert codes == [0, 0], [e.logs()[-3:] for e in engines]
    written = results_by_org()
    assert set(written) == {"acme", "beta"}
    assert probes_by_org() == written
    days = len(seats_by_org()["acme"])  # one row per UTC day the engines ran (two around midnight)
    assert seats_by_org() == {"acme": [2] * days, "beta": [1] * days}
    finished = sum(e.stopped_summary()["results_written"] for e in engines)
    assert finished == sum(written.values())
