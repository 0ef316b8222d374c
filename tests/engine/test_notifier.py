"""The notifier inside a whole engine on trio's mock clock: scripted targets, a real SQLite store, a
recording sender. Each test says which notices a scenario must produce — exactly those."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio

from engine.notifier import Notifier
from engine.notify.apprise import NotifyError
from engine.runtime import Engine
from engine.storage.alerting_outbox_store import INTERRUPTED
from engine.storage.alerting_store import AlertStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.alerting import (
    AlertingConfig,
    Channel,
    EscalationPolicy,
    EscalationStep,
    FlapPolicy,
    IncidentStatus,
    MaintenanceWindow,
    Route,
    Scope,
)
from pulsewatch.domain.notifications import DeliveryStatus, NotificationEvent, RetryPolicy
from tests.engine.helpers import (
    EPOCH,
    EventLog,
    ScriptedTarget,
    bounded,
    http_check,
    run_inline,
    trio_wall_clock,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trio.testing import MockClock

    from pulsewatch.domain.monitoring import Check

pytestmark = pytest.mark.trio

OPS = Channel("ops", ("json://ops.test/hook",))
PAGER = Channel("pager", ("json://pager.test/hook",))


@dataclass
class Sent:
    channel: str
    event: NotificationEvent | None
    title: str
    at: float


@dataclass
class RecordingSender:
    """Delivers by appending to `sent`; the first `fail` sends to a URL raise NotifyError."""

    fail: dict[str, int] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    tried: int = 0

    def __call__(
        self,
        urls: Sequence[str],
        title: str,
        body: str,
        event: NotificationEvent | None = None,
        *,
        timeout: float = 10.0,
        skip: frozenset[int] = frozenset(),
    ) -> frozenset[int]:
        self.tried += 1
        for url in urls:
            if self.fail.get(url, 0) > 0:
                self.fail[url] -= 1
                raise NotifyError(f"{url}: connection refused")
        channel = urls[0].split("//")[1].split(".")[0]
        self.sent.append(Sent(channel, event, title, trio.current_time()))
        return frozenset(range(len(urls)))

    def events(self, channel: str | None = None) -> list[str]:
        return [s.title.split(":")[0] for s in self.sent if channel is None or s.channel == channel]


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    yield store
    store.close()


def make_engine(
    sql: SqlStore,
    checks: list[Check],
    target: ScriptedTarget,
    config: AlertingConfig,
    sender: Any,
    **options: Any,
) -> Engine:
    options = {"tick": 1.0, **options}
    notifier = Notifier(
        AlertStore(sql),
        config,
        engine="test-engine",
        wall_clock=trio_wall_clock,
        run_sync=run_inline,
        send_sync=run_inline,
        sender=sender,
        **options,
    )
    return Engine(
        sql,
        checks,
        name="test-engine",
        emit=EventLog(),
        wall_clock=trio_wall_clock,
        http_transport=target.transport(),
        run_sync=run_inline,
        notifier=notifier,
    )


async def run_until(engine: Engine, done: Callable[[], bool], *, then: float = 0.0) -> None:
    """Run the engine until `done()` holds (checked every simulated second), `then` seconds more, stop."""
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        while not done():  # noqa: ASYNC110 - polls state nothing signals
            await trio.sleep(1)
        await trio.sleep(then)
        engine.stop()


def at(seconds: float) -> Any:
    return EPOCH + timedelta(seconds=seconds)


class TestNoise:
    @bounded(10_000)
    async def test_a_flapping_target_produces_exactly_the_promised_notices(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """Flips 2-5 (down, up, down, up): two pages and two recoveries; the fifth flip starts flapping:
        one FLAPPING notice; flips 6-9 are quiet; stable for 900s after the last: one 'stable' notice."""
        target = ScriptedTarget(scripts={"api.test": [200, 503, 200, 503, 200, 503, 200, 503, 200]})
        sender = RecordingSender()
        engine = make_engine(
            sql,
            [http_check("api", interval=10, notify=("ops",))],
            target,
            AlertingConfig(channels=(OPS,)),
            sender,
            tick=10.0,
        )
        await run_until(engine, lambda: len(sender.sent) >= 6, then=2000)
        # Notices due at the same instant are sent concurrently: compare them in (time, kind) order.
        timed = sorted((round(s.at), s.title.split(":")[0]) for s in sender.sent)
        assert [kind for _, kind in timed] == [
            "DOWN",
            "RECOVERED",
            "DOWN",
            "FLAPPING",
            "RECOVERED",
            "RECOVERED",
        ]
        assert timed[3][0] == timed[4][0]  # the flapping notice comes with the fifth flip's recovery
        assert "stable again after flapping" in _bodies(sql)[-1]
        alerts = AlertStore(sql)
        incidents = alerts.incidents()
        assert len(incidents) == 4
        assert all(i.status == IncidentStatus.RESOLVED for i in incidents)
        quiet = incidents[0]  # the newest: opened while flapping
        held = [e.text for e in alerts.timeline(quiet.id or 0)]
        assert any("flapping" in text for text in held)

    @bounded(5_000)
    async def test_a_parents_outage_produces_one_page_not_one_per_child(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """db and its three children fail together: db pages once and recovers once; each child's
        page is recorded as suppressed and nothing else is sent."""
        down_then_up = [200, 200, 503, 503, 503, 200]
        names = ["db", "web-1", "web-2", "web-3"]
        target = ScriptedTarget(scripts={f"{n}.test": down_then_up for n in names})
        checks = [http_check("db", interval=30, notify=("ops",))] + [
            http_check(n, interval=30, depends_on=("db",), notify=("ops",)) for n in names[1:]
        ]
        sender = RecordingSender()
        engine = make_engine(sql, checks, target, AlertingConfig(channels=(OPS,)), sender)
        await run_until(engine, lambda: target.calls.get("web-3.test", 0) >= 7, then=300)
        assert [(s.event, s.title) for s in sender.sent] == [
            (NotificationEvent.DOWN, "DOWN: db"),
            (NotificationEvent.RECOVERED, "RECOVERED: db"),
        ]
        rows = AlertStore(sql).notifications()
        suppressed = [n for n in rows if n.status == DeliveryStatus.SUPPRESSED]
        assert len(suppressed) == 3
        assert {n.reason for n in suppressed} <= {"parent check db is down", "parent check db was down"}
        assert len(AlertStore(sql).incidents()) == 4

    @bounded(5_000)
    async def test_maintenance_silences_and_nothing_is_sent_on_recovery(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """api goes down and back during its maintenance window: the page is recorded as suppressed,
        no recovery notice follows (nobody was paged)."""
        target = ScriptedTarget(scripts={"api.test": [200, 503, 503, 200]})
        window = MaintenanceWindow("deploy", Scope(checks=("api",)), start=at(-60), end=at(3600))
        sender = RecordingSender()
        engine = make_engine(
            sql,
            [http_check("api", interval=30, notify=("ops",))],
            target,
            AlertingConfig(channels=(OPS,), maintenance=(window,)),
            sender,
        )
        await run_until(engine, lambda: target.calls.get("api.test", 0) >= 5, then=60)
        assert sender.sent == []
        [row] = AlertStore(sql).notifications()
        assert row.status == DeliveryStatus.SUPPRESSED
        assert row.reason == "maintenance window deploy"


class TestEscalation:
    @bounded(20_000)
    async def test_it_escalates_reminds_and_stops_on_acknowledgement(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """Down for good: ops at once, pager after 10 minutes, reminders every 30 minutes to both,
        until someone acknowledges; then silence until the recovery notice."""
        target = ScriptedTarget(scripts={"api.test": [200, 503]})
        policy = EscalationPolicy(
            "oncall",
            (EscalationStep(0, ("ops",)), EscalationStep(600, ("pager",))),
            repeat=1800,
            flapping=FlapPolicy(flips=0),
        )
        config = AlertingConfig(channels=(OPS, PAGER), policies=(policy,), routes=(Route("oncall"),))
        sender = RecordingSender()
        engine = make_engine(sql, [http_check("api", interval=60)], target, config, sender, tick=10.0)
        alerts = AlertStore(sql)
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            while len(sender.sent) < 4:  # noqa: ASYNC110 - polls state nothing signals
                await trio.sleep(1)
            [incident] = alerts.incidents()
            alerts.acknowledge(incident.id or 0, "ana@x.test", "on it", trio_wall_clock())
            await trio.sleep(7200)
            engine.stop()
        first = sender.sent[0].at
        timed = sorted((s.at - first, s.channel, s.title.split(":")[0]) for s in sender.sent)
        assert [(c, kind) for _, c, kind in timed] == [
            ("ops", "DOWN"),
            ("pager", "ESCALATION"),
            ("ops", "REMINDER"),
            ("pager", "REMINDER"),
        ]
        # Each is due at its time and sent at the planning round (every `tick`, 10s) that follows.
        assert [
            due - 0.001 <= t < due + 10 for (t, _, _), due in zip(timed, [0, 600, 1800, 1800], strict=True)
        ] == [True] * 4


class TestDelivery:
    @bounded(5_000)
    async def test_a_failing_channel_is_retried_with_backoff_and_every_attempt_recorded(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        target = ScriptedTarget(scripts={"api.test": [200, 503]})
        sender = RecordingSender(fail={OPS.urls[0]: 3})
        engine = make_engine(
            sql,
            [http_check("api", interval=60, notify=("ops",))],
            target,
            AlertingConfig(channels=(OPS,)),
            sender,
            retry=RetryPolicy(attempts=6, first=5),
        )
        await run_until(engine, lambda: len(sender.sent) >= 1, then=10)
        alerts = AlertStore(sql)
        [row] = alerts.notifications()
        assert row.status == DeliveryStatus.SENT
        assert row.attempts == 4
        attempts = alerts.attempts(row.id)
        assert [a.ok for a in attempts] == [False, False, False, True]
        assert all("connection refused" in a.error for a in attempts[:3])
        gaps = [(b.started_at - a.started_at).total_seconds() for a, b in itertools.pairwise(attempts)]
        assert [round(g) for g in gaps] == [5, 10, 20]
        [health] = alerts.channel_health()
        assert not health.failing

    @bounded(5_000)
    async def test_a_channel_failing_for_good_is_marked_failing(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        target = ScriptedTarget(scripts={"api.test": [200, 503]})
        sender = RecordingSender(fail={OPS.urls[0]: 100})
        retry = RetryPolicy(attempts=2, first=1, failing_after=1)
        engine = make_engine(
            sql,
            [http_check("api", interval=60, notify=("ops",))],
            target,
            AlertingConfig(channels=(OPS,)),
            sender,
            retry=retry,
        )
        await run_until(engine, lambda: sender.tried >= 2, then=10)
        alerts = AlertStore(sql)
        [row] = alerts.notifications()
        assert row.status == DeliveryStatus.FAILED
        [health] = alerts.channel_health()
        assert health.failing
        assert "connection refused" in health.last_error


class TestRestart:
    async def _crash_mid_send(self, sql: SqlStore, target: ScriptedTarget) -> None:
        """Run until the down page is being sent, then crash: no finish, no confirmation."""
        in_flight = trio.Event()

        async def hang(fn: Callable[[], Any], /, *, limiter: trio.CapacityLimiter) -> Any:
            in_flight.set()
            await trio.sleep_forever()

        notifier = Notifier(
            AlertStore(sql),
            AlertingConfig(channels=(OPS,)),
            engine="test-engine",
            wall_clock=trio_wall_clock,
            run_sync=run_inline,
            send_sync=hang,
            sender=RecordingSender(),
            tick=1.0,
        )
        engine = Engine(
            sql,
            [http_check("api", interval=30, notify=("ops",))],
            name="test-engine",
            wall_clock=trio_wall_clock,
            http_transport=target.transport(),
            run_sync=run_inline,
            notifier=notifier,
        )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(engine.run)
            await in_flight.wait()
            nursery.cancel_scope.cancel()  # a crash: nothing is flushed, nothing confirmed
        [row] = AlertStore(sql).notifications()
        assert row.status == DeliveryStatus.SENDING

    async def _restart(
        self, sql: SqlStore, target: ScriptedTarget, sender: RecordingSender, until: Callable[[], bool]
    ) -> None:
        engine = make_engine(
            sql,
            [http_check("api", interval=30, notify=("ops",))],
            target,
            AlertingConfig(channels=(OPS,)),
            sender,
        )
        await run_until(engine, until, then=120)

    @bounded(5_000)
    async def test_a_page_left_unconfirmed_is_sent_after_a_restart(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        target = ScriptedTarget(scripts={"api.test": [200, 503]})
        await self._crash_mid_send(sql, target)
        sender = RecordingSender()
        await self._restart(sql, target, sender, lambda: len(sender.sent) >= 1)
        assert sender.events() == ["DOWN"]  # at least once, and here exactly once
        alerts = AlertStore(sql)
        [row] = alerts.notifications()
        assert row.status == DeliveryStatus.SENT
        [row] = alerts.notifications()
        assert row.status == DeliveryStatus.SENT
        assert [a.error for a in alerts.attempts(row.id)] == [INTERRUPTED, ""]

    @bounded(5_000)
    async def test_no_page_for_an_outage_that_ended_while_the_engine_was_stopped(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        target = ScriptedTarget(scripts={"api.test": [200, 503]})
        await self._crash_mid_send(sql, target)
        target.scripts["api.test"] = [200]
        target.calls.clear()
        sender = RecordingSender()
        await self._restart(sql, target, sender, lambda: target.calls.get("api.test", 0) >= 2)
        assert sender.sent == []  # neither the page nor a recovery notice for a page never confirmed
        alerts = AlertStore(sql)
        [row] = alerts.notifications()
        assert row.status == DeliveryStatus.SUPERSEDED
        [incident] = alerts.incidents()
        assert incident.status == IncidentStatus.RESOLVED


def _bodies(sql: SqlStore) -> list[str]:
    return [n.body for n in sorted(AlertStore(sql).notifications(), key=lambda n: n.id)]
