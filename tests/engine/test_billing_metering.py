"""Billing inside a whole engine on trio's mock clock (real SQLite store, scripted targets): probe results
counted with the results, notifications counted by channel kind, and the SMS quota with its fallback."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio

from engine.metering import SmsGate, UsageMeter
from engine.notifier import Notifier
from engine.runtime import Engine
from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.alerting_store import AlertStore
from engine.storage.billing_store import SqlBillingStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.accounts import Organization
from pulsewatch.domain.alerting import AlertingConfig, Channel
from pulsewatch.domain.billing import Plan, PlanLimits
from pulsewatch.domain.money import Money
from pulsewatch.domain.notifications import DeliveryStatus, NotificationEvent
from pulsewatch.errors import StorageError
from pulsewatch.services.billing_gates import BillingGates
from tests.engine.helpers import EventLog, ScriptedTarget, bounded, http_check, run_inline, trio_wall_clock
from tests.storage.backends import raw_sql

if TYPE_CHECKING:
    from trio.testing import MockClock

    from pulsewatch.domain.monitoring import Check, ProbeResult

pytestmark = pytest.mark.trio

JANUARY = (date(2025, 1, 1), date(2025, 2, 1))  # the mock clock's month: no subscription, a calendar month
SMS = Channel("oncall", ("twilio://sid:token@15550000001/15550000002",))
OPS = Channel("ops", ("json://ops.test/hook",))
BOTH = Channel("mixed", ("twilio://sid:token@15550000001/15550000003", "json://mixed.test/hook"))


def tiny(sms: int) -> Plan:
    return Plan("tiny", Money(Decimal("5.00"), "USD"), PlanLimits(sms_per_month=sms))


@dataclass
class Delivery:
    url: str
    event: NotificationEvent | None
    title: str


@dataclass
class Recorder:
    """A sender like engine.notify.apprise.send: delivers each URL not in `skip`, returns them and `skip`."""

    sent: list[Delivery] = field(default_factory=list)

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
        fresh = [i for i in range(len(urls)) if i not in skip]
        self.sent += [Delivery(urls[i], event, title) for i in fresh]
        return frozenset(fresh) | skip

    def to(self, scheme: str) -> list[str]:
        return [d.title.split(":")[0] for d in self.sent if d.url.startswith(scheme)]


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'billing.db'}")
    SqlAccountsStore(store).save_organization(Organization("acme", "Acme", "tiny"))
    yield store
    store.close()


def make_engine(
    sql: SqlStore,
    checks: list[Check],
    target: ScriptedTarget,
    plan: Plan,
    sender: Recorder,
    channels: tuple[Channel, ...],
) -> Engine:
    config = AlertingConfig(channels=channels)
    billing = SqlBillingStore(sql)
    alerts = AlertStore(sql)
    gates = BillingGates(billing, SqlAccountsStore(sql), {plan.name: plan})
    notifier = Notifier(
        alerts,
        config,
        engine="e1",
        wall_clock=trio_wall_clock,
        run_sync=run_inline,
        send_sync=run_inline,
        sender=sender,
        tick=1.0,
        gate=SmsGate(billing, alerts, gates, config),
    )
    return Engine(
        sql,
        checks,
        name="e1",
        emit=EventLog(),
        wall_clock=trio_wall_clock,
        http_transport=target.transport(),
        run_sync=run_inline,
        notifier=notifier,
        meter=UsageMeter(billing),
    )


async def run_for(engine: Engine, seconds: float) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        await trio.sleep(seconds)
        engine.stop()


def usage(sql: SqlStore, org: str = "acme") -> dict[str, int]:
    return SqlBillingStore(sql).usage(org, *JANUARY)


class TestSmsQuota:
    @bounded(5_000)
    async def test_no_sms_left_the_page_goes_to_the_next_channel_with_a_notice(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """Quota 0: the page for `oncall` (SMS only) is withheld; its copy and one notice go to `ops`."""
        target = ScriptedTarget(scripts={"api.test": [503]})
        sender = Recorder()
        check = http_check("api", org="acme", interval=30, notify=("oncall",))
        await run_for(make_engine(sql, [check], target, tiny(0), sender, (SMS, OPS)), 120)

        assert sender.to("twilio") == []
        assert sorted(sender.to("json://ops")) == ["DOWN", "acme"]  # the page's copy, and the notice
        notice = next(d for d in sender.sent if d.event == NotificationEvent.NOTICE)
        assert notice.title == "acme: SMS quota used up"
        rows = {n.channel: n for n in AlertStore(sql).notifications() if n.event == NotificationEvent.DOWN}
        assert rows["oncall"].status == DeliveryStatus.SUPPRESSED
        assert rows["oncall"].reason.startswith("the SMS quota of plan tiny is used up (0 per period")
        assert rows["oncall"].reason.endswith("sent to ops instead")
        assert rows["ops"].status == DeliveryStatus.SENT
        assert usage(sql) == {"probes": 4, "notifications.webhook": 2}

    @bounded(5_000)
    async def test_the_last_sms_is_sent_then_the_recovery_falls_back(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """Quota 1: DOWN goes by SMS; RECOVERED would be the second SMS: it goes to `ops`, with the notice."""
        target = ScriptedTarget(scripts={"api.test": [503, 200]})
        sender = Recorder()
        check = http_check("api", org="acme", interval=30, notify=("oncall",))
        await run_for(make_engine(sql, [check], target, tiny(1), sender, (SMS, OPS)), 120)

        assert sender.to("twilio") == ["DOWN"]
        assert sorted(sender.to("json://ops")) == ["RECOVERED", "acme"]
        assert usage(sql)["notifications.sms"] == 1
        assert usage(sql)["notifications.webhook"] == 2

    @bounded(5_000)
    async def test_a_channel_with_other_urls_keeps_them(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        """Quota 0 on a channel with an SMS and a webhook URL: the webhook gets the page, the SMS does not."""
        target = ScriptedTarget(scripts={"api.test": [503]})
        sender = Recorder()
        check = http_check("api", org="acme", interval=30, notify=("mixed",))
        await run_for(make_engine(sql, [check], target, tiny(0), sender, (BOTH, OPS)), 120)

        assert sender.to("twilio") == []
        assert sorted(sender.to("json://mixed")) == ["DOWN", "acme"]
        assert sender.to("json://ops") == []
        [page] = [n for n in AlertStore(sql).notifications() if n.event == NotificationEvent.DOWN]
        assert (page.status, page.delivered_urls) == (DeliveryStatus.SENT, frozenset({1}))

    @bounded(5_000)
    async def test_a_plan_that_sells_sms_sends_them_all(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        from pulsewatch.domain.billing import OveragePrices

        plan = Plan(
            "tiny",
            Money(Decimal("5.00"), "USD"),
            PlanLimits(sms_per_month=0),
            OveragePrices(sms=Money(Decimal("0.05"), "USD")),
        )
        target = ScriptedTarget(scripts={"api.test": [503, 200]})
        sender = Recorder()
        check = http_check("api", org="acme", interval=30, notify=("oncall",))
        await run_for(make_engine(sql, [check], target, plan, sender, (SMS, OPS)), 120)

        assert sender.to("twilio") == ["DOWN", "RECOVERED"]
        assert usage(sql)["notifications.sms"] == 2  # billed as overage when the period closes


class TestProbeMetering:
    @bounded(5_000)
    async def test_every_result_row_is_counted_once_for_its_organization(
        self, sql: SqlStore, autojump_clock: MockClock
    ) -> None:
        target = ScriptedTarget()
        checks = [http_check(f"a{i}", org="acme", interval=10) for i in range(3)] + [
            http_check("b", org="beta", interval=5)
        ]
        engine = make_engine(sql, checks, target, tiny(0), Recorder(), (OPS,))
        await run_for(engine, 100)

        rows = dict(
            raw_sql(
                sql, "SELECT c.org, COUNT(*) FROM results r JOIN checks c ON c.id = r.check_id GROUP BY c.org"
            )
        )
        assert rows == {"acme": 30, "beta": 20}
        assert usage(sql, "acme") == {"probes": 30}
        assert usage(sql, "beta") == {"probes": 20}

    async def test_a_failed_count_takes_the_results_with_it(self, sql: SqlStore) -> None:
        """The counts are in the results' transaction: if counting fails, no result row stays behind
        (the recorder retries the whole batch), so counters and results never disagree."""

        class Broken(SqlBillingStore):
            def add_usage(self, increments: Any) -> None:
                super().add_usage(increments)
                raise StorageError("the counters table is gone")

        plan = sql.sync_checks([http_check("api", org="acme")])
        result = _result(plan.added[0].id or 0)
        with pytest.raises(StorageError), UsageMeter(Broken(sql)).metering([result]):
            sql.record([result], [], [])
        assert raw_sql(sql, "SELECT COUNT(*) FROM results") == [(0,)]
        assert usage(sql) == {}
        with UsageMeter(SqlBillingStore(sql)).metering([result]):
            sql.record([result], [], [])
        assert raw_sql(sql, "SELECT COUNT(*) FROM results") == [(1,)]
        assert usage(sql) == {"probes": 1}


def _result(check_id: int) -> ProbeResult:
    from pulsewatch.domain.monitoring import ProbeResult
    from tests.engine.helpers import EPOCH

    return ProbeResult(check_id=check_id, started_at=EPOCH, duration_ms=1.0, ok=True)
