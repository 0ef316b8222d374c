"""`status --json` gives heartbeat checks their ping_url (and every other check a null one)."""

from __future__ import annotations

from pulsewatch.cli.commands import status_json
from pulsewatch.domain.heartbeats import HeartbeatSpec
from pulsewatch.domain.monitoring import Check, CheckState

BACKUP = Check(
    name="nightly-backup",
    url="/ping/nightly-7f3a",
    kind="heartbeat",
    heartbeat=HeartbeatSpec(token="nightly-7f3a", period=86400.0),
    id=1,
)
API = Check(name="api", url="https://api.example.com/health", kind="https", id=2)


def test_a_heartbeat_check_has_its_ping_url_on_the_listener() -> None:
    row = status_json(BACKUP, CheckState(check_id=1), listen="127.0.0.1:8787")
    assert row["ping_url"] == "http://127.0.0.1:8787/ping/nightly-7f3a"
    assert row["kind"] == "heartbeat"


def test_ipv6_listeners_keep_their_brackets() -> None:
    row = status_json(BACKUP, CheckState(check_id=1), listen="[::1]:8787")
    assert row["ping_url"] == "http://[::1]:8787/ping/nightly-7f3a"


def test_probed_checks_and_configs_without_a_listener_have_none() -> None:
    assert status_json(API, CheckState(check_id=2), listen="127.0.0.1:8787")["ping_url"] is None
    assert status_json(BACKUP, CheckState(check_id=1))["ping_url"] is None
