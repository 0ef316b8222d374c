"""Several engines on one database: shards, fair shares, who decides a check, and the quorum rule.

Checks are split into SHARDS fixed shards (`check_id % SHARDS`); engines lease whole shards, per
region. Within a region each shard has at most one holder, so each check is probed once a round per
region. Without regions (every engine in region "") that means exactly once.

Leases are written to last `LeaseTiming.ttl` = two renewal periods: one missed renewal is forgiven,
two lose the shard. An engine that dies is therefore noticed within `ttl` and its shards are taken
at the next claim of a survivor, at most one renewal period later: within one lease period in all.

When regions probe the same check, exactly one engine *decides* it (applies results to its state,
writes flips): the holder in the region whose name sorts first among the regions that hold the
shard. The others only record results. With `quorum` above 1 the decider turns a check DOWN only
when that many regions' latest results (its own included) failed — see `quorum_reached`.

Everything here is pure: no clock, no I/O. The engine and the store supply rows and `now`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

SHARDS = 64
"""Shards per region. Fixed: every engine on a database must agree on it (changing it would move
checks between shards while engines hold leases)."""

DEFAULT_LEASE = 30.0
"""Seconds within which a dead engine's checks are taken over by the others (`engine.lease`)."""


def shard_of(check_id: int, shards: int = SHARDS) -> int:
    """The shard a check belongs to."""
    return check_id % shards


@dataclass(frozen=True)
class LeaseTiming:
    """How often leases are renewed and how long a written lease lasts, from the configured period.

    Attributes:
        period: the configured `engine.lease` in seconds: the longest a dead engine's checks go
            unprobed (plus the check's own interval).
    """

    period: float = DEFAULT_LEASE

    @property
    def renew_every(self) -> float:
        """Seconds between two claims (renewal, heartbeat, taking free shards)."""
        return self.period / 3

    @property
    def ttl(self) -> float:
        """Seconds a written lease (and an engine's heartbeat) counts as live: two renewal periods."""
        return self.period * 2 / 3


def fair_share(live_engines: int, shards: int = SHARDS) -> int:
    """How many shards one engine of a region with `live_engines` live engines should hold."""
    return math.ceil(shards / max(1, live_engines))


def shards_to_release(held: Collection[int], fair: int, live_engines: int) -> tuple[int, ...]:
    """The shards an engine gives back when it holds more than its fair share (a new engine joined).

    Only when another engine is live to take them. The shards given back are spread evenly over
    the ones held rather than the highest: check ids are dense and small in small installations,
    so a spread hands every engine a share of the actual checks, not only of the shard numbers.
    """
    if live_engines <= 1 or len(held) <= fair:
        return ()
    ordered = sorted(held)
    extra = len(ordered) - fair
    step = len(ordered) / extra
    return tuple(ordered[int(i * step)] for i in range(extra))


def deciding_shards(
    region: str, held: Iterable[int], holders: Mapping[int, Collection[str]]
) -> frozenset[int]:
    """Of the shards an engine holds, those it decides: its region sorts first among their holders.

    Args:
        region: the engine's region.
        held: the shards it holds.
        holders: shard → the regions that hold a live lease on it (this region may be missing).
    """
    return frozenset(s for s in held if all(region <= other for other in holders.get(s, ())))


def quorum_reached(
    *, quorum: int, own_failed: bool, other_regions_failed: Mapping[str, bool], live_regions: int
) -> bool:
    """Whether enough regions agree that a check is failing for the decider to turn it DOWN.

    Args:
        quorum: regions that must agree (1: the decider alone decides, as with a single engine).
        own_failed: whether the decider's own latest result failed (it is deciding on it).
        other_regions_failed: region → whether that region's latest recent result failed; regions
            without a recent result are absent and count as not agreeing.
        live_regions: regions with a live engine, the decider's included. The quorum is capped by
            it, so a region that is down does not keep every check UP forever.

    Returns:
        True when at least min(quorum, live_regions) regions failed, the decider's own included.
    """
    if not own_failed:
        return False
    needed = max(1, min(quorum, live_regions))
    agreeing = 1 + sum(1 for failed in other_regions_failed.values() if failed)
    return agreeing >= needed
