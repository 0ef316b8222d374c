"""Every alert goes out at once while another connection keeps committing to the same database.

A real engine probes a local target that a test flips between healthy and failing; the notifier
delivers through Apprise to a local json:// receiver. Meanwhile a second connection commits to the
same database every millisecond or so, as the engine's own recorder, an attached console writing
commands or a second engine do. The notifier's tick is an hour: nothing in this test may wait for
a tick, so each alert arrives only if its flip woke the dispatcher and every step after it (the
incident, the outbox row, the claim, the delivery's record) got through the concurrent commits.

On SQLite this is what `python -m bench.alert_latency` once showed as a 5 s alert: a transaction
that reads before it writes, begun as a plain (deferred) BEGIN, is refused at its first write with
"database is locked" — at once, without waiting — when another connection committed since its read.
A claim refused so used to leave the dispatcher asleep for a whole tick, and a refused delivery
record left its row "sending" (holding back the incident's recovery notice) until a restart.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pymysql
import pytest
import trio

from engine.notifier import Notifier
from engine.runtime import Engine
from engine.storage.alerting_store import AlertStore
from engine.storage.db import parse_url
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
from pulsewatch.domain.notifications import DeliveryStatus
from tests.integration.alert_receivers import JsonReceiver, ToggleTarget, serving
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

FLIPS = 8
"""Down, recovered, down...: four incidents, eight notifications."""
TICK = 3600.0
"""The notifier's planning and dispatch tick: far beyond BOUND, so no alert may wait for it."""
BOUND = 90.0
"""Seconds the whole exchange may take: a few seconds when every flip is sent at once."""


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        return MYSQL_URL
    return f"sqlite:///{tmp_path / 'alerts.db'}"


class Scribbler:
    """Commits one row at a time to a table of its own, over its own connection, until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.commits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> sqlite3.Connection | pymysql.connections.Connection:
        target = parse_url(self.url)
        if target.backend == "sqlite":
            # The engine's busy timeout: this writer waits for the engine's transactions, never fails.
            conn = sqlite3.connect(target.path, timeout=10.0, isolation_level=None)
            conn.execute("CREATE TABLE IF NOT EXISTS scribbles (n INTEGER)")
            return conn
        conn = pymysql.connect(host=target.host, port=target.port, user=target.user,
                               password=target.password, database=target.database, autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS scribbles (n INTEGER)")
        return conn

    def _run(self) -> None:
        conn = self._connect()
        try:
            while not self._stop.is_set():
                if isinstance(conn, sqlite3.Connection):
                    conn.execute("INSERT INTO scribbles VALUES (?)", (self.commits,))
                else:
                    with conn.cursor() as cursor:
                        cursor.execute("INSERT INTO scribbles VALUES (%s)", (self.commits,))
                self.commits += 1
                self._stop.wait(0.001)  # room for the engine's writers to take the lock
        finally:
            conn.close()

    @contextmanager
    def running(self) -> Iterator[Scribbler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=10)


def test_every_alert_is_sent_at_once_while_another_connection_commits(url: str) -> None:
    store = open_store(url)
    try:
        with serving(ToggleTarget()) as target, serving(JsonReceiver()) as receiver:
            no_flap_detection = EscalationPolicy("pages", (EscalationStep(0, ("ops",)),),
                                                 flapping=FlapPolicy(flips=0))
            config = AlertingConfig(channels=(Channel("ops", (receiver.url,)),),
                                    policies=(no_flap_detection,), routes=(Route("pages"),))
            alerts = AlertStore(store)
            notifier = Notifier(alerts, config, engine="it-engine", wall_clock=lambda: datetime.now(UTC),
                                tick=TICK, send_timeout=5.0)
            check = Check(name="api", url=f"{target.base_url}/health", kind="http", interval=0.1, timeout=1.0,
                          conditions=(parse_condition("[STATUS] == 200"),))
            engine = Engine(store, [check], name="it-engine", notifier=notifier)

            async def main() -> None:
                async with trio.open_nursery() as nursery:
                    await nursery.start(engine.run)
                    with trio.move_on_after(BOUND):
                        while not any(s.status.value == "up" for s in engine.states.values()):  # noqa: ASYNC110
                            await trio.sleep(0.01)
                        for n in range(FLIPS):
                            target.healthy = n % 2 == 1
                            while len(receiver.titles()) <= n:  # noqa: ASYNC110 - the receiver's thread fills it
                                await trio.sleep(0.01)
                    engine.stop()

            with Scribbler(url).running() as scribbler:
                trio.run(main)
            titles = receiver.titles()
            assert len(titles) == FLIPS, (
                f"{len(titles)} of {FLIPS} alerts arrived within {BOUND:g} s; the rest waited for the "
                f"{TICK:g} s tick: {titles}"
            )
            assert titles == ["DOWN: api", "RECOVERED: api"] * (FLIPS // 2)
            assert scribbler.commits > 100  # the other connection did keep committing throughout
            rows = alerts.notifications()
            assert len(rows) == FLIPS
            assert {r.status for r in rows} == {DeliveryStatus.SENT}
    finally:
        store.close()
