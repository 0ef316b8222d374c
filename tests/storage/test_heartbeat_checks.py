"""Heartbeat checks in the store: the schedule rides in the spec JSON and comes back whole (both backends)."""

from __future__ import annotations

from dataclasses import replace

from engine.storage.store import SqlStore
from pulsewatch.domain.heartbeats import HeartbeatSpec
from pulsewatch.domain.monitoring import Check

CRON = Check(
    name="invoice-export",
    url="/ping/invoice-token",
    kind="heartbeat",
    interval=86400.0,
    timeout=1800.0,
    org="globex",
    notify=("ops",),
    heartbeat=HeartbeatSpec(token="invoice-token", grace=1800.0, cron="0 3 * * *", timezone="Europe/Berlin"),
)
DAILY = HeartbeatSpec(token="nightly-7f3a", period=86400.0)
PERIOD = Check(name="nightly-backup", url="/ping/nightly-7f3a", kind="heartbeat", heartbeat=DAILY)


class TestHeartbeatChecks:
    def test_the_schedule_round_trips_and_the_sync_sees_it_unchanged(self, store: SqlStore) -> None:
        added = store.sync_checks([CRON, PERIOD]).added

        assert [replace(c, id=None) for c in added] == [CRON, PERIOD]
        loaded = {c.name: c for c in store.load_checks()}
        assert loaded["invoice-export"].heartbeat == CRON.heartbeat
        assert loaded["nightly-backup"].heartbeat == PERIOD.heartbeat
        again = store.sync_checks([CRON, PERIOD])
        assert again.is_empty
        assert {c.name for c in again.unchanged} == {"invoice-export", "nightly-backup"}

    def test_a_new_grace_is_a_change(self, store: SqlStore) -> None:
        store.sync_checks([PERIOD])
        longer = replace(PERIOD, heartbeat=replace(DAILY, grace=7200.0))

        plan = store.sync_checks([longer])

        assert [c.name for c in plan.changed] == ["nightly-backup"]
        (loaded,) = store.load_checks()
        assert loaded.heartbeat is not None
        assert loaded.heartbeat.grace == 7200.0
