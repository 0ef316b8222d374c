"""The notification outbox in SQL: rows written before sending, claimed, finished, retried, recovered.

The delivery protocol (healthchecks' "save the Notification first"):
  1. `write_plan` inserts rows as pending (one per key: planning twice inserts nothing new);
  2. `claim_due` turns due rows into sending — or into superseded when their incident was resolved
     or acknowledged meanwhile — with an optimistic update, so two engines never claim one row;
  3. the notifier sends, then `finish_delivery` records the attempt and marks the row sent, pending
     again with a later `next_attempt_at`, or failed; the channel's health follows;
  4. after a crash, `release_stale` puts rows left in sending back to pending: at least once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import peewee

from engine.storage.alerting_records import (
    KEY_LIMIT,
    ChannelHealthRecord,
    IncidentEventRecord,
    IncidentRecord,
    NotificationAttemptRecord,
    NotificationRecord,
)
from engine.storage.fields import from_micros
from engine.storage.records import TEXT_LIMIT, FlipRecord
from pulsewatch.domain.alerting import IncidentStatus, TimelineKind
from pulsewatch.domain.alerting_plan import Existing, Hold
from pulsewatch.domain.notifications import (
    ChannelHealth,
    DeliveryAttempt,
    DeliveryStatus,
    NewNotification,
    Notification,
    NotificationEvent,
    RetryPolicy,
)

if TYPE_CHECKING:
    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import Flip

PAGE_EVENTS = [e.value for e in NotificationEvent if e.pages]
INTERRUPTED = "interrupted: the engine stopped before this delivery was confirmed"
_CHUNK = 500


def cut(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OutboxStore:
    """Outbox, delivery attempts and channel health, on the SqlStore's database (thread-safe)."""

    def __init__(self, sql: SqlStore) -> None:
        self.sql = sql

    # -- planning -------------------------------------------------------------------------------

    def planning_rows(self, incident_ids: Sequence[int], key_prefixes: Sequence[str]) -> list[Existing]:
        """The outbox rows of these incidents and those whose key starts with one of the prefixes."""
        found: dict[str, Existing] = {}
        with self.sql.session("read notifications from"):
            for start in range(0, len(incident_ids), _CHUNK):
                chunk = list(incident_ids[start : start + _CHUNK])
                query = NotificationRecord.select().where(NotificationRecord.incident_id.in_(chunk))
                found.update((r.key, _existing(r)) for r in query)
            for prefix in key_prefixes:
                query = NotificationRecord.select().where(NotificationRecord.key.startswith(prefix))
                found.update((r.key, _existing(r)) for r in query)
        return list(found.values())

    def write_plan(
        self,
        notifications: Sequence[NewNotification],
        holds: Sequence[Hold],
        settled: Sequence[int],
        now: datetime,
    ) -> None:
        """Insert planned rows (existing keys are left alone), note holds once, mark incidents settled."""
        rows = [
            {
                "key": n.key[:KEY_LIMIT],
                "incident_id": n.incident_id,
                "check_id": n.check_id,
                "channel": n.channel,
                "event": n.event.value,
                "status": n.status.value,
                "reason": cut(n.reason),
                "title": cut(n.title),
                "body": cut(n.body),
                "created_at": now,
                "next_attempt_at": now,
            }
            for n in notifications
        ]
        with self.sql.session("write notifications to"), self.sql.atomic():
            if rows:
                NotificationRecord.insert_many(rows).on_conflict_ignore().execute()
            for hold in holds:
                if hold.incident_id is None:
                    continue
                IncidentEventRecord.insert(
                    incident_id=hold.incident_id,
                    at=now,
                    kind=TimelineKind.HELD.value,
                    text=f"alerts held: {hold.reason}",
                    dedupe=f"held:{hold.incident_id}:{hold.cause}"[:KEY_LIMIT],
                ).on_conflict_ignore().execute()
            if settled:
                IncidentRecord.update(settled=True).where(IncidentRecord.id.in_(list(settled))).execute()

    # -- delivery -------------------------------------------------------------------------------

    def claim_due(self, now: datetime, engine: str, limit: int) -> list[Notification]:
        """Claim up to `limit` due rows for sending; pages of incidents no longer open are superseded."""
        claimed: list[Notification] = []
        if limit <= 0:
            return claimed
        with self.sql.session("claim notifications in"), self.sql.atomic():
            due = list(
                NotificationRecord.select()
                .where(
                    (NotificationRecord.status == DeliveryStatus.PENDING.value)
                    & (NotificationRecord.next_attempt_at <= now)
                )
                .order_by(NotificationRecord.next_attempt_at, NotificationRecord.id)
                .limit(limit)
            )
            incident_ids = {r.incident_id for r in due if r.incident_id is not None}
            statuses = (
                {
                    r.id: r.status
                    for r in IncidentRecord.select(IncidentRecord.id, IncidentRecord.status).where(
                        IncidentRecord.id.in_(list(incident_ids))
                    )
                }
                if incident_ids
                else {}
            )
            for record in due:
                pending = (NotificationRecord.id == record.id) & (
                    NotificationRecord.status == DeliveryStatus.PENDING.value
                )
                incident_status = statuses.get(record.incident_id)
                if record.event in PAGE_EVENTS and incident_status not in (None, IncidentStatus.OPEN.value):
                    NotificationRecord.update(
                        status=DeliveryStatus.SUPERSEDED.value, reason=f"incident {incident_status} first"
                    ).where(pending).execute()
                    continue
                updated = (
                    NotificationRecord.update(
                        status=DeliveryStatus.SENDING.value, claimed_by=engine[:64], claimed_at=now
                    )
                    .where(pending)
                    .execute()
                )
                if updated == 1:
                    claimed.append(replace(record.to_domain(), status=DeliveryStatus.SENDING))
        return claimed

    def next_due(self) -> datetime | None:
        """When the earliest pending row is due (None when nothing is pending)."""
        with self.sql.session("read notifications from"):
            value = (
                NotificationRecord.select(peewee.fn.MIN(NotificationRecord.next_attempt_at))
                .where(NotificationRecord.status == DeliveryStatus.PENDING.value)
                .scalar()
            )
        if value is None or isinstance(value, datetime):
            return value
        return from_micros(int(value))  # some drivers hand MIN() back unconverted (a Decimal)

    def finish_delivery(
        self,
        notification_id: int,
        attempt: DeliveryAttempt,
        delivered: frozenset[int],
        *,
        permanent: bool = False,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, never mutated
    ) -> Notification:
        """Record one attempt and its outcome; returns the row as it now stands.

        A failed attempt leaves the row pending with a backed-off `next_attempt_at`, or failed when
        the error is permanent or the attempts are used up; the channel's health follows.
        """
        with self.sql.session("record a delivery in"), self.sql.atomic():
            record = NotificationRecord.get_or_none(NotificationRecord.id == notification_id)
            if record is None:
                raise LookupError(f"no notification with id {notification_id}")
            _insert_attempt(attempt)
            attempts = record.attempts + 1
            changes: dict[str, object] = {
                "attempts": attempts,
                "claimed_by": None,
                "claimed_at": None,
                "delivered": ",".join(str(i) for i in sorted(delivered)),
            }
            if attempt.ok:
                changes.update(status=DeliveryStatus.SENT.value, sent_at=attempt.finished_at, last_error="")
            else:
                later = None if permanent else retry.next_attempt(attempts, attempt.finished_at)
                changes["last_error"] = cut(attempt.error)
                if later is not None:
                    changes.update(status=DeliveryStatus.PENDING.value, next_attempt_at=later)
                else:
                    changes["status"] = DeliveryStatus.FAILED.value
            NotificationRecord.update(**changes).where(NotificationRecord.id == notification_id).execute()
            final_failure = changes["status"] == DeliveryStatus.FAILED.value
            self._track_health(record.channel, attempt, final_failure, permanent, retry)
            return NotificationRecord.get_by_id(notification_id).to_domain()

    def release_stale(self, engine: str, stale_before: datetime, now: datetime) -> int:
        """Put rows left in sending (by this engine's previous run, or claimed before `stale_before` by
        any engine) back to pending, recording the interrupted attempt. Returns how many."""
        with self.sql.session("recover notifications in"), self.sql.atomic():
            stale = list(
                NotificationRecord.select().where(
                    (NotificationRecord.status == DeliveryStatus.SENDING.value)
                    & (
                        (NotificationRecord.claimed_by == engine[:64])
                        | (NotificationRecord.claimed_at < stale_before)
                    )
                )
            )
            for record in stale:
                _insert_attempt(
                    DeliveryAttempt(
                        record.id, record.claimed_at or now, now, False, INTERRUPTED, record.claimed_by or ""
                    )
                )
                NotificationRecord.update(
                    status=DeliveryStatus.PENDING.value,
                    next_attempt_at=now,
                    attempts=record.attempts + 1,
                    claimed_by=None,
                    claimed_at=None,
                    last_error=INTERRUPTED,
                ).where(NotificationRecord.id == record.id).execute()
        return len(stale)

    # -- reading --------------------------------------------------------------------------------

    def notifications(self, *, incident_id: int | None = None, limit: int = 100) -> list[Notification]:
        """Outbox rows, newest first (of one incident when given)."""
        with self.sql.session("read notifications from"):
            query = NotificationRecord.select()
            if incident_id is not None:
                query = query.where(NotificationRecord.incident_id == incident_id)
            query = query.order_by(NotificationRecord.created_at.desc(), NotificationRecord.id.desc())
            return [r.to_domain() for r in query.limit(limit)]

    def attempts(self, notification_id: int) -> list[DeliveryAttempt]:
        """Every delivery attempt of one notification, oldest first."""
        with self.sql.session("read delivery attempts from"):
            query = (
                NotificationAttemptRecord.select()
                .where(NotificationAttemptRecord.notification_id == notification_id)
                .order_by(NotificationAttemptRecord.started_at, NotificationAttemptRecord.id)
            )
            return [r.to_domain() for r in query]

    def channel_health(self) -> list[ChannelHealth]:
        """The health of every channel that has had a delivery, by name."""
        with self.sql.session("read channel health from"):
            query = ChannelHealthRecord.select().order_by(ChannelHealthRecord.channel)
            return [r.to_domain() for r in query]

    def recent_flips(self, since: datetime) -> list[Flip]:
        """Flips of every check since `since`, oldest first (to seed flap detection after a restart)."""
        with self.sql.session("read flips from"):
            query = FlipRecord.select().where(FlipRecord.at >= since).order_by(FlipRecord.at, FlipRecord.id)
            return [r.to_domain() for r in query]

    def open_flap_episodes(self, since: datetime) -> dict[int, datetime]:
        """Flapping episodes announced since `since` whose end was not announced: check id → start."""
        with self.sql.session("read notifications from"):
            keys = [
                r.key
                for r in NotificationRecord.select(NotificationRecord.key).where(
                    NotificationRecord.key.startswith("flap:") & (NotificationRecord.created_at >= since)
                )
            ]
        return _open_episodes(keys)

    # -- internals ------------------------------------------------------------------------------

    def _track_health(
        self, channel: str, attempt: DeliveryAttempt, final_failure: bool, permanent: bool, retry: RetryPolicy
    ) -> None:
        record = ChannelHealthRecord.get_or_none(ChannelHealthRecord.channel == channel)
        health = record.to_domain() if record is not None else ChannelHealth(channel=channel)
        if attempt.ok:
            health = replace(
                health, consecutive_failures=0, failing=False, last_success_at=attempt.finished_at
            )
        else:
            failures = health.consecutive_failures + (1 if final_failure else 0)
            health = replace(
                health,
                last_error=cut(attempt.error),
                last_failure_at=attempt.finished_at,
                consecutive_failures=failures,
                failing=health.failing or permanent or failures >= retry.failing_after,
            )
        values = {
            "consecutive_failures": health.consecutive_failures,
            "last_error": health.last_error,
            "last_failure_at": health.last_failure_at,
            "last_success_at": health.last_success_at,
            "failing": health.failing,
        }
        if record is None:
            ChannelHealthRecord.insert(channel=channel, **values).execute()
        else:
            ChannelHealthRecord.update(**values).where(ChannelHealthRecord.channel == channel).execute()


