"""Peewee records of the alerting context: incidents, their timeline, silences, the notification
outbox, delivery attempts and channel health. Each has `to_domain()`; none leaves engine.storage."""

from __future__ import annotations

import json

from peewee import BigAutoField, BigIntegerField, BooleanField, CharField, IntegerField, TextField

from engine.storage.fields import InstantField, StableAutoField
from engine.storage.records import WORD_LIMIT, BaseRecord
from pulsewatch.domain.alerting import (
    Incident,
    IncidentStatus,
    Scope,
    Severity,
    Silence,
    TimelineEntry,
    TimelineKind,
)
from pulsewatch.domain.notifications import (
    ChannelHealth,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    NotificationEvent,
)

KEY_LIMIT = 190
"""Notification keys and dedupe keys: 190 utf8mb4 characters fit a unique index on every MySQL."""


class IncidentRecord(BaseRecord):
    """One outage of one check, open → acknowledged → resolved."""

    id = StableAutoField()
    org = CharField(max_length=100)
    check_id = IntegerField()
    check_name = CharField(max_length=200)
    severity = CharField(max_length=16)
    status = CharField(max_length=16)
    opened_at = InstantField()
    reason = TextField(default="")
    acknowledged_at = InstantField(null=True)
    acknowledged_by = CharField(max_length=200, null=True)
    ack_note = TextField(default="")
    resolved_at = InstantField(null=True)
    resolved_by = CharField(max_length=200, null=True)
    settled = BooleanField(default=False)

    class Meta:
        table_name = "incidents"
        indexes = ((("check_id", "opened_at"), False), (("settled", "status"), False))

    def to_domain(self) -> Incident:
        return Incident(
            id=self.id,
            org=self.org,
            check_id=self.check_id,
            check_name=self.check_name,
            severity=Severity(self.severity),
            status=IncidentStatus(self.status),
            opened_at=self.opened_at,
            reason=self.reason,
            acknowledged_at=self.acknowledged_at,
            acknowledged_by=self.acknowledged_by,
            ack_note=self.ack_note,
            resolved_at=self.resolved_at,
            resolved_by=self.resolved_by,
            settled=bool(self.settled),
        )


class IncidentEventRecord(BaseRecord):
    """One timeline entry; `dedupe` (when set) makes an entry that may be proposed again unique."""

    id = BigAutoField()
    incident_id = IntegerField(index=True)
    at = InstantField()
    kind = CharField(max_length=16)
    text = TextField(default="")
    actor = CharField(max_length=200, null=True)
    dedupe = CharField(max_length=KEY_LIMIT, null=True, unique=True)

    class Meta:
        table_name = "incident_events"

    def to_domain(self) -> TimelineEntry:
        return TimelineEntry(
            incident_id=self.incident_id,
            at=self.at,
            kind=TimelineKind(self.kind),
            text=self.text,
            actor=self.actor,
        )


class SilenceRecord(BaseRecord):
    """An ad-hoc silence: which checks (names, tags, org), until when, by whom and why."""

    id = StableAutoField()
    org = CharField(max_length=100, null=True)
    checks = TextField(default="[]")
    tags = TextField(default="[]")
    created_by = CharField(max_length=200)
    reason = TextField(default="")
    created_at = InstantField()
    until = InstantField(index=True)
    ended_at = InstantField(null=True)

    class Meta:
        table_name = "silences"

    def to_domain(self) -> Silence:
        scope = Scope(org=self.org, checks=tuple(json.loads(self.checks)), tags=tuple(json.loads(self.tags)))
        return Silence(
            id=self.id,
            scope=scope,
            until=self.until,
            created_by=self.created_by,
            reason=self.reason,
            created_at=self.created_at,
            ended_at=self.ended_at,
        )


class NotificationRecord(BaseRecord):
    """The outbox: one message for one channel, written before it is sent."""

    id = BigAutoField()
    key = CharField(max_length=KEY_LIMIT, unique=True)
    incident_id = IntegerField(null=True, index=True)
    check_id = IntegerField()
    channel = CharField(max_length=200)
    event = CharField(max_length=16)
    status = CharField(max_length=16)
    reason = TextField(default="")
    title = TextField(default="")
    body = TextField(default="")
    created_at = InstantField()
    next_attempt_at = InstantField()
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    claimed_by = CharField(max_length=WORD_LIMIT, null=True)
    claimed_at = InstantField(null=True)
    sent_at = InstantField(null=True)
    delivered = CharField(max_length=200, default="")
    """Comma-separated indexes of the channel's URLs already delivered (a retry skips them)."""

    class Meta:
        table_name = "notifications"
        indexes = ((("status", "next_attempt_at"), False), (("check_id", "created_at"), False))

    def to_domain(self) -> Notification:
        return Notification(
            id=self.id,
            key=self.key,
            incident_id=self.incident_id,
            check_id=self.check_id,
            channel=self.channel,
            event=NotificationEvent(self.event),
            title=self.title,
            body=self.body,
            status=DeliveryStatus(self.status),
            reason=self.reason,
            created_at=self.created_at,
            next_attempt_at=self.next_attempt_at,
            attempts=self.attempts,
            last_error=self.last_error,
            sent_at=self.sent_at,
            delivered_urls=frozenset(int(i) for i in self.delivered.split(",") if i),
        )


class NotificationAttemptRecord(BaseRecord):
    """One try at delivering one notification, kept with its error."""

    id = BigAutoField()
    notification_id = BigIntegerField(index=True)
    started_at = InstantField()
    finished_at = InstantField()
    ok = BooleanField()
    error = TextField(default="")
    engine = CharField(max_length=WORD_LIMIT, default="")

    class Meta:
        table_name = "notification_attempts"

    def to_domain(self) -> DeliveryAttempt:
        return DeliveryAttempt(
            notification_id=self.notification_id,
            started_at=self.started_at,
            finished_at=self.finished_at,
            ok=bool(self.ok),
            error=self.error,
            engine=self.engine,
        )


class ChannelHealthRecord(BaseRecord):
    """How deliveries to one channel have been going lately."""

    channel = CharField(max_length=200, primary_key=True)
    consecutive_failures = IntegerField(default=0)
    last_error = TextField(default="")
    last_failure_at = InstantField(null=True)
    last_success_at = InstantField(null=True)
    failing = BooleanField(default=False)

    class Meta:
        table_name = "channel_health"

    def to_domain(self) -> ChannelHealth:
        return ChannelHealth(
            channel=self.channel,
            consecutive_failures=self.consecutive_failures,
            last_error=self.last_error,
            last_failure_at=self.last_failure_at,
            last_success_at=self.last_success_at,
            failing=bool(self.failing),
        )


ALERTING_RECORDS = (
    IncidentRecord,
    IncidentEventRecord,
    SilenceRecord,
    NotificationRecord,
    NotificationAttemptRecord,
    ChannelHealthRecord,
)
"""The alerting tables, created by schema version 3."""
