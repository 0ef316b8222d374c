"""Filter, sort and group the grid's rows (pure: tui/query.py, no Textual)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from pulsewatch.domain.monitoring import Status
from tests.tui.fakes import CHECKS, STARTED, STATES, make_check
from tui.model import Board, CheckView, apply_events
from tui.query import (
    NO_TAG,
    NO_TEAM,
    CheckRow,
    GridQuery,
    Grouping,
    GroupRow,
    SortKey,
    arrange,
    parse_filter,
)


def board() -> Board:
    return apply_events(Board(), [STARTED]).board


def names(query: GridQuery, views: Board | None = None) -> list[str]:
    shown = (views or board()).views
    return [shown[row.check_id].check.name if isinstance(row, CheckRow) else f"[{row.name}]"
            for row in arrange(shown, query).rows]


def tagged() -> Board:
    """Three checks with teams and tags, one with neither."""
    checks = (
        make_check(1, "web-api", team="web", tags=("prod", "edge")),
        make_check(2, "web-ui", team="web", tags=("prod",)),
        make_check(3, "batch", team="data"),
        make_check(4, "lonely"),
    )
    views = {c.id: CheckView(c, replace(STATES[0], check_id=c.id)) for c in checks if c.id is not None}
    return Board(views=MappingProxyType(views))


class TestParseFilter:
    def test_words_and_prefixed_parts(self) -> None:
        parsed = parse_filter("Status:DOWN,degraded team:Web tag:prod  API 503")
        assert parsed.statuses == {Status.DOWN, Status.DEGRADED}
        assert parsed.teams == {"web"}
        assert parsed.tags == {"prod"}
        assert parsed.words == ("api", "503")
        assert parsed.problems == ()
        assert parsed.active

    def test_an_unknown_status_is_a_problem_not_a_silent_empty_grid(self) -> None:
        parsed = parse_filter("status:dwn")
        assert parsed.statuses == frozenset()
        assert parsed.problems == ("no status 'dwn' (use unknown, up, down, degraded, paused, maintenance)",)
        assert not parsed.active

    def test_a_prefix_without_a_value_is_a_problem(self) -> None:
        assert parse_filter("team:").problems == ("team: needs a value",)

    def test_other_colons_are_plain_words(self) -> None:
        assert parse_filter("https://api").words == ("https://api",)

    def test_empty_lets_everything_through(self) -> None:
        assert not parse_filter("   ").active


class TestFiltering:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("", [c.name for c in CHECKS]),
            ("status:down", ["checkout"]),
            ("status:down,degraded", ["checkout", "search"]),
            ("team:web", ["api"]),
            ("CHECK", ["checkout"]),
            ("503", ["checkout"]),  # the last error is searched too
            ("reports.example", ["reports"]),  # and the URL
            ("status:up cdn", ["cdn"]),
            ("status:up nothing-like-this", []),
        ],
    )
    def test_each_part_must_match(self, text: str, expected: list[str]) -> None:
        assert names(GridQuery(filter=parse_filter(text))) == expected

    def test_tags_match_any_listed(self) -> None:
        assert names(GridQuery(filter=parse_filter("tag:edge,nope")), tagged()) == ["web-api"]

    def test_matched_counts_checks(self) -> None:
        assert arrange(board().views, GridQuery(filter=parse_filter("status:up"))).matched == 2


class TestSorting:
    def test_config_order_by_default(self) -> None:
        assert names(GridQuery()) == [c.name for c in CHECKS]

    def test_by_name(self) -> None:
        assert names(GridQuery(sort=SortKey.NAME)) == sorted(c.name for c in CHECKS)

    def test_by_status_worst_first_then_name(self) -> None:
        assert names(GridQuery(sort=SortKey.STATUS)) == [
            "checkout", "search", "auth", "reports", "billing-worker", "api", "cdn"]

    def test_by_latency_slowest_first_never_probed_last(self) -> None:
        assert names(GridQuery(sort=SortKey.LATENCY)) == [
            "search", "reports", "api", "checkout", "billing-worker", "cdn", "auth"]

    def test_by_last_checked_never_then_stalest_first(self) -> None:
        assert names(GridQuery(sort=SortKey.CHECKED)) == [
            "auth", "billing-worker", "reports", "cdn", "search", "api", "checkout"]

    def test_reverse_flips_any_order(self) -> None:
        assert names(GridQuery(sort=SortKey.NAME, reverse=True)) == sorted((c.name for c in CHECKS),
                                                                           reverse=True)
        assert names(GridQuery(reverse=True)) == [c.name for c in reversed(CHECKS)]


class TestGrouping:
    def test_by_team_groups_by_name_with_the_teamless_last(self) -> None:
        assert names(GridQuery(group=Grouping.TEAM, sort=SortKey.NAME), tagged()) == [
            "[data]", "batch", "[web]", "web-api", "web-ui", f"[{NO_TEAM}]", "lonely"]

    def test_by_tag_lists_a_check_under_each_of_its_tags(self) -> None:
        assert names(GridQuery(group=Grouping.TAG, sort=SortKey.NAME), tagged()) == [
            "[edge]", "web-api", "[prod]", "web-api", "web-ui", f"[{NO_TAG}]", "batch", "lonely"]
        assert arrange(tagged().views, GridQuery(group=Grouping.TAG)).matched == 4

    def test_a_collapsed_group_keeps_only_its_heading(self) -> None:
        query = GridQuery(group=Grouping.TEAM, collapsed=frozenset({"web"}))
        rows = arrange(tagged().views, query).rows
        heading = next(r for r in rows if isinstance(r, GroupRow) and r.name == "web")
        assert heading.collapsed
        assert heading.check_ids == (1, 2)
        assert names(query, tagged()) == ["[data]", "batch", "[web]", f"[{NO_TEAM}]", "lonely"]

    def test_grouping_applies_after_the_filter(self) -> None:
        assert names(GridQuery(group=Grouping.TEAM, filter=parse_filter("web-ui")), tagged()) == [
            "[web]", "web-ui"]


def test_only_state_based_queries_go_stale() -> None:
    assert not GridQuery(sort=SortKey.NAME, filter=parse_filter("team:web")).depends_on_state
    assert GridQuery(sort=SortKey.LATENCY).depends_on_state
    assert GridQuery(filter=parse_filter("status:down")).depends_on_state
