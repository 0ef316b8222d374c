"""Usage metering in the engine: probe results counted by the recorder, notifications by the dispatcher,
and the SMS quota applied before an SMS leaves.

Both hooks run in worker threads (they do blocking database work) and count with atomic increments,
so several engines sharing a database never lose or double a count:
  - `UsageMeter.metering(results)` wraps the recorder's `store.record` call in one transaction and
    adds the batch's result counts per organization and UTC day before it commits — the usage
    counters and the results table agree exactly, and a failed batch is retried whole;
  - `SmsGate.admit` runs before a delivery: SMS URLs of the channel take their units from the
    organization's quota (`SqlBillingStore.take_usage`, atomic across engines); what does not fit
    is withheld, and the message goes to the next channel instead, with a notice to the
    organization (once per period and channel). `SmsGate.settle` runs after it: the SMS units of
    deliveries that failed are given back, the other kinds are counted as delivered.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain.invoicing import PROBES, SMS, notification_metric
from pulsewatch.domain.notifications import NewNotification, NotificationEvent
from pulsewatch.domain.quotas import channel_kind

if TYPE_CHECKING:
    from engine.storage.alerting_outbox_store import OutboxStore
    from engine.storage.billing_store import SqlBillingStore
    from pulsewatch.domain.alerting import AlertingConfig, Channel
    from pulsewatch.domain.monitoring import ProbeResult
    from pulsewatch.domain.notifications import Notification
    from pulsewatch.services.billing_gates import BillingGates

log = logging.getLogger("pulsewatch.engine.metering")

REMOVED_ORG = "(removed)"
"""Where results of a check deleted before its organization was known are counted."""


class BatchMeter(Protocol):
    """What the recorder needs: a transaction around one batch's write that counts its results."""

    def metering(self, results: Sequence[ProbeResult]) -> AbstractContextManager[None]: ...


class UsageMeter:
    """Counts recorded probe results per organization and UTC day (metric `probes`).

    Args:
        store: the billing store on the same database as the results.
    """

    def __init__(self, store: SqlBillingStore) -> None:
        self._store = store
        self._orgs: dict[int, str] = {}

    @contextmanager
    def metering(self, results: Sequence[ProbeResult]) -> Iterator[None]:
        """One transaction: the caller's write inside, then the counts; both commit or neither does."""
        counts = Counter((r.check_id, r.started_at.astimezone(UTC).date()) for r in results)
        with self._store.transaction():
            yield
            unknown = {check_id for check_id, _ in counts if check_id not in self._orgs}
            if unknown:
                self._orgs.update(self._store.check_orgs(unknown))
            self._store.add_usage(
                [(self._orgs.get(cid, REMOVED_ORG), day, PROBES, n) for (cid, day), n in counts.items()]
            )


@dataclass(frozen=True)
class Admission:
    """What may be sent of one notification: `withheld` URL indexes stay unsent (SMS beyond the quota);
    `reserved` SMS indexes were counted in advance; `done` means the gate settled the row itself."""

    org: str | None
    kinds: tuple[str, ...]
    withheld: frozenset[int] = frozenset()
    reserved: frozenset[int] = frozenset()
    done: bool = False


class DeliveryGate(Protocol):
    """What the dispatcher asks before and tells after each delivery (both in worker threads)."""

    def admit(self, notification: Notification, channel: Channel, now: datetime) -> Admission: ...

    def settle(self, admission: Admission, delivered: frozenset[int], now: datetime) -> None: ...


