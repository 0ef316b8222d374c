"""The engine → console inbox: coalescing, ordering, bounds and wake-ups (plain threads, no UI)."""

from __future__ import annotations

import threading

from pulsewatch.domain.events import CheckChanged, CheckUpdated, HistoryLoaded
from tests.tui.fakes import CHECKS, NOW, STATES, updated
from tui.inbox import EventInbox


def latency(event: object) -> float | None:
    assert isinstance(event, CheckUpdated)
    return event.state.last_latency_ms


class TestCoalescing:
    def test_updates_of_one_check_share_a_place_in_the_queue(self) -> None:
        inbox = EventInbox()
        inbox.put(updated(STATES[0], NOW, 10.0))
        inbox.put(updated(STATES[1], NOW, 5.0))
        for ms in (20.0, 30.0):
            inbox.put(updated(STATES[0], NOW, ms))
        drained = inbox.drain()
        assert [latency(e) for e in drained] == [10.0, 20.0, 30.0, 5.0]

    def test_a_check_keeps_only_its_newest_updates_up_to_the_depth(self) -> None:
        """The sparkline wants every result, but a runaway check must not fill the box."""
        inbox = EventInbox(depth=3)
        for ms in range(10):
            inbox.put(updated(STATES[0], NOW, float(ms)))
        assert [latency(e) for e in inbox.drain()] == [7.0, 8.0, 9.0]

    def test_it_never_moves_an_update_past_a_later_event(self) -> None:
        """update(1) · pause(1) · update(1): applying the first update last would undo the pause."""
        inbox = EventInbox()
        first, second = updated(STATES[0], NOW, 10.0), updated(STATES[0], NOW, 20.0)
        changed = CheckChanged(CHECKS[0], STATES[0])
        for event in (first, changed, second):
            inbox.put(event)
        assert inbox.drain() == [first, changed, second]

    def test_other_events_keep_their_order(self) -> None:
        inbox = EventInbox()
        events = [HistoryLoaded(i, (), ()) for i in range(5)]
        for event in events:
            inbox.put(event)
        assert inbox.drain() == events
        assert inbox.drain() == []


class TestWakeUps:
    def test_it_asks_for_one_wake_up_per_drain(self) -> None:
        inbox = EventInbox()
        wakes = [inbox.put(updated(STATES[0], NOW, float(ms))) for ms in range(50)]
        assert wakes == [True] + [False] * 49
        inbox.drain()
        assert inbox.put(updated(STATES[0], NOW, 1.0)) is True


class TestBounds:
    def test_it_drops_the_oldest_entries_when_full_and_counts_them(self) -> None:
        inbox = EventInbox(capacity=3)
        events = [HistoryLoaded(i, (), ()) for i in range(5)]
        for event in events:
            inbox.put(event)
        assert inbox.drain() == events[2:]
        assert inbox.dropped == 2

    def test_a_dropped_slot_does_not_swallow_a_newer_update(self) -> None:
        inbox = EventInbox(capacity=2)
        inbox.put(updated(STATES[0], NOW, 1.0))
        inbox.put(HistoryLoaded(9, (), ()))
        newer = updated(STATES[0], NOW, 2.0)
        inbox.put(newer)  # drops the first slot; the newer update has its own
        newest = updated(STATES[0], NOW, 3.0)
        inbox.put(newest)
        assert inbox.drain() == [HistoryLoaded(9, (), ()), newer, newest]


class TestThreads:
    def test_concurrent_producers_lose_nothing_but_superseded_updates(self) -> None:
        inbox = EventInbox()
        per_thread = 500

        def produce(check_index: int) -> None:
            for ms in range(per_thread):
                inbox.put(updated(STATES[check_index], NOW, float(ms)))
                inbox.put(HistoryLoaded(check_index, (), ()))

        threads = [threading.Thread(target=produce, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        drained = inbox.drain()
        histories = [e for e in drained if isinstance(e, HistoryLoaded)]
        assert len(histories) == 4 * per_thread
        last = {e.state.check_id: latency(e) for e in drained if isinstance(e, CheckUpdated)}
        assert last == {STATES[i].check_id: float(per_thread - 1) for i in range(4)}
