"""A claim the database refuses is tried again within moments, not at the dispatcher's next tick.

A whole engine on trio's mock clock with a real SQLite store; the notifier's store calls run inline
through a RunSync that refuses the first outbox claims with the StorageError a locked or unreachable
database gives. The tick is an hour, so a page sent within a minute of its flip was sent because
the dispatcher tried the claim again by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest
import trio

from engine.notifier import Notifier
from engine.runtime import Engine
from engine.storage.alerting_store import AlertStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.alerting import AlertingConfig, Channel
from pulsewatch.domain.notifications import DeliveryStatus
from pulsewatch.errors import StorageError
from tests.engine.helpers import EventLog, ScriptedTarget, bounded, http_check, run_inline, trio_wall_clock

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trio.testing import MockClock

    from pulsewatch.domain.notifications import NotificationEvent

pytestmark = pytest.mark.trio

T = TypeVar("T")
TICK = 3600.0
OPS = Channel("ops", ("json://ops.test/hook",))


class RefusingClaims:
    """engine.offload.RunSync, inline; the first `refuse` outbox claims that would find a due row fail as
    a locked database fails them."""

    def __init__(self, store: AlertStore, refuse: int) -> None:
        self.store = store
        self.left = refuse
        self.refused_at: list[float] = []

    async def __call__(self, fn: Callable[..., T], /, *args: object, limiter: trio.CapacityLimiter) -> T:
        if getattr(fn, "__name__", "") == "claim_due" and self.left > 0 and self._something_due(args[0]):
            self.left -= 1
            self.refused_at.append(trio.current_time())
            await trio.lowlevel.checkpoint()
            raise StorageError("cannot claim notifications in sqlite:///alerts.db: database is locked")
        return await run_inline(fn, *args, limiter=limiter)

    def _something_due(self, now: object) -> bool:
        due = self.store.next_due()
        return due is not None and isinstance(now, datetime) and due <= now


class Sender:
    """Delivers by noting the trio time of each title."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

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
        self.sent.append((title, trio.current_time()))
        return frozenset(range(len(urls)))


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    yield store
    store.close()


@bounded(6 * TICK)  # room for the four ticks a dispatcher without the retry would take
async def test_a_refused_claim_is_tried_again_long_before_the_tick(
    sql: SqlStore, autojump_clock: MockClock
) -> None:
    run_sync = RefusingClaims(AlertStore(sql), refuse=4)
    sender = Sender()
    notifier = Notifier(AlertStore(sql), AlertingConfig(channels=(OPS,)), engine="test-engine",
                        wall_clock=trio_wall_clock, run_sync=run_sync, send_sync=run_inline, sender=sender,
                        tick=TICK)
    target = ScriptedTarget(scripts={"api.test": [200, 503]})
    engine = Engine(sql, [http_check("api", interval=60, notify=("ops",))], name="test-engine",
                    emit=EventLog(), wall_clock=trio_wall_clock, http_transport=target.transport(),
                    run_sync=run_inline, notifier=notifier)
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        while not sender.sent:  # noqa: ASYNC110 - the sender is a plain callable
            await trio.sleep(1)
        engine.stop()
    [(title, sent_at)] = sender.sent
    assert title == "DOWN: api"
    assert len(run_sync.refused_at) == 4
    written_at = run_sync.refused_at[0]  # the page's first claim: woken as soon as the row was written
    assert sent_at - written_at < 60, f"the page waited {sent_at - written_at:g} s (tick {TICK:g} s)"
    gaps = [round(b - a, 3) for a, b in zip(run_sync.refused_at, run_sync.refused_at[1:], strict=False)]
    assert gaps == [0.25, 0.5, 1.0]  # backing off, not hammering the database
    [row] = AlertStore(sql).notifications()
    assert row.status == DeliveryStatus.SENT
