"""The dispatcher: sends outbox rows through Apprise in worker threads, records every attempt.

Rows are claimed (pending → sending) only as far as free delivery slots go, so a claimed row is
always being sent: a claim older than the send timeout means its engine died, and the row may be
taken over (see `AlertStore.release_stale`). Each delivery runs Apprise's sync API through
`trio.to_thread.run_sync` under the named `send_limiter`, inside a timeout; past it the thread is
abandoned (it still holds its slot until Apprise's own timeouts end it) and the attempt is recorded
as timed out. Outcomes go to `finish_delivery`, shielded from cancellation: a message that left must
be recorded as such.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Protocol

import trio

from pulsewatch.domain.notifications import DeliveryAttempt, DeliveryStatus, RetryPolicy
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from engine.metering import Admission, DeliveryGate
    from engine.offload import RunSync
    from engine.storage.alerting_store import AlertStore
    from pulsewatch.domain.alerting import AlertingConfig, Channel
    from pulsewatch.domain.notifications import Notification, NotificationEvent

log = logging.getLogger("pulsewatch.engine.notifier")

CLAIM_RETRY = 0.25
"""Seconds before a claim the database refused is tried again, doubled for each further refusal in a
row and capped at the tick: a refused claim must not hold due alerts back for a whole tick."""


class Sender(Protocol):
    """`engine.notify.apprise.send`'s shape: blocking; raises NotifyError; returns delivered indexes."""

    def __call__(
        self,
        urls: Sequence[str],
        title: str,
        body: str,
        event: NotificationEvent | None = None,
        *,
        timeout: float = ...,
        skip: frozenset[int] = ...,
    ) -> frozenset[int]: ...


def apprise_send(
    urls: Sequence[str],
    title: str,
    body: str,
    event: NotificationEvent | None = None,
    *,
    timeout: float = 10.0,
    skip: frozenset[int] = frozenset(),
) -> frozenset[int]:
    """`engine.notify.apprise.send`, imported on first use: Apprise loads only when something is sent."""
    from engine.notify.apprise import send

    return send(urls, title, body, event, timeout=timeout, skip=skip)


def _warm_apprise() -> None:
    import apprise

    apprise.Apprise().add("json://localhost")