def _existing(record: NotificationRecord) -> Existing:
    return Existing(
        key=record.key,
        channel=record.channel,
        event=NotificationEvent(record.event),
        status=DeliveryStatus(record.status),
        created_at=record.created_at,
        incident_id=record.incident_id,
    )


def _insert_attempt(attempt: DeliveryAttempt) -> None:
    NotificationAttemptRecord.insert(
        notification_id=attempt.notification_id,
        started_at=attempt.started_at,
        finished_at=attempt.finished_at,
        ok=attempt.ok,
        error=cut(attempt.error),
        engine=attempt.engine[:64],
    ).execute()


def _open_episodes(keys: Iterable[str]) -> dict[int, datetime]:
    """From flap keys `flap:CHECK:START:CHANNEL` and `flap:CHECK:START:stable:CHANNEL`."""
    started: dict[tuple[int, int], bool] = {}
    for key in keys:
        parts = key.split(":")
        if len(parts) < 4 or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        episode = (int(parts[1]), int(parts[2]))
        ended = len(parts) >= 5 and parts[3] == "stable"
        started[episode] = started.get(episode, False) or ended
    latest: dict[int, int] = {}
    for (check_id, start), ended in started.items():
        if not ended and start > latest.get(check_id, -1):
            latest[check_id] = start
    return {check_id: from_micros(start) for check_id, start in latest.items()}
