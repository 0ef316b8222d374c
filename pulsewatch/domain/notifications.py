"""Notifications: the outbox rows alerts are made of, their delivery attempts, and channel health.

One `Notification` is one message to one channel. It is written *before* anything is sent (as
healthchecks saves `Notification(error="Sending")` first), so a crash mid-send is visible and the
message is sent again after a restart: delivery is at least once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class NotificationEvent(enum.Enum):
    """What a notification tells; each has its own message template."""

    DOWN = "down"
    DEGRADED = "degraded"
    RECOVERED = "recovered"
    FLAPPING = "flapping"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    NOTICE = "notice"
    """About the organization rather than a check (billing: "SMS quota used up"); its own text."""

    @property
    def pages(self) -> bool:
        """Events that ask someone to act: dropped once the incident is acknowledged or resolved."""
        return self in (NotificationEvent.DOWN, NotificationEvent.ESCALATION, NotificationEvent.REMINDER)


class DeliveryStatus(enum.Enum):
    """pending → sending → sent | pending (retry) | failed; or suppressed/superseded, never sent."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    """Deliberately not sent (maintenance, silence, a parent's outage); kept as a record."""
    SUPERSEDED = "superseded"
    """Not sent because it no longer mattered: its incident resolved or was acknowledged first."""

    @property
    def final(self) -> bool:
        return self not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class NewNotification:
    """A notification the policy wants to exist; `key` makes creating it idempotent.

    The key names the incident (or flap episode), the event, the step or reminder number and the
    channel: planning again after a restart yields the same keys, and the outbox keeps one row per key.
    """

    key: str
    check_id: int
    channel: str
    event: NotificationEvent
    title: str
    body: str
    incident_id: int | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    reason: str = ""
    """Why it was suppressed (empty when it is to be sent)."""


@dataclass(frozen=True)
class Notification:
    """One outbox row: a message for one channel and how its delivery went so far."""

    id: int
    key: str
    check_id: int
    channel: str
    event: NotificationEvent
    title: str
    body: str
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime
    incident_id: int | None = None
    reason: str = ""
    attempts: int = 0
    last_error: str = ""
    sent_at: datetime | None = None
    delivered_urls: frozenset[int] = frozenset()
    """Indexes of the channel's URLs already delivered: a retry sends only to the others."""


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at sending one notification, with its error (empty when it worked)."""

    notification_id: int
    started_at: datetime
    finished_at: datetime
    ok: bool
    error: str = ""
    engine: str = ""


@dataclass(frozen=True)
class ChannelHealth:
    """How a channel's deliveries have been going; `failing` is shown in the console and `channel list`."""

    channel: str
    consecutive_failures: int = 0
    last_error: str = ""
    last_failure_at: datetime | None = None
    last_success_at: datetime | None = None
    failing: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `first` seconds after the first failure, doubling up to `cap`, at most
    `attempts` tries in all; `failing_after` failed notifications in a row mark a channel failing."""

    attempts: int = 6
    first: float = 5.0
    cap: float = 600.0
    failing_after: int = 3

    def next_attempt(self, attempts_made: int, now: datetime) -> datetime | None:
        """When to try again after `attempts_made` failed tries, or None when it is time to give up."""
        if attempts_made >= self.attempts:
            return None
        delay = min(self.cap, self.first * 2 ** max(0, attempts_made - 1))
        return now + timedelta(seconds=delay)
