"""`pulsewatch incident|channel|silence` against a real SQLite database and a real local receiver."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.storage.alerting_store import AlertStore
from engine.storage.store import open_store
from pulsewatch.cli import main
from pulsewatch.config import load_config
from pulsewatch.domain.alerting import Severity
from pulsewatch.domain.monitoring import Flip, Status
from tests.integration.alert_receivers import JsonReceiver, serving


@pytest.fixture
def receiver() -> Iterator[JsonReceiver]:
    with serving(JsonReceiver()) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, receiver: JsonReceiver) -> Path:
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(
        "database:\n  url: sqlite:///alerts.db\n"
        "channels:\n"
        f"  - name: ops\n    urls: ['{receiver.url}', 'mailto://bob:hunter2@mail.example.com?to=x@y.test']\n"
        "  - name: dead\n    urls: ['json://127.0.0.1:1/nothing-listens-here']\n"
        "checks:\n"
        "  - name: api\n    url: http://127.0.0.1:1/\n    tags: [prod]\n    notify: [ops]\n"
    )
    return path


def open_incident(config: Path) -> int:
    """An incident for `api`, made the way the engine makes one."""
    store = open_store(f"sqlite:///{config.parent / 'alerts.db'}")
    try:
        [api] = store.sync_checks(load_config(config).checks).added
        flip = Flip(
            check_id=api.id or 0, at=datetime.now(UTC), old=Status.UP, new=Status.DOWN, reason="HTTP 503"
        )
        incident = AlertStore(store).apply_flip(flip, api, Severity.CRITICAL)
        assert incident is not None
        return incident.id or 0
    finally:
        store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class TestIncidents:
    def test_list_ack_show_and_resolve(
        self, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        c = str(config)
        assert run(capsys, "incident", "list", "-c", c)[1].strip() == "no incidents"
        incident_id = open_incident(config)
        code, out, _ = run(capsys, "incident", "list", "--open", "-c", c)
        assert code == 0
        assert f"#{incident_id}" in out
        assert "OPEN" in out
        assert "HTTP 503" in out
        monkeypatch.setattr(sys, "stdin", io.StringIO("ana's password\n"))
        assert run(capsys, "user", "add", "ana@x.test", "--org", "default", "--role", "owner",
                   "--password-stdin", "-c", c)[0] == 0
        code, out, err = run(
            capsys, "incident", "ack", str(incident_id), "--note", "on it", "--as", "ana@x.test", "-c", c
        )
        assert (code, err) == (0, "")
        assert "acknowledged by ana@x.test" in out
        [data] = json.loads(run(capsys, "incident", "list", "--json", "-c", c)[1])
        assert data["status"] == "acknowledged"
        assert data["acknowledged_by"] == "ana@x.test"
        assert data["ack_note"] == "on it"
        code, _, err = run(capsys, "incident", "note", str(incident_id), "restarted the pod", "-c", c)
        assert code == 1  # ana can sign in now: who acts must be named
        assert "name who is acting (--as EMAIL)" in err
        assert run(capsys, "incident", "note", str(incident_id), "restarted the pod",
                   "--as", "ana@x.test", "-c", c)[0] == 0
        assert run(capsys, "incident", "resolve", str(incident_id), "--as", "ana@x.test", "-c", c)[0] == 0
        code, out, _ = run(capsys, "incident", "show", str(incident_id), "-c", c)
        assert code == 0
        lines = [line.split(None, 3)[2] for line in out.splitlines() if line.startswith("  20")]
        assert lines == ["opened", "acknowledged", "note", "resolved"]
        assert "[ana@x.test]" in out
        assert run(capsys, "incident", "list", "--open", "-c", c)[1].strip() == "no open incidents"

    def test_an_unknown_incident_fails(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "incident", "ack", "42", "-c", str(config))
        assert code == 1
        assert "no incident #42" in err


class TestChannels:
    def test_list_never_shows_secrets(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "channel", "list", "-c", str(config))
        assert code == 0
        assert "hunter2" not in out
        assert "bob" not in out
        assert "mailto://***@mail.example.com/***" in out
        [ops, dead] = json.loads(run(capsys, "channel", "list", "--json", "-c", str(config))[1])
        assert ops["name"] == "ops"
        assert dead["failing"] is False

    def test_test_sends_a_real_message(
        self, config: Path, receiver: JsonReceiver, capsys: pytest.CaptureFixture[str]
    ) -> None:
        ops_json_only = config.read_text().replace(
            ", 'mailto://bob:hunter2@mail.example.com?to=x@y.test'", ""
        )
        config.write_text(ops_json_only)
        code, out, _ = run(capsys, "channel", "test", "ops", "-c", str(config))
        assert code == 0
        assert "test message sent to ops" in out
        assert receiver.titles() == ["PulseWatch test: ops"]

    def test_test_exits_1_with_the_error_when_delivery_fails(
        self, config: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys, "channel", "test", "dead", "-c", str(config))
        assert code == 1
        assert "test message to dead failed" in err
        assert "127.0.0.1" in err

    def test_test_of_an_unknown_channel_is_bad_usage(
        self, config: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys, "channel", "test", "nope", "-c", str(config))
        assert code == 2
        assert "channels: ops, dead" in err


class TestSilences:
    def test_add_list_and_remove(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        c = str(config)
        code, out, _ = run(
            capsys, "silence", "add", "--tag", "prod", "--for", "2h", "--reason", "migration", "-c", c
        )
        assert code == 0
        assert out.startswith("silence #1: tag prod until")
        [listed] = json.loads(run(capsys, "silence", "list", "--json", "-c", c)[1])
        assert listed["tags"] == ["prod"]
        assert listed["reason"] == "migration"
        assert listed["active"] is True
        assert run(capsys, "silence", "remove", "1", "-c", c)[0] == 0
        assert run(capsys, "silence", "list", "-c", c)[1].strip() == "no silences in force"
        assert "(over)" in run(capsys, "silence", "list", "--all", "-c", c)[1]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--check", "api", "--for", "soon"], "expected a duration"),
            (["--check", "nope", "--for", "1h"], "no check 'nope'"),
            (["--tag", "staging", "--for", "1h"], "no tag 'staging'"),
        ],
    )
    def test_bad_silences_are_bad_usage(
        self, config: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
    ) -> None:
        code, _, err = run(capsys, "silence", "add", *args, "--reason", "r", "-c", str(config))
        assert code == 2
        assert message in err
