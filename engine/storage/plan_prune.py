"""Raw results pruned per organization: each keeps them as long as its plan's `retention_days` says.

`PlanRetentionRollups` is the engine's MaintenanceStore when some plan sets a retention: the
RollupStore's roll-ups and pruning, with the raw step split by organization.

- The RollupStore's own raw target uses the *longest* retention in effect (the engine's
  `retention.raw` or a plan's), so its id-range walk deletes only what every organization has let go
  of — results of deleted checks included.
- Every shorter retention becomes one more target: the checks of the organizations that keep raw
  results that long (organizations without a plan retention keep them `retention.raw`), deleted
  through the (check_id, started_at) index, a chunk of checks at a time, in batches of `batch` rows.
- Each cutoff is capped by the minute mark, as the RollupStore's is: nothing is pruned before it
  is rolled up, and minute, hour and day rollups are never touched here.
- The raw `pruned_to` mark is raised to the newest cutoff, so a rewind (late results after an
  outage) never rebuilds a minute from raw results a short retention has already deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.storage.fields import to_micros
from engine.storage.records import CheckRecord, database
from engine.storage.rollup_records import LEVEL_CODES, RAW, RollupMarkRecord
from engine.storage.rollup_sql import chunks
from engine.storage.rollup_store import PruneBatch, PruneTarget
from pulsewatch.domain.rollups import Level

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from engine.storage.rollup_store import RollupStore, RollupWork
    from engine.storage.store import SqlStore
    from pulsewatch.config_retention import RetentionSettings


@dataclass(frozen=True)
class ChecksRawTarget(PruneTarget):
    """Raw results of `check_ids` (the organizations keeping them `keep` seconds) older than `cutoff`."""

    check_ids: tuple[int, ...] = ()
    keep: float = 0.0


class PlanRetentionRollups:
    """A MaintenanceStore (engine.maintenance) that prunes raw results by each organization's plan.

    Args:
        rollups: the RollupStore doing everything else.
        sql: the store both run on.
        raw_by_org: organization → seconds its raw results are kept, for those whose plan says
            (`pulsewatch.domain.quotas.raw_retention`); called once per pass, blocking.
        checks_per_delete: checks one delete statement covers.
    """

    def __init__(
        self,
        rollups: RollupStore,
        sql: SqlStore,
        raw_by_org: Callable[[], Mapping[str, float]],
        *,
        checks_per_delete: int = 100,
    ) -> None:
        self._rollups = rollups
        self._sql = sql
        self._raw_by_org = raw_by_org
        self._checks_per_delete = max(1, checks_per_delete)
        p = "%s" if sql.is_mysql else "?"
        self._param = p
        if sql.is_mysql:
            self._delete = "DELETE FROM results WHERE check_id IN ({ids}) AND started_at < %s LIMIT %s"
        else:  # SQLite's DELETE has no LIMIT (a compile-time option): pick the rows' ids first
            self._delete = (
                "DELETE FROM results WHERE id IN (SELECT id FROM results "
                "WHERE check_id IN ({ids}) AND started_at < ? LIMIT ?)"
            )

    # -- the RollupStore's part -----------------------------------------------------------------

    @property
    def checks_per_batch(self) -> int:
        """How many checks one `roll_up` call should cover."""
        return self._rollups.checks_per_batch

    def next_work(self, now: datetime, delay: float) -> RollupWork | None:
        """The RollupStore's next piece of roll-up work."""
        return self._rollups.next_work(now, delay)

    def roll_up(self, work: RollupWork, check_ids: tuple[int, ...]) -> int:
        """Build the work's buckets for these checks (the RollupStore's)."""
        return self._rollups.roll_up(work, check_ids)

    def finish(self, work: RollupWork) -> bool:
        """Record the work as done (the RollupStore's)."""
        return self._rollups.finish(work)

    def rewind(self, since: datetime, now: datetime, retention: RetentionSettings) -> None:
        """Rebuild rollups from `since` (the RollupStore's; the raw mark keeps it clear of pruned data)."""
        self._rollups.rewind(since, now, retention)

    # -- pruning --------------------------------------------------------------------------------

    def prune_targets(self, now: datetime, retention: RetentionSettings) -> list[PruneTarget]:
        """The RollupStore's targets, its raw one at the longest retention, then one target per
        shorter retention with the checks of the organizations keeping raw results that long."""
        keep = dict(self._raw_by_org())
        if not keep:
            return self._rollups.prune_targets(now, retention)
        longest = max(retention.raw, *keep.values())
        targets = self._rollups.prune_targets(now, replace(retention, raw=longest))
        raw = next((t for t in targets if t.level is None), None)
        if raw is None:
            return targets  # nothing is rolled up yet: every raw result stays
        with self._sql.session("plan pruning in"), self._sql.atomic():
            minute_mark = self._minute_mark()
            if minute_mark is None:
                return targets
            groups: dict[float, list[int]] = {}
            rows: Any = CheckRecord.select(CheckRecord.id, CheckRecord.org).order_by(CheckRecord.id).tuples()
            for check_id, org in rows:
                seconds = keep.get(str(org), retention.raw)
                if seconds < longest:
                    groups.setdefault(seconds, []).append(int(check_id))
            shorter = [
                ChecksRawTarget(None, cutoff, tuple(ids), seconds)
                for seconds, ids in sorted(groups.items(), reverse=True)
                if (cutoff := min(now - timedelta(seconds=seconds), minute_mark)) > raw.cutoff
            ]
            if shorter:
                newest = max(t.cutoff for t in shorter)
                RollupMarkRecord.update(pruned_to=newest).where(
                    (RollupMarkRecord.level == RAW)
                    & (RollupMarkRecord.pruned_to.is_null() | (RollupMarkRecord.pruned_to < newest))
                ).execute()
        at = targets.index(raw) + 1
        return [*targets[:at], *shorter, *targets[at:]]

    def prune_batch(self, target: PruneTarget, batch: int, resume_after: int) -> PruneBatch:
        """Delete one batch: of a plan target, up to `batch` rows of one chunk of its checks
        (`resume_after` is the chunk's index: the same chunk again while it fills batches);
        anything else, the RollupStore's batch."""
        if not isinstance(target, ChecksRawTarget):
            return self._rollups.prune_batch(target, batch, resume_after)
        parts = list(chunks(target.check_ids, self._checks_per_delete))
        if resume_after >= len(parts):
            return PruneBatch(deleted=0, more=False, resume_after=resume_after)
        ids = parts[resume_after]
        sql = self._delete.format(ids=", ".join([self._param] * len(ids)))
        with self._sql.session("prune old data in"), self._sql.atomic():
            deleted = int(database.execute_sql(sql, (*ids, to_micros(target.cutoff), batch)).rowcount)
        if deleted >= batch:
            return PruneBatch(deleted=deleted, more=True, resume_after=resume_after)
        return PruneBatch(deleted=deleted, more=resume_after + 1 < len(parts), resume_after=resume_after + 1)

    def _minute_mark(self) -> datetime | None:
        record = RollupMarkRecord.get_or_none(RollupMarkRecord.level == LEVEL_CODES[Level.MINUTE])
        mark: datetime | None = None if record is None else record.rolled_to
        return mark