class Dispatcher:
    """Sends due outbox rows; see the module docstring. Built and run by `engine.notifier.Notifier`."""

    def __init__(
        self,
        store: AlertStore,
        config: AlertingConfig,
        *,
        engine: str,
        wall_clock: Callable[[], datetime],
        run_sync: RunSync,
        db_limiter: trio.CapacityLimiter,
        send_sync: RunSync | None = None,
        sender: Sender = apprise_send,
        tick: float = 5.0,
        send_timeout: float = 10.0,
        concurrency: int = 8,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen
        on_settled: Callable[[Notification], None] | None = None,
        gate: DeliveryGate | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.engine = engine
        self.db_limiter = db_limiter
        self.send_limiter = trio.CapacityLimiter(concurrency)
        """Apprise deliveries in flight (worker threads)."""
        self._wall_clock = wall_clock
        self._run_sync = run_sync
        self._send_sync = send_sync or functools.partial(trio.to_thread.run_sync, abandon_on_cancel=True)
        self._sender = sender
        self._tick = tick
        self._send_timeout = send_timeout
        self._retry = retry
        self._on_settled = on_settled
        self._gate = gate
        """Asked before each delivery (SMS quotas) and told after it (usage); see engine.metering."""
        self._wake = trio.Event()
        self._closing = False
        self.sent = 0
        self.failed_attempts = 0

    def wake(self) -> None:
        """Something may be due now (new rows were written, a slot came free)."""
        self._wake.set()

    def close(self) -> None:
        """Send what is due one last time, then return once the deliveries in flight are done."""
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Claim and send due notifications until `close()`; then send what is due and wait for the
        deliveries in flight (each bounded by its timeout) before returning."""
        if self._sender is apprise_send and self.config.channels:
            # Apprise loads ~190 plugins on first use (~0.2 s): pay for it now, not in the first page.
            await trio.to_thread.run_sync(_warm_apprise, limiter=self.send_limiter)
        refused = 0  # claims refused in a row
        async with trio.open_nursery() as deliveries:
            while True:
                final = self._closing
                self._wake = trio.Event()
                now = self._wall_clock()
                next_due: datetime | None = None
                refused += 1  # counted now, cleared once the claim below has gone through
                try:
                    slots = int(self.send_limiter.available_tokens)
                    claimed: list[Notification] = await self._run_sync(
                        self.store.claim_due, now, self.engine, slots, limiter=self.db_limiter
                    )
                    for notification in claimed:
                        deliveries.start_soon(self._deliver, notification)
                    refused = 0
                    if not final and len(claimed) < slots:
                        next_due = await self._run_sync(self.store.next_due, limiter=self.db_limiter)
                except StorageError as exc:
                    log.warning("could not claim notifications: %s", exc, extra={"engine": self.engine})
                if final:
                    return  # the nursery waits for the deliveries in flight
                wait = self._tick
                if next_due is not None:
                    wait = min(wait, max(0.0, (next_due - now).total_seconds()))
                if refused:
                    wait = min(wait, CLAIM_RETRY * 2 ** min(refused - 1, 20))
                with trio.move_on_after(wait):
                    await self._wake.wait()

    async def _deliver(self, notification: Notification) -> None:
        channel = self.config.channel(notification.channel)
        started = self._wall_clock()
        error, permanent, delivered = "", False, notification.delivered_urls
        admission = await self._admit(notification, channel, started) if channel is not None else None
        if admission is not None and admission.done:
            self._wake.set()  # withheld by a quota: the gate marked the row and wrote its fallback
            return
        withheld = admission.withheld if admission is not None else frozenset()
        if channel is None:
            error, permanent = f"channel {notification.channel} is no longer configured", True
        else:
            budget = 2 * self._send_timeout * max(1, len(channel.urls)) + 1
            send = functools.partial(
                self._sender,
                channel.urls,
                notification.title,
                notification.body,
                notification.event,
                timeout=self._send_timeout,
                skip=notification.delivered_urls | withheld,
            )
            with trio.move_on_after(budget) as scope:
                try:
                    delivered = await self._send_sync(send, limiter=self.send_limiter)
                except Exception as exc:  # the sender's NotifyError, or a bug in a plugin: both are data here
                    error = str(getattr(exc, "message", None) or exc) or type(exc).__name__
                    permanent = bool(getattr(exc, "permanent", False))
                    delivered = frozenset(getattr(exc, "delivered", delivered))
            if scope.cancelled_caught:
                error = f"timed out after {budget:g}s"
            delivered = delivered - withheld  # skipped by the quota, not delivered
        attempt = DeliveryAttempt(notification.id, started, self._wall_clock(), not error, error, self.engine)
        try:
            with trio.CancelScope(shield=True):  # the delivery happened: its outcome must be written
                row = await self._run_sync(
                    functools.partial(
                        self.store.finish_delivery,
                        notification.id,
                        attempt,
                        delivered,
                        permanent=permanent,
                        retry=self._retry,
                    ),
                    limiter=self.db_limiter,
                )
        except StorageError as exc:
            log.warning(
                "could not record delivery of notification %d: %s",
                notification.id,
                exc,
                extra={"engine": self.engine},
            )
            return
        finally:
            self._wake.set()  # a slot is free
        if admission is not None:
            await self._settle(admission, delivered - notification.delivered_urls)
        self._log_delivery(row, attempt)
        if self._on_settled is not None and row.status != DeliveryStatus.PENDING:
            self._on_settled(row)

    async def _admit(self, notification: Notification, channel: Channel, now: datetime) -> Admission | None:
        """What the gate lets through; without a gate, or when it cannot read the database, everything
        (an alert that reaches someone beats a quota kept to the message)."""
        if self._gate is None:
            return None
        try:
            admission: Admission = await self._run_sync(
                self._gate.admit, notification, channel, now, limiter=self.db_limiter
            )
        except StorageError as exc:
            log.warning("quota check failed, sending anyway: %s", exc, extra={"engine": self.engine})
            return None
        return admission

    async def _settle(self, admission: Admission, delivered: frozenset[int]) -> None:
        if self._gate is None:
            return
        try:
            with trio.CancelScope(shield=True):  # the delivery happened: its usage must be counted
                await self._run_sync(
                    self._gate.settle, admission, delivered, self._wall_clock(), limiter=self.db_limiter
                )
        except StorageError as exc:
            log.warning("could not count a delivery as usage: %s", exc, extra={"engine": self.engine})

    def _log_delivery(self, row: Notification, attempt: DeliveryAttempt) -> None:
        extra = {
            "engine": self.engine,
            "channel": row.channel,
            "notification": row.id,
            "event": row.event.value,
            "status": row.status.value,
            "attempts": row.attempts,
        }
        if attempt.ok:
            self.sent += 1
            log.info("%s → %s sent", row.event.value, row.channel, extra=extra)
            return
        self.failed_attempts += 1
        level = logging.ERROR if row.status == DeliveryStatus.FAILED else logging.WARNING
        log.log(
            level,
            "%s → %s failed (%s): %s",
            row.event.value,
            row.channel,
            row.status.value,
            attempt.error,
            extra=extra,
        )
