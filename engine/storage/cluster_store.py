"""ClusterStore: engine heartbeats, shard leases and the cross-region reads of the quorum rule.

A claim is one short transaction that heartbeats the engine, renews its leases, takes free shards up
to its fair share and says which of its shards it must give back and which it decides. Rows that
several engines race for are taken with `SELECT … FOR UPDATE SKIP LOCKED` on MySQL/MariaDB (≥ 10.6 /
8.0) under READ COMMITTED, so two engines claiming at once split the free shards instead of waiting
on each other; SQLite serialises the whole claim with `BEGIN IMMEDIATE`.

Lease times come from the database's own clock on MySQL (`UNIX_TIMESTAMP(NOW(6))`), so engines on
hosts with skewed clocks still agree on what has expired; SQLite is local, its clock is the host's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.storage.cluster_records import EngineRecord, LeaseRecord
from engine.storage.fields import from_micros
from engine.storage.lock_retry import retry_lock_conflicts
from engine.storage.records import WORD_LIMIT, CheckRecord, CheckStateRecord, ResultRecord, database
from pulsewatch.domain.cluster import SHARDS, deciding_shards, fair_share, shard_of, shards_to_release
from pulsewatch.domain.engines import EngineLoad, EngineRoster, EngineSummary

if TYPE_CHECKING:
    from collections.abc import Collection

    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import CheckState

FREE = ""
"""The `engine` of a lease nobody holds."""

FORGET_ENGINES_AFTER = timedelta(days=7)
"""Rows of engines silent this long are deleted (names like HOST-PID pile up otherwise)."""

QUORUM_READ_LIMIT = 200
"""Most recent results read per quorum question: enough for every region's latest in the window."""


@dataclass(frozen=True)
class LeaseClaim:
    """What one claim found and did."""

    now: datetime
    """The database's clock when the claim ran."""
    held: frozenset[int]
    """Shards this engine holds now (renewed or newly taken), those to release included."""
    release: tuple[int, ...]
    """Shards over the fair share: stop probing them, then `release()` them."""
    deciding: frozenset[int]
    """Held shards this engine decides (no region sorting before it holds them)."""
    live_engines: int
    """Live engines in this engine's region, itself included."""
    live_regions: int
    """Regions with a live engine."""


@dataclass(frozen=True)
class RegionVerdicts:
    """Other regions' latest recent verdicts on one check, for the quorum rule."""

    failed: dict[str, bool]
    """Region → whether its latest result in the window failed."""
    live_regions: int


