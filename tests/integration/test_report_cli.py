"""`pulsewatch report uptime|sla` on a real SQLite database: rolled-up, half rolled-up and raw data."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.storage.fields import to_micros
from engine.storage.rollup_store import RollupStore
from engine.storage.store import open_store
from pulsewatch.cli import main
from pulsewatch.domain.monitoring import Flip, ProbeResult, Status
from pulsewatch.services.reports import SLA_COLUMNS, UPTIME_COLUMNS
from tests.storage.backends import raw_sql

CONFIG = """\
database:
  url: sqlite:///report.db
checks:
  - name: api
    url: http://127.0.0.1:9/health
  - name: db
    url: tcp://127.0.0.1:9
"""


def probe(check_id: int, at: datetime, ok: bool = True) -> ProbeResult:
    return ProbeResult(check_id=check_id, started_at=at, duration_ms=80.0 if ok else 900.0, ok=ok)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config and its database: `api` has 490 probes (11 failed) and one incident in the last
    7 hours — an old stretch rolled up to hours, a recent one to minutes, the last minutes raw;
    `db` has 100 good probes in the last hour."""
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(CONFIG)
    assert main(["config", "apply", str(path)]) == 0
    now = datetime.now(UTC)
    store = open_store(f"sqlite:///{tmp_path / 'report.db'}")
    try:
        ids = {c.name: c.id for c in store.load_checks()}
        api, db = ids["api"], ids["db"]
        assert api is not None
        assert db is not None
        old = now - timedelta(hours=6, minutes=30)
        recent = now - timedelta(minutes=30)
        results = [probe(api, old + timedelta(seconds=5 * i), ok=i % 50 != 7) for i in range(360)]
        results += [probe(api, recent + timedelta(seconds=5 * i), ok=i % 40 != 3) for i in range(120)]
        results += [probe(api, now - timedelta(seconds=100 - 10 * i)) for i in range(10)]
        results += [probe(db, now - timedelta(minutes=50) + timedelta(seconds=20 * i)) for i in range(100)]
        flips = [
            Flip(api, old + timedelta(minutes=20), Status.UP, Status.DOWN),
            Flip(api, old + timedelta(minutes=21), Status.DOWN, Status.UP),
        ]
        store.record(results, [], flips)
        # As if the checks were added when their history began.
        added = to_micros(old - timedelta(minutes=1))
        raw_sql(store, f"UPDATE checks SET created_at = {added}")  # noqa: S608 — an integer
        RollupStore(store).roll_up_pending(now, 300.0)
    finally:
        store.close()
    return path


def report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["report", *args]) == 0
    return capsys.readouterr().out


class TestUptime:
    def test_json_counts_every_probe_rolled_up_or_not(
        self, config: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = report(capsys, "uptime", "-c", str(config), "--format", "json")

        rows = {r["check"]: r for r in json.loads(out)}

        api, db = rows["api"], rows["db"]
        assert (api["probes"], api["failures"], api["incidents"]) == (490, 11, 1)
        assert api["uptime_pct"] == pytest.approx(100 * 479 / 490, abs=1e-4)
        assert 80.0 <= api["p50_ms"] < 80.0 * 1.2
        assert api["downtime_s"] == pytest.approx(11 / 490 * (6 * 3600 + 31 * 60), rel=0.01)
        assert 900.0 / 1.2 < api["p99_ms"] <= 900.0  # in the bucket of the failures' 900 ms
        assert (db["probes"], db["failures"], db["uptime_pct"], db["incidents"]) == (100, 0, 100.0, 0)
        assert list(api) == list(UPTIME_COLUMNS)

    def test_a_shorter_window_and_one_check(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        args = ("-c", str(config), "--since", "1h", "--check", "api", "--format", "json")
        out = report(capsys, "uptime", *args)

        [api] = json.loads(out)
        assert (api["check"], api["probes"], api["failures"], api["incidents"]) == ("api", 130, 3, 0)

    def test_csv_has_a_header_and_a_row_per_check(
        self, config: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        rows = list(csv.reader(io.StringIO(report(capsys, "uptime", "-c", str(config), "--format", "csv"))))

        assert rows[0] == list(UPTIME_COLUMNS)
        assert [r[0] for r in rows[1:]] == ["api", "db"]
        assert rows[1][UPTIME_COLUMNS.index("probes")] == "490"

    def test_the_table_is_for_people(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        lines = report(capsys, "uptime", "-c", str(config)).splitlines()

        assert lines[0].startswith("from ")
        assert lines[0].endswith(" UTC")
        assert lines[1].split() == ["CHECK", "UPTIME", "DOWNTIME", "INCIDENTS", "PROBES", "P50", "P95", "P99"]
        assert lines[2].split()[:2] == ["api", "97.755%"]
        assert lines[3].split()[:2] == ["db", "100.000%"]


class TestSla:
    def test_the_error_budget_against_a_target(
        self, config: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = report(capsys, "sla", "-c", str(config), "--target", "99", "--format", "json")

        rows = {r["check"]: r for r in json.loads(out)}
        assert list(rows["api"]) == list(SLA_COLUMNS)
        assert (rows["api"]["met"], rows["db"]["met"]) == (False, True)
        assert rows["api"]["budget_left_pct"] == pytest.approx(100 * (1 - (11 / 490) / 0.01), abs=0.01)
        assert rows["db"]["budget_left_pct"] == 100.0

    def test_sla_table(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        lines = report(capsys, "sla", "-c", str(config), "--target", "95").splitlines()

        assert lines[1].split()[:4] == ["CHECK", "UPTIME", "TARGET", "MET"]
        assert lines[2].split()[:4] == ["api", "97.755%", "95%", "yes"]


class TestMistakes:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["uptime", "--since", "30"], "expected a duration like"),
            (["sla", "--target", "100"], "between 0 and 100"),
            (["uptime", "--format", "xml"], "invalid choice"),
        ],
    )
    def test_bad_usage_is_exit_2(
        self, config: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
    ) -> None:
        assert main(["report", *args, "-c", str(config)]) == 2
        assert message in capsys.readouterr().err

    def test_an_unknown_check_is_exit_1(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", "uptime", "-c", str(config), "--check", "nope"]) == 1
        assert "no check named 'nope'" in capsys.readouterr().err
