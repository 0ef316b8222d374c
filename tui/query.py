"""Which checks the grid shows, in what order and under which groups: pure, no Textual.

The person types a filter such as `status:down,degraded team:web tag:prod api` into the filter bar;
`parse_filter` turns it into a `CheckFilter`, and `arrange` applies it with a sort and a grouping
to the board's checks, giving the grid its rows. The grid calls `arrange` once per user action
(a keystroke in the filter, a new sort or grouping) and when the check list itself changes, never
per engine event: at 10,000 checks a re-arrangement costs tens of milliseconds, a cell update
microseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import Status

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from tui.model import CheckView

NO_TEAM = "(no team)"
"""The group of checks without a team."""

NO_TAG = "(no tags)"
"""The group of checks without tags."""

SEVERITY: dict[Status, int] = {
    Status.DOWN: 0,
    Status.DEGRADED: 1,
    Status.UNKNOWN: 2,
    Status.MAINTENANCE: 3,
    Status.PAUSED: 4,
    Status.UP: 5,
}
"""Sorting by status puts what needs attention first and healthy checks last."""


class SortKey(enum.Enum):
    """What the grid is ordered by. Each has a natural direction; `reverse` flips it."""

    CONFIG = "config"
    """As the engine lists them (the order of the config file)."""
    NAME = "name"
    """Alphabetically."""
    STATUS = "status"
    """Worst status first (SEVERITY), then by name."""
    LATENCY = "latency"
    """Slowest last probe first; never-probed checks last."""
    CHECKED = "checked"
    """Longest since the last probe first (stuck checks surface); never-probed first of all."""

    @property
    def label(self) -> str:
        """How the filter bar names it."""
        return {"config": "as configured", "checked": "last checked"}.get(self.value, self.value)


class Grouping(enum.Enum):
    """How the grid groups its rows."""

    NONE = "none"
    TEAM = "team"
    TAG = "tag"
    """A check with several tags appears under each of them."""


@dataclass(frozen=True)
class CheckFilter:
    """A parsed filter: every given part must match (AND); values within one part are alternatives."""

    text: str = ""
    statuses: frozenset[Status] = frozenset()
    teams: frozenset[str] = frozenset()
    """Lower-cased team names."""
    tags: frozenset[str] = frozenset()
    """Lower-cased tags."""
    words: tuple[str, ...] = ()
    """Lower-cased words that must each appear in the name, URL, team, tags or last error."""
    problems: tuple[str, ...] = ()
    """Parts that could not be understood (shown in the filter bar; they filter nothing)."""

    @property
    def active(self) -> bool:
        """False when the filter lets every check through."""
        return bool(self.statuses or self.teams or self.tags or self.words)

    def matches(self, view: CheckView) -> bool:
        """Whether the check passes every part of the filter."""
        check = view.check
        if self.statuses and view.state.status not in self.statuses:
            return False
        if self.teams and (check.team or "").lower() not in self.teams:
            return False
        if self.tags and not self.tags.intersection(t.lower() for t in check.tags):
            return False
        if self.words:
            haystack = " ".join((check.name, check.url, check.team or "", *check.tags,
                                 view.state.last_error)).lower()
            return all(word in haystack for word in self.words)
        return True


def parse_filter(text: str) -> CheckFilter:
    """Read what the person typed into the filter bar.

    `status:down,degraded` (any of the statuses), `team:web`, `tag:prod` (comma-separated values
    are alternatives), and free words, all case-insensitive. An unknown status is reported in
    `problems` rather than silently matching nothing.
    """
    statuses: set[Status] = set()
    teams: set[str] = set()
    tags: set[str] = set()
    words: list[str] = []
    problems: list[str] = []
    by_word = {status.value: status for status in Status}
    for token in text.split():
        prefix, colon, value = token.partition(":")
        prefix = prefix.lower()
        values = [v for v in value.lower().split(",") if v]
        if not colon or prefix not in ("status", "team", "tag"):
            words.append(token.lower())
        elif not values:
            problems.append(f"{prefix}: needs a value")
        elif prefix == "status":
            for word in values:
                if word in by_word:
                    statuses.add(by_word[word])
                else:
                    problems.append(f"no status {word!r} (use {', '.join(by_word)})")
        elif prefix == "team":
            teams.update(values)
        else:
            tags.update(values)
    return CheckFilter(text, frozenset(statuses), frozenset(teams), frozenset(tags), tuple(words),
                       tuple(problems))


@dataclass(frozen=True)
class GridQuery:
    """Everything that decides the grid's rows: the filter, the order and the grouping."""

    filter: CheckFilter = field(default_factory=CheckFilter)
    sort: SortKey = SortKey.CONFIG
    reverse: bool = False
    group: Grouping = Grouping.NONE
    collapsed: frozenset[str] = frozenset()
    """Groups whose checks are hidden under their header row."""

    @property
    def depends_on_state(self) -> bool:
        """Whether live updates can make the rows' order or membership out of date."""
        return bool(self.filter.statuses or self.filter.words) or self.sort in (
            SortKey.STATUS, SortKey.LATENCY, SortKey.CHECKED)