class ClusterStore:
    """Engines, leases and region verdicts on the SqlStore's database (thread-safe like it)."""

    def __init__(self, store: SqlStore, *, shards: int = SHARDS) -> None:
        self._store = store
        self._shards = shards

    def claim(
        self, engine: str, region: str, version: str, ttl: float, *, joining: bool = False,
        load: EngineLoad | None = None,
    ) -> LeaseClaim:
        """Heartbeat, renew, take free shards up to the fair share, report what to release and decide.

        Args:
            engine: this engine's name.
            region: its region ("" without regions).
            version: the PulseWatch version it runs.
            ttl: seconds a lease and a heartbeat written now stay live.
            joining: the engine's first claim (sets `started_at`, clears `stopped_at`).
            load: the engine's lateness and probe rate now, written with the heartbeat (None: the
                figures already stored are kept).

        Raises:
            StorageError: the database failed; nothing was changed.
        """
        engine, region = engine[:WORD_LIMIT], region[:WORD_LIMIT]
        with self._store.session("claim shard leases in"):
            # Two engines renewing at once can deadlock on MySQL (rows locked in different orders):
            # InnoDB rolls one claim back, which is run again here rather than failing the renewal.
            return retry_lock_conflicts(
                lambda: self._claim_once(engine, region, version, ttl, joining=joining, load=load),
                what=f"lease claim of {engine}",
            )

    def _claim_once(
        self, engine: str, region: str, version: str, ttl: float, *, joining: bool, load: EngineLoad | None
    ) -> LeaseClaim:
        """One claim transaction (see `claim`); may be run again after a lock conflict rolled it back."""
        with self._store.atomic(claim=True):
            now = self._db_now()
            expires = now + timedelta(seconds=ttl)
            self._heartbeat(engine, region, version, now, joining=joining, load=load)
            self._ensure_leases(region)
            live = self._live_engines(now, ttl)
            in_region = max(1, sum(1 for r in live if r == region))
            fair = fair_share(in_region, self._shards)
            mine = self._renew(engine, region, expires)
            if len(mine) < fair:
                mine |= self._take(engine, region, now, expires, now, fair - len(mine))
            # Shards expired for a whole TTL were left by every live engine (all at their share while
            # one of them is stuck): take them anyway, so no check is forgotten.
            mine |= self._take(engine, region, now, expires, now - timedelta(seconds=ttl), None)
            holders = self._other_holders(region, mine, now)
            return LeaseClaim(
                now=now,
                held=frozenset(mine),
                release=shards_to_release(mine, fair, in_region),
                deciding=deciding_shards(region, mine, holders),
                live_engines=in_region,
                live_regions=len(set(live) | {region}),
            )

    def release(self, engine: str, region: str, shards: Collection[int]) -> None:
        """Give shards back (only those this engine still holds): other engines may take them at once."""
        if not shards:
            return
        with self._store.session("release shard leases in"), self._store.atomic():
            LeaseRecord.update(engine=FREE, expires_at=0).where(
                (LeaseRecord.region == region[:WORD_LIMIT])
                & (LeaseRecord.engine == engine[:WORD_LIMIT])
                & LeaseRecord.shard.in_(list(shards))
            ).execute()

    def leave(self, engine: str, region: str) -> None:
        """A clean stop: release every lease and mark the engine stopped, so others rebalance now."""
        engine, region = engine[:WORD_LIMIT], region[:WORD_LIMIT]
        with self._store.session("leave the cluster in"), self._store.atomic():
            now = self._db_now()
            LeaseRecord.update(engine=FREE, expires_at=0).where(
                (LeaseRecord.region == region) & (LeaseRecord.engine == engine)
            ).execute()
            EngineRecord.update(stopped_at=now).where(EngineRecord.name == engine).execute()

    def engines(self) -> list[EngineSummary]:
        """Every known engine, by name, with the shards it holds, their checks and its latest load."""
        return list(self.roster(0.0).engines)

    def roster(self, ttl: float) -> EngineRoster:
        """Every known engine as read now on the database's clock, for the console's Engines screen.

        Args:
            ttl: seconds a heartbeat counts as live (the configured lease's TTL), carried along so the
                reader judges liveness the way the engines do.
        """
        with self._store.session("read engines from"):
            now = self._db_now()
            shards: dict[str, set[int]] = defaultdict(set)
            query = LeaseRecord.select(LeaseRecord.engine, LeaseRecord.shard).where(
                (LeaseRecord.expires_at >= now) & (LeaseRecord.engine != FREE)
            )
            for name, shard in _tuples(query):
                shards[name].add(int(shard))
            per_shard: dict[int, int] = defaultdict(int)
            for (check_id,) in _tuples(CheckRecord.select(CheckRecord.id)):
                per_shard[shard_of(int(check_id), self._shards)] += 1
            engines = tuple(
                EngineSummary(
                    r.name, r.region, r.version, r.started_at, r.heartbeat_at, r.stopped_at,
                    len(shards.get(r.name, ())), sum(per_shard.get(s, 0) for s in shards.get(r.name, ())),
                    _load(r),
                )
                for r in EngineRecord.select().order_by(EngineRecord.name)
            )
        return EngineRoster(read_at=now, ttl=ttl, engines=engines)

    def region_verdicts(self, check_id: int, since: datetime, region: str, ttl: float) -> RegionVerdicts:
        """The latest result since `since` of every region but `region`, and how many regions are live.

        Results name their engine; an engine's region is read from `engines` (results of an engine
        that is no longer known are ignored).
        """
        with self._store.session("read other regions' results from"):
            now = self._db_now()
            regions = {r.name: r.region for r in EngineRecord.select(EngineRecord.name, EngineRecord.region)}
            live = self._live_engines(now, ttl)
            query = (
                ResultRecord.select(ResultRecord.engine, ResultRecord.ok)
                .where((ResultRecord.check_id == check_id) & (ResultRecord.started_at >= since))
                .order_by(ResultRecord.started_at.desc(), ResultRecord.id.desc())
                .limit(QUORUM_READ_LIMIT)
            )
            failed: dict[str, bool] = {}
            for row in _tuples(query):
                other = regions.get(row[0])
                if other is not None and other != region and other not in failed:
                    failed[other] = not bool(row[1])
        return RegionVerdicts(failed=failed, live_regions=len(set(live) | {region}))

    def states_of(self, check_ids: Collection[int]) -> dict[int, CheckState]:
        """The stored states of these checks (a shard changed hands: its checks' states moved on)."""
        if not check_ids:
            return {}
        with self._store.session("read check states from"):
            query = CheckStateRecord.select().where(CheckStateRecord.check_id.in_(list(check_ids)))
            return {r.check_id: r.to_domain() for r in query}

    # -- internals ------------------------------------------------------------------------------

    def _db_now(self) -> datetime:
        if not self._store.is_mysql:
            return datetime.now(UTC)
        value = database.execute_sql("SELECT UNIX_TIMESTAMP(NOW(6))").fetchone()[0]
        return from_micros(int(Decimal(value) * 1_000_000))

    def _heartbeat(
        self, engine: str, region: str, version: str, now: datetime, *, joining: bool, load: EngineLoad | None
    ) -> None:
        updates: dict[str, Any] = {"region": region, "heartbeat_at": now, "version": version[:32]}
        if joining:
            updates.update(started_at=now, stopped_at=None)
        if load is not None:
            updates.update(lateness_p50_s=load.lateness_p50_s, lateness_p99_s=load.lateness_p99_s,
                           probes_per_s=load.probes_per_s)
        changed = EngineRecord.update(**updates).where(EngineRecord.name == engine).execute()
        if not changed:
            row = {"started_at": now, **updates, "name": engine}
            EngineRecord.insert(**row).on_conflict_ignore().execute()
        EngineRecord.delete().where(EngineRecord.heartbeat_at < now - FORGET_ENGINES_AFTER).execute()

    def _ensure_leases(self, region: str) -> None:
        have = LeaseRecord.select().where(LeaseRecord.region == region).count()
        if have < self._shards:
            rows = [
                {"region": region, "shard": s, "engine": FREE, "expires_at": 0} for s in range(self._shards)
            ]
            LeaseRecord.insert_many(rows).on_conflict_ignore().execute()

    def _live_engines(self, now: datetime, ttl: float) -> list[str]:
        """The region of every live engine."""
        query = EngineRecord.select(EngineRecord.region).where(
            (EngineRecord.heartbeat_at >= now - timedelta(seconds=ttl)) & EngineRecord.stopped_at.is_null()
        )
        return [r for (r,) in _tuples(query)]

    def _renew(self, engine: str, region: str, expires: datetime) -> set[int]:
        mine = (LeaseRecord.region == region) & (LeaseRecord.engine == engine)
        LeaseRecord.update(expires_at=expires).where(mine).execute()
        return {s for (s,) in _tuples(LeaseRecord.select(LeaseRecord.shard).where(mine))}

    def _take(
        self, engine: str, region: str, now: datetime, expires: datetime, expired_before: datetime,
        limit: int | None,
    ) -> set[int]:
        """Lock and take up to `limit` shards whose lease ended before `expired_before`."""
        query = (
            LeaseRecord.select(LeaseRecord.shard)
            .where((LeaseRecord.region == region) & (LeaseRecord.expires_at < expired_before))
            .order_by(LeaseRecord.shard)
        )
        if limit is not None:
            query = query.limit(limit)
        if self._store.is_mysql:
            query = query.for_update(skip_locked=True)
        free = [s for (s,) in _tuples(query)]
        if free:
            LeaseRecord.update(engine=engine, expires_at=expires, acquired_at=now).where(
                (LeaseRecord.region == region) & LeaseRecord.shard.in_(free)
            ).execute()
        return set(free)

    def _other_holders(self, region: str, shards: Collection[int], now: datetime) -> dict[int, set[str]]:
        if not shards:
            return {}
        query = LeaseRecord.select(LeaseRecord.shard, LeaseRecord.region).where(
            (LeaseRecord.region != region)
            & (LeaseRecord.engine != FREE)
            & (LeaseRecord.expires_at >= now)
            & LeaseRecord.shard.in_(list(shards))
        )
        holders: dict[int, set[str]] = defaultdict(set)
        for shard, other in _tuples(query):
            holders[shard].add(other)
        return holders


def _load(row: EngineRecord) -> EngineLoad | None:
    """The load figures of an engine's row; None until its first heartbeat that carried them."""
    if row.lateness_p50_s is None or row.lateness_p99_s is None or row.probes_per_s is None:
        return None
    return EngineLoad(float(row.lateness_p50_s), float(row.lateness_p99_s), float(row.probes_per_s))


def _tuples(query: Any) -> list[tuple[Any, ...]]:
    """A query's rows as plain tuples."""
    return [tuple(row) for row in query.tuples()]
