"""The `pulsewatch` command line: exit codes, messages and the scriptable `status --json` contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulsewatch.cli import main

GOOD = """\
database:
  url: sqlite:///cli.db
checks:
  - name: api
    url: http://127.0.0.1:9/health
    interval: 30s
    timeout: 5s
  - name: db
    url: tcp://127.0.0.1:9
    interval: 1m
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(GOOD)
    return path


def test_validate_prints_ok(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", str(config)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_validate_accepts_dash_c(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", "-c", str(config)]) == 0


def test_a_typo_is_reported_with_its_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(GOOD.replace("    interval: 1m", "    intervall: 1m"))
    assert main(["config", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:10:5: checks[1].intervall" in err
    assert "intervall" in err


def test_a_missing_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_bad_usage_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2


def test_plan_apply_then_status_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "plan", str(config)]) == 0
    out = capsys.readouterr().out
    assert "+ check default/api" in out
    assert "2 to add" in out

    assert main(["config", "apply", str(config)]) == 0
    capsys.readouterr()
    assert main(["config", "plan", str(config)]) == 0
    assert "no changes" in capsys.readouterr().out

    assert main(["status", "-c", str(config), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["status"]) for r in rows] == [("api", "unknown"), ("db", "unknown")]
    for row in rows:
        assert {"name", "status", "last_checked_at", "last_error"} <= set(row)
    # a relative sqlite path is relative to the config file, not to the working directory
    assert (config.parent / "cli.db").exists()


def test_db_upgrade_is_idempotent(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "-c", str(config)]) == 0
    assert main(["db", "upgrade", "-c", str(config)]) == 0
    assert "up to date" in capsys.readouterr().out.splitlines()[-1]


def test_status_table_for_people(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["config", "apply", str(config)])
    capsys.readouterr()
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "LATENCY", "LAST", "CHECKED", "REASON"]
    assert "UNKNOWN" in out
