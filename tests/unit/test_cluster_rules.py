"""The pure rules of several engines: shards, fair shares, what to give back, who decides, the quorum."""

from __future__ import annotations

import pytest

from pulsewatch.domain.cluster import (
    SHARDS,
    LeaseTiming,
    deciding_shards,
    fair_share,
    quorum_reached,
    shard_of,
    shards_to_release,
)


class TestShares:
    @pytest.mark.parametrize(
        ("live", "share"), [(0, 64), (1, 64), (2, 32), (3, 22), (5, 13), (64, 1), (100, 1)]
    )
    def test_fair_share_covers_every_shard(self, live: int, share: int) -> None:
        assert fair_share(live) == share
        assert share * max(live, 1) >= SHARDS

    def test_a_lone_engine_gives_nothing_back(self) -> None:
        assert shards_to_release(range(SHARDS), 32, live_engines=1) == ()

    def test_an_engine_at_its_share_gives_nothing_back(self) -> None:
        assert shards_to_release(range(32), 32, live_engines=2) == ()

    def test_shards_given_back_are_spread_over_those_held(self) -> None:
        released = shards_to_release(range(SHARDS), 32, live_engines=2)

        assert len(released) == 32
        assert released == tuple(range(0, SHARDS, 2))

    def test_a_third_engine_gets_low_and_high_shards_from_each(self) -> None:
        released = shards_to_release(range(1, SHARDS, 2), 22, live_engines=3)

        assert len(released) == 10
        assert min(released) < 8
        assert max(released) > 48

    def test_check_ids_map_to_shards_round_robin(self) -> None:
        assert [shard_of(i) for i in (0, 1, 63, 64, 65)] == [0, 1, 63, 0, 1]

    def test_a_lease_lasts_two_renewals(self) -> None:
        timing = LeaseTiming(30.0)

        assert (timing.renew_every, timing.ttl) == (10.0, 20.0)
        assert timing.ttl + timing.renew_every == timing.period  # death to takeover, at worst


class TestDeciding:
    def test_without_other_regions_every_held_shard_is_decided(self) -> None:
        assert deciding_shards("", [1, 2, 3], {}) == {1, 2, 3}

    def test_the_region_sorting_first_decides(self) -> None:
        holders = {1: {"us"}, 2: {"ap"}, 3: set()}

        assert deciding_shards("eu", [1, 2, 3], holders) == {1, 3}
        assert deciding_shards("ap", [1, 2], {1: {"eu"}}) == {1, 2}


class TestQuorum:
    @pytest.mark.parametrize(
        ("quorum", "own", "others", "live", "down"),
        [
            (1, True, {}, 1, True),                               # alone, as with one engine
            (1, False, {"us": True}, 2, False),                   # the decider's own result passed
            (2, True, {}, 2, False),                              # nobody else reported
            (2, True, {"us": False}, 2, False),                   # the other region sees it up
            (2, True, {"us": True}, 2, True),
            (3, True, {"us": True, "ap": False}, 3, False),
            (3, True, {"us": True, "ap": True}, 3, True),
            (3, True, {"us": True}, 2, True),                     # capped by the live regions
            (2, True, {}, 1, True),                               # the only live region decides
        ],
    )
    def test_down_needs_enough_regions(
        self, quorum: int, own: bool, others: dict[str, bool], live: int, down: bool
    ) -> None:
        reached = quorum_reached(
            quorum=quorum, own_failed=own, other_regions_failed=others, live_regions=live
        )
        assert reached is down
