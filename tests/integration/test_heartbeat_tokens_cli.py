"""Generated heartbeat tokens through the CLI: `config apply` stores them, `status --json` shows them as
`ping_url`, `config plan` agrees they are unchanged, and another database gets other tokens."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pulsewatch.cli import main

CONFIG = """\
database:
  url: sqlite:///{db}
engine:
  listen: 127.0.0.1:8787
checks:
  - name: nightly
    heartbeat: {{period: 1d}}
"""


def run(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> str:
    capsys.readouterr()
    assert main([*argv, "-c", str(path)]) == 0
    return capsys.readouterr().out


def ping_url(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    assert run(capsys, path, "config", "apply").endswith("changed: 1 to add, 0 to change, 0 to remove\n")
    [row] = json.loads(run(capsys, path, "status", "--json"))
    return str(row["ping_url"])


def test_generated_tokens_are_stored_shown_and_stable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(CONFIG.format(db="a.db"))
    second.write_text(CONFIG.format(db="b.db"))

    url = ping_url(capsys, first)

    assert re.fullmatch(r"http://127\.0\.0\.1:8787/ping/[a-z2-7]{32}", url)
    assert run(capsys, first, "config", "plan") == "no changes: the database matches the config\n"
    assert run(capsys, first, "config", "apply").endswith("no changes: the database matches the config\n")
    assert ping_url(capsys, second) != url  # another installation, another secret
