"""A thread-safe, coalescing mailbox between the engine thread and the console's event loop.

The engine emits a CheckUpdated for every probe — hundreds a second at scale — while the console
repaints at most a few times a second. Posting one Textual message per probe would flood the UI
queue, so the engine side only `put()`s here, and the app `drain()`s the lot in one go:

- consecutive CheckUpdated events for the same check share one place in the queue, which keeps the
  newest `depth` of them (the grid draws only the newest state, but its sparkline and uptime counts
  want every result; a check probed faster than `depth` times per drain loses only its oldest);
- every other event keeps its place, and seals the updates before it, so a pause that arrives after
  an update is never overwritten by that older update;
- the box is bounded: when a stalled UI lets it fill, the oldest entries are dropped and counted
  rather than growing without limit (STYLE §3.8).

`put()` returns True only for the event that makes the box non-empty, so the caller wakes the UI
once per drain, not once per event.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

from pulsewatch.domain.events import CheckUpdated
from tui.trends import SPARK_POINTS

if TYPE_CHECKING:
    from pulsewatch.domain.events import EngineEvent

DEFAULT_CAPACITY = 10_000
"""Entries held before the oldest are dropped: coalescing keeps one per check per segment."""

DEFAULT_DEPTH = SPARK_POINTS
"""CheckUpdated events a slot keeps: as many as a grid sparkline shows."""


class _Slot:
    """A place in the queue holding the newest CheckUpdated events of one check."""

    __slots__ = ("events",)

    def __init__(self, event: CheckUpdated, depth: int) -> None:
        self.events: deque[CheckUpdated] = deque((event,), maxlen=depth)

    @property
    def check_id(self) -> int:
        return self.events[-1].state.check_id


class EventInbox:
    """Collects engine events from any thread; the UI thread drains them in order.

    Args:
        capacity: the most entries kept; older ones are dropped (and counted) beyond it.
        depth: the most CheckUpdated events kept per check between two drains.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, depth: int = DEFAULT_DEPTH) -> None:
        self._depth = depth
        self._lock = threading.Lock()
        self._entries: deque[EngineEvent | _Slot] = deque()
        self._slots: dict[int, _Slot] = {}
        self._capacity = capacity
        self._awake = False
        self.dropped = 0
        """How many entries were dropped because the box was full (read by the app for a warning)."""

    def put(self, event: EngineEvent) -> bool:
        """Add one event; safe to call from any thread, never blocks on the UI.

        Returns:
            True when the box was idle and the caller should wake the UI to drain it.
        """
        with self._lock:
            if isinstance(event, CheckUpdated):
                slot = self._slots.get(event.state.check_id)
                if slot is not None:
                    slot.events.append(event)
                else:
                    slot = _Slot(event, self._depth)
                    self._slots[event.state.check_id] = slot
                    self._append(slot)
            else:
                # Sealing: updates after this event must be applied after it, in their own slots.
                self._slots.clear()
                self._append(event)
            wake = not self._awake
            self._awake = True
            return wake

    def drain(self) -> list[EngineEvent]:
        """Take every pending event, in order, coalesced; the next `put()` will ask for a wake again."""
        with self._lock:
            entries = list(self._entries)
            self._entries.clear()
            self._slots.clear()
            self._awake = False
        drained: list[EngineEvent] = []
        for entry in entries:
            if isinstance(entry, _Slot):
                drained.extend(entry.events)
            else:
                drained.append(entry)
        return drained

    def _append(self, entry: EngineEvent | _Slot) -> None:
        if len(self._entries) >= self._capacity:
            oldest = self._entries.popleft()
            if isinstance(oldest, _Slot) and self._slots.get(oldest.check_id) is oldest:
                del self._slots[oldest.check_id]
            self.dropped += 1
        self._entries.append(entry)