@dataclass(frozen=True, slots=True)
class CheckRow:
    """A grid row showing one check."""

    check_id: int


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A grid row heading a group: its name, and the checks under it (shown or collapsed)."""

    name: str
    check_ids: tuple[int, ...]
    collapsed: bool = False


Row = CheckRow | GroupRow


@dataclass(frozen=True)
class Arrangement:
    """The grid's rows, and how many distinct checks passed the filter."""

    rows: tuple[Row, ...]
    matched: int


def arrange(views: Mapping[int, CheckView], query: GridQuery) -> Arrangement:
    """The rows for `views` under `query`.

    Args:
        views: every check by id, in the engine's order (which SortKey.CONFIG keeps).
        query: the filter, sort and grouping.

    Returns:
        Check rows in order; when grouped, each group's header row followed by its checks (none
        when the group is collapsed), groups by name with the "no team/tags" group last.
    """
    if query.filter.active:
        chosen = [view for view in views.values() if query.filter.matches(view)]
    else:
        chosen = list(views.values())
    ordered = _sorted(chosen, query.sort, query.reverse)
    if query.group is Grouping.NONE:
        return Arrangement(tuple(CheckRow(view.check_id) for view in ordered), len(ordered))
    members: dict[str, list[int]] = {}
    for view in ordered:
        for name in _groups_of(view, query.group):
            members.setdefault(name, []).append(view.check_id)
    rows: list[Row] = []
    ungrouped = NO_TEAM if query.group is Grouping.TEAM else NO_TAG
    for name in sorted(members, key=lambda n: (n == ungrouped, n.lower())):
        ids = tuple(members[name])
        collapsed = name in query.collapsed
        rows.append(GroupRow(name, ids, collapsed))
        if not collapsed:
            rows.extend(CheckRow(cid) for cid in ids)
    return Arrangement(tuple(rows), len(ordered))


def _groups_of(view: CheckView, group: Grouping) -> tuple[str, ...]:
    if group is Grouping.TEAM:
        return (view.check.team or NO_TEAM,)
    return view.check.tags or (NO_TAG,)


def _sorted(views: list[CheckView], sort: SortKey, reverse: bool) -> list[CheckView]:
    if sort is SortKey.CONFIG:
        return views[::-1] if reverse else views
    key = _SORT_KEYS[sort]
    return sorted(views, key=key, reverse=reverse)


def _name(view: CheckView) -> tuple[str, str]:
    return (view.check.name.lower(), view.check.name)


def _status(view: CheckView) -> tuple[int, str]:
    return (SEVERITY[view.state.status], view.check.name.lower())


def _latency(view: CheckView) -> tuple[bool, float, str]:
    latency = view.state.last_latency_ms
    return (latency is None, -(latency or 0.0), view.check.name.lower())


def _checked(view: CheckView) -> tuple[bool, float, str]:
    at = view.state.last_checked_at
    return (at is not None, at.timestamp() if at is not None else 0.0, view.check.name.lower())


_SORT_KEYS: dict[SortKey, Callable[[CheckView], tuple[object, ...]]] = {
    SortKey.NAME: _name,
    SortKey.STATUS: _status,
    SortKey.LATENCY: _latency,
    SortKey.CHECKED: _checked,
}
