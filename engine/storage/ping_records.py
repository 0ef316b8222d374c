"""Peewee records of heartbeat pings waiting for the engine that owns their check (several engines).

A ping reaches whichever engine the job's HTTP request lands on; only the engine holding the
check's shard judges it. The receiving engine, when it is not that one, stores the ping here and
answers "OK" once the row is committed; the owner polls the rows of its shards and deletes each in
the same transaction that records the ping's result (engine.heartbeat_pings). So the table holds
only pings in transit: normally empty, a few rows for a second or so after a ping.
"""

from __future__ import annotations

from peewee import CharField, IntegerField, TextField

from engine.storage.fields import InstantField, StableAutoField
from engine.storage.records import WORD_LIMIT, BaseRecord


class HeartbeatPingRecord(BaseRecord):
    """One received ping not yet applied by its check's owner."""

    id = StableAutoField()  # never reused: an owner remembers the ids it has applied but not yet seen deleted
    check_id = IntegerField()
    shard = IntegerField()
    """`check_id % shards`, so an owner reads the pings of its shards through one index."""
    received_at = InstantField()
    kind = CharField(max_length=16)
    """`PingKind.value`: success, start, fail or log."""
    exit_status = IntegerField(null=True)
    body = TextField(default="")
    engine = CharField(max_length=WORD_LIMIT, default="")
    """The engine that received the ping."""

    class Meta:
        table_name = "heartbeat_pings"
        indexes = ((("shard", "id"), False),)


PING_RECORDS = (HeartbeatPingRecord,)
"""The table of pings in transit between engines, created by schema version 12."""
