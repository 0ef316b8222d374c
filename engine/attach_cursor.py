"""The newest id read of a table that grows by auto-increment, and the ids it skipped (holes).

Ids are handed out at insert but become visible at commit, so two engines committing out of order
can show id 120 before id 119 to a reader following `id > cursor`. The cursor keeps the ids it
jumped over and asks for them again for HOLE_SECONDS; past that they are taken to be rolled back, or
never used (auto_increment_increment > 1, a counter that jumped after a server restart).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

HOLE_SECONDS = 5.0
"""How long an id skipped by a cursor is asked for again before it is taken to be rolled back."""
MAX_HOLES = 5000
"""The most holes kept (the oldest go first): what a read asks for stays bounded."""


class IdCursor:
    """The newest id read of a table that grows by auto-increment, and the ids it skipped (holes).

    Args:
        last: the newest id already known (nothing at or below it is new, except holes).
        hole_seconds: how long a skipped id is asked for again.
        max_holes: the most holes kept (the oldest go first).
    """

    def __init__(self, last: int, *, hole_seconds: float = HOLE_SECONDS, max_holes: int = MAX_HOLES) -> None:
        self.last = last
        self._hole_seconds = hole_seconds
        self._max_holes = max_holes
        self._holes: OrderedDict[int, float] = OrderedDict()

    @property
    def holes(self) -> list[int]:
        """Ids skipped recently, to ask for again."""
        return list(self._holes)

    def take(self, ids: Iterable[int], now: float) -> set[int]:
        """Note the ids a read returned (after `last`, and among the holes); returns the new ones."""
        fresh: set[int] = set()
        for found in ids:
            if found > self.last or self._holes.pop(found, None) is not None:
                fresh.add(found)
        newest = max((i for i in fresh if i > self.last), default=self.last)
        # A jump of the counter (a server restart, a large rollback) is not a million holes.
        for skipped in range(max(self.last + 1, newest - self._max_holes), newest):
            if skipped not in fresh:
                self._holes[skipped] = now
        self.last = newest
        while self._holes:
            oldest, seen = next(iter(self._holes.items()))
            if now - seen <= self._hole_seconds and len(self._holes) <= self._max_holes:
                break
            del self._holes[oldest]
        return fresh
