"""Real deliveries: the engine probes a local target, the notifier sends through Apprise to a local
HTTP receiver (json://) and a local SMTP server (mailto://). Real time, real threads, bounded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio

from engine.notifier import Notifier
from engine.runtime import Engine
from engine.storage.alerting_outbox_store import INTERRUPTED
from engine.storage.alerting_store import AlertStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.alerting import AlertingConfig, Channel, IncidentStatus
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check
from pulsewatch.domain.notifications import DeliveryStatus, RetryPolicy
from tests.integration.alert_receivers import JsonReceiver, ToggleTarget, serving, smtp_server

pytestmark = pytest.mark.slow

Step = tuple[Callable[[], bool], Callable[[], None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    yield store
    store.close()


@pytest.fixture
def target() -> Iterator[ToggleTarget]:
    with serving(ToggleTarget()) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[JsonReceiver]:
    with serving(JsonReceiver()) as server:
        yield server


def api_check(target: ToggleTarget) -> Check:
    return Check(
        name="api",
        url=f"{target.base_url}/health",
        kind="http",
        interval=0.2,
        timeout=1.0,
        conditions=(parse_condition("[STATUS] == 200"),),
        notify=("ops",),
    )


def make_engine(sql: SqlStore, target: ToggleTarget, channel: Channel, **options: Any) -> Engine:
    notifier = Notifier(
        AlertStore(sql),
        AlertingConfig(channels=(channel,)),
        engine="it-engine",
        wall_clock=utc_now,
        tick=0.2,
        send_timeout=5.0,
        **options,
    )
    return Engine(sql, [api_check(target)], name="it-engine", notifier=notifier)


def drive(engine: Engine, steps: list[Step], *, timeout: float = 30.0, crash: bool = False) -> None:
    """Run the engine; for each step wait for its condition, then do its action; then stop (or crash)."""

    async def main() -> None:
        with trio.fail_after(timeout):
            async with trio.open_nursery() as nursery:
                await nursery.start(engine.run)
                for condition, action in steps:
                    while not condition():  # noqa: ASYNC110 - polls state nothing signals
                        await trio.sleep(0.02)
                    action()
                if crash:
                    nursery.cancel_scope.cancel()  # no flush, no confirmation: what a kill -9 leaves
                else:
                    engine.stop()

    trio.run(main)


def nothing() -> None:
    pass


def test_down_and_recovery_reach_a_webhook_and_a_mailbox(
    sql: SqlStore, target: ToggleTarget, receiver: JsonReceiver
) -> None:
    with smtp_server() as (mailbox, port):
        mailto = f"mailto://127.0.0.1:{port}?to=oncall@example.test&from=pulsewatch@example.test"
        engine = make_engine(sql, target, Channel("ops", (receiver.url, mailto)))

        def go_down() -> None:
            target.healthy = False

        def come_back() -> None:
            target.healthy = True

        drive(
            engine,
            [
                (lambda: _state(engine) == "up", go_down),
                (lambda: "DOWN: api" in receiver.titles() and "DOWN: api" in mailbox.subjects(), come_back),
                (
                    lambda: "RECOVERED: api" in receiver.titles() and "RECOVERED: api" in mailbox.subjects(),
                    nothing,
                ),
            ],
        )
    assert receiver.titles() == ["DOWN: api", "RECOVERED: api"]
    assert mailbox.subjects() == ["DOWN: api", "RECOVERED: api"]
    [incident] = AlertStore(sql).incidents()
    assert incident.status == IncidentStatus.RESOLVED
    down = receiver.received[0].body
    assert f"Incident #{incident.id}" in down
    assert "api is DOWN" in down
    assert "503" in down
    assert f"Incident #{incident.id}" in mailbox.messages[0].body
    rows = AlertStore(sql).notifications()
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert all(r.delivered_urls == {0, 1} for r in rows)


def test_a_failing_webhook_is_retried_and_every_attempt_is_recorded(
    sql: SqlStore, target: ToggleTarget, receiver: JsonReceiver
) -> None:
    receiver.fail_next = 2
    engine = make_engine(
        sql, target, Channel("ops", (receiver.url,)), retry=RetryPolicy(attempts=5, first=0.2, cap=1.0)
    )

    def go_down() -> None:
        target.healthy = False

    drive(
        engine,
        [
            (lambda: _state(engine) == "up", go_down),
            (lambda: len(receiver.titles()) >= 3, nothing),
            (lambda: _statuses(sql) == [DeliveryStatus.SENT], nothing),
        ],
    )
    assert receiver.titles() == ["DOWN: api"] * 3
    alerts = AlertStore(sql)
    [row] = alerts.notifications()
    assert row.attempts == 3
    attempts = alerts.attempts(row.id)
    assert [a.ok for a in attempts] == [False, False, True]
    assert all(a.error for a in attempts[:2])
    assert "127.0.0.1" in attempts[0].error
    [health] = alerts.channel_health()
    assert not health.failing


def test_a_restart_mid_send_neither_loses_nor_duplicates_beyond_at_least_once(
    sql: SqlStore, target: ToggleTarget, receiver: JsonReceiver
) -> None:
    """The first engine dies while the receiver holds its request (written, sent, not confirmed); the
    next engine sends it again: delivered at least once, at most twice, and recorded as interrupted."""
    receiver.hold_next = 1
    first = make_engine(sql, target, Channel("ops", (receiver.url,)))

    def go_down() -> None:
        target.healthy = False

    drive(
        first,
        [(lambda: _state(first) == "up", go_down), (lambda: len(receiver.titles()) == 1, nothing)],
        crash=True,
    )
    assert _statuses(sql) == [DeliveryStatus.SENDING]
    receiver.release.set()
    second = make_engine(sql, target, Channel("ops", (receiver.url,)))
    drive(second, [(lambda: _statuses(sql) == [DeliveryStatus.SENT], nothing)])
    assert receiver.titles() == ["DOWN: api", "DOWN: api"]
    alerts = AlertStore(sql)
    [row] = alerts.notifications()
    assert [a.error for a in alerts.attempts(row.id)] == [INTERRUPTED, ""]


def _state(engine: Engine) -> str:
    states = list(engine.states.values())
    return states[0].status.value if states else "unknown"


def _statuses(sql: SqlStore) -> list[DeliveryStatus]:
    return [n.status for n in AlertStore(sql).notifications()]


def test_the_headless_engine_alerts_from_its_config(
    tmp_path: Path, target: ToggleTarget, receiver: JsonReceiver
) -> None:
    """`pulsewatch engine -c FILE`, a real process: config → notifier → Apprise → webhook; SIGTERM exits 0."""
    import signal
    import subprocess
    import sys
    import time

    config = tmp_path / "pulsewatch.yaml"
    config.write_text(
        "database:\n  url: sqlite:///engine.db\n"
        f"channels:\n  - name: ops\n    urls: ['{receiver.url}']\n"
        f"checks:\n  - name: api\n    url: {target.base_url}/health\n    interval: 200ms\n"
        "    conditions: ['[STATUS] == 200']\n    notify: [ops]\n"
    )
    target.healthy = False
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pulsewatch.cli import main; sys.exit(main())",
            "engine",
            "-c",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while "DOWN: api" not in receiver.titles() and time.monotonic() < deadline:
            time.sleep(0.05)
        target.healthy = True
        while "RECOVERED: api" not in receiver.titles() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-2000:]
    assert receiver.titles() == ["DOWN: api", "RECOVERED: api"]
    assert '"event": "down"' in stderr  # the JSON logs name each delivery