class SmsGate:
    """Applies each organization's SMS quota and counts notifications by channel kind.

    Args:
        billing: usage counters and the outbox rows a quota withholds.
        outbox: where fallback copies and notices are written (the notifier's store).
        gates: each organization's plan and SMS use this period.
        config: the channels, in the order a fallback is looked for.
    """

    def __init__(
        self, billing: SqlBillingStore, outbox: OutboxStore, gates: BillingGates, config: AlertingConfig
    ) -> None:
        self._billing = billing
        self._outbox = outbox
        self._gates = gates
        self._config = config

    def admit(self, notification: Notification, channel: Channel, now: datetime) -> Admission:
        kinds = tuple(channel_kind(url) for url in channel.urls)
        sms = [i for i, kind in enumerate(kinds) if kind == SMS and i not in notification.delivered_urls]
        org = self._billing.check_orgs([notification.check_id]).get(notification.check_id)
        if not sms or org is None:
            return Admission(org, kinds)
        today = now.astimezone(UTC).date()
        plan, _, period = self._gates.sms_used(org, today)
        quota = None if plan is None or plan.overage.sms is not None else plan.limits.sms_per_month
        if plan is None or quota is None:
            return Admission(org, kinds)  # no hard SMS quota: counted once delivered (billed beyond it)
        # The store's atomic take is `sms_allowance` (pulsewatch.domain.quotas) done under a row lock.
        granted = self._billing.take_usage(org, today, notification_metric(SMS), len(sms), period, quota)
        reserved, withheld = frozenset(sms[:granted]), frozenset(sms[granted:])
        if not withheld:
            return Admission(org, kinds, reserved=reserved)
        # Only a channel left with nothing to send falls back; otherwise its other URLs carry the message.
        whole = {i for i in range(len(kinds)) if i not in notification.delivered_urls} <= withheld
        target = self._fallback(channel, org) if whole else channel
        rows = [] if target is None else [_notice(notification, target, org, plan.name, quota, period)]
        if whole and target is not None:
            rows.insert(0, _copy(notification, target))
        if rows:
            self._outbox.write_plan(rows, (), (), now)
        if not whole:
            return Admission(org, kinds, withheld, reserved)
        reason = f"the SMS quota of plan {plan.name} is used up ({quota} per period, until {period[1]}); " + (
            f"sent to {target.name} instead" if target is not None else "no other channel to fall back to"
        )
        if target is None:
            log.warning(
                "%s: %s", org, reason, extra={"channel": channel.name, "notification": notification.id}
            )
        self._billing.withhold_notification(notification.id, reason)  # nothing was reserved
        return Admission(org, kinds, withheld, done=True)

    def settle(self, admission: Admission, delivered: frozenset[int], now: datetime) -> None:
        if admission.org is None or admission.done:
            return
        today = now.astimezone(UTC).date()
        counts = Counter(admission.kinds[i] for i in delivered if i not in admission.reserved)
        increments = [(admission.org, today, notification_metric(kind), n) for kind, n in counts.items()]
        refunds = len(admission.reserved - delivered)
        if refunds:
            increments.append((admission.org, today, notification_metric(SMS), -refunds))
        self._billing.add_usage(increments)

    def _fallback(self, channel: Channel, org: str) -> Channel | None:
        """The next channel after `channel` in the config (wrapping around) that serves `org` and
        reaches someone without SMS."""
        channels = list(self._config.channels)
        start = next((i for i, c in enumerate(channels) if c.name == channel.name), -1)
        for candidate in channels[start + 1 :] + channels[: max(start, 0)]:
            if candidate.org not in (None, org) or candidate.name == channel.name:
                continue
            if any(channel_kind(url) != SMS for url in candidate.urls):
                return candidate
        return None


def _copy(notification: Notification, target: Channel) -> NewNotification:
    """The withheld message, for the fallback channel (its key makes writing it twice harmless)."""
    return NewNotification(
        key=f"{notification.key}:fallback:{target.name}",
        check_id=notification.check_id,
        channel=target.name,
        event=notification.event,
        title=notification.title,
        body=notification.body,
        incident_id=notification.incident_id,
    )


def _notice(
    notification: Notification, target: Channel, org: str, plan: str, quota: int, period: tuple[date, date]
) -> NewNotification:
    """The organization's notice that its SMS quota is used up: one per period and channel."""
    return NewNotification(
        key=f"quota:sms:{org}:{period[0]}:{target.name}",
        check_id=notification.check_id,
        channel=target.name,
        event=NotificationEvent.NOTICE,
        title=f"{org}: SMS quota used up",
        body=(
            f"Plan {plan} includes {quota} SMS per billing period and {org} has used them all. "
            f"Until the period ends on {period[1]} (or the plan changes), alerts meant for SMS "
            f"go to other channels instead."
        ),
    )
