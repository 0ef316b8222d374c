"""Peewee records for several engines on one database: the `engines` table and the shard leases.

`engines` has one row per engine name: its region, when it started, its latest heartbeat (every
claim), the PulseWatch version it runs and when it stopped cleanly (None while it runs or after a
crash). An engine counts as live while its heartbeat is younger than the lease TTL and it has not
stopped. Each heartbeat also writes the engine's load (`pulsewatch.domain.engines.EngineLoad`):
scheduling lateness p50/p99 and probes per second, for the console's Engines screen; NULL until the
first heartbeat of an engine that reports them.

`shard_leases` has one row per (region, shard): who holds it (`engine`, "" when free) and until when.
A lease whose `expires_at` has passed may be claimed by any engine of that region.
"""

from __future__ import annotations

from peewee import CharField, CompositeKey, DoubleField, IntegerField

from engine.storage.fields import InstantField
from engine.storage.records import WORD_LIMIT, BaseRecord


class EngineRecord(BaseRecord):
    """One engine that has run against this database."""

    name = CharField(max_length=WORD_LIMIT, primary_key=True)
    region = CharField(max_length=WORD_LIMIT, default="")
    started_at = InstantField()
    heartbeat_at = InstantField()
    version = CharField(max_length=32, default="")
    stopped_at = InstantField(null=True)
    lateness_p50_s = DoubleField(null=True)
    lateness_p99_s = DoubleField(null=True)
    probes_per_s = DoubleField(null=True)

    class Meta:
        table_name = "engines"


class LeaseRecord(BaseRecord):
    """One shard's lease in one region."""

    region = CharField(max_length=WORD_LIMIT)
    shard = IntegerField()
    engine = CharField(max_length=WORD_LIMIT, default="")
    expires_at = InstantField()
    acquired_at = InstantField(null=True)

    class Meta:
        table_name = "shard_leases"
        primary_key = CompositeKey("region", "shard")


CLUSTER_RECORDS = (EngineRecord, LeaseRecord)
"""The tables of several-engine operation, in creation order."""
