"""Folding engine events into the console's Board (pure: no Textual, no threads)."""

from __future__ import annotations

from dataclasses import replace

from pulsewatch.domain.events import (
    CheckChanged,
    CheckFlipped,
    CheckRemoved,
    EngineStarted,
    EngineStopped,
    HistoryLoaded,
)
from pulsewatch.domain.monitoring import Flip, Status
from tests.tui.fakes import CHECKOUT_HISTORY, CHECKS, NOW, STARTED, STATES, make_check, updated
from tui.model import MAX_HISTORY, Board, apply_events


def started_board() -> Board:
    return apply_events(Board(), [STARTED]).board


class TestEngineStarted:
    def test_it_lists_every_check_in_engine_order(self) -> None:
        change = apply_events(Board(), [STARTED])
        assert [v.check.name for v in change.board.views.values()] == [c.name for c in CHECKS]
        assert change.reset
        assert change.changed == {c.id for c in CHECKS}
        assert change.board.running
        assert change.board.engine == "test-engine"

    def test_a_check_without_a_state_is_unknown(self) -> None:
        change = apply_events(Board(), [EngineStarted("e", (make_check(1, "a"),), ())])
        assert change.board.views[1].state.status is Status.UNKNOWN

    def test_a_restart_forgets_removed_checks_and_their_history(self) -> None:
        board = apply_events(started_board(), [CHECKOUT_HISTORY]).board
        change = apply_events(board, [EngineStarted("e", CHECKS[:1], STATES[:1])])
        assert list(change.board.views) == [1]
        assert change.board.histories == {}


class TestUpdates:
    def test_an_update_replaces_the_state_of_its_check_only(self) -> None:
        event = updated(STATES[1], NOW, 40.0, status=Status.UP)
        change = apply_events(started_board(), [event])
        assert change.changed == {2}
        assert change.board.views[2].state == event.state
        assert change.board.views[1].state == STATES[0]
        assert not change.reset

    def test_an_update_for_an_unknown_check_is_ignored(self) -> None:
        change = apply_events(started_board(), [updated(replace(STATES[0], check_id=99), NOW, 1.0)])
        assert change.changed == frozenset()
        assert 99 not in change.board.views

    def test_the_board_before_is_left_untouched(self) -> None:
        before = started_board()
        apply_events(before, [updated(STATES[1], NOW, 40.0, status=Status.UP)])
        assert before.views[2].state == STATES[1]

    def test_check_changed_adds_or_replaces_a_check(self) -> None:
        paused = replace(CHECKS[0], paused=True)
        event = CheckChanged(paused, replace(STATES[0], status=Status.PAUSED))
        change = apply_events(started_board(), [event])
        assert change.board.views[1].paused
        assert change.changed == {1}


class TestHistory:
    def test_history_is_kept_only_once_asked_for(self) -> None:
        change = apply_events(started_board(), [updated(STATES[1], NOW, 40.0)])
        assert change.board.histories == {}
        assert change.histories == frozenset()

    def test_history_stays_live(self) -> None:
        board = apply_events(started_board(), [CHECKOUT_HISTORY]).board
        flip = Flip(2, NOW, Status.DOWN, Status.UP, reason="recovered")
        news = [updated(STATES[1], NOW, float(ms)) for ms in range(3)]
        change = apply_events(board, [*news, CheckFlipped(flip)])
        history = change.board.histories[2]
        assert change.histories == {2}
        assert len(history.results) == len(CHECKOUT_HISTORY.results) + 3
        assert history.results[0].duration_ms == 2.0
        assert history.results[3:] == CHECKOUT_HISTORY.results
        assert history.flips[0] == flip
        assert history.flips[1:] == CHECKOUT_HISTORY.flips

    def test_history_is_bounded(self) -> None:
        big = HistoryLoaded(2, CHECKOUT_HISTORY.results * (MAX_HISTORY // 12 + 1), ())
        board = apply_events(started_board(), [big]).board
        assert len(board.histories[2].results) == MAX_HISTORY
        change = apply_events(board, [updated(STATES[1], NOW, 1.0)])
        assert len(change.board.histories[2].results) == MAX_HISTORY
        assert change.board.histories[2].results[0].duration_ms == 1.0

    def test_a_new_history_replaces_the_old_one(self) -> None:
        board = apply_events(started_board(), [CHECKOUT_HISTORY]).board
        change = apply_events(board, [HistoryLoaded(2, (), ())])
        assert change.board.histories[2].results == ()


class TestTrends:
    def test_every_update_feeds_the_check_trend(self) -> None:
        events = [updated(STATES[0], NOW, float(ms)) for ms in (10, 20, 30)]
        trend = apply_events(started_board(), events).board.trends[1]
        assert trend.latencies == (10.0, 20.0, 30.0)
        assert trend.uptime(NOW, 24) == (3, 3)

    def test_loaded_history_is_counted_once_and_marks_the_check_changed(self) -> None:
        board = apply_events(started_board(), [CHECKOUT_HISTORY]).board
        assert board.trends[2].uptime(NOW, 24) == (6, 12)
        change = apply_events(board, [CHECKOUT_HISTORY])
        assert change.board.trends[2].uptime(NOW, 24) == (6, 12)
        assert 2 in change.changed

    def test_a_restart_keeps_trends_of_checks_still_listed(self) -> None:
        events = [updated(STATES[0], NOW, 5.0), updated(STATES[1], NOW, 5.0)]
        board = apply_events(started_board(), events).board
        change = apply_events(board, [EngineStarted("e", CHECKS[:1], STATES[:1])])
        assert list(change.board.trends) == [1]


class TestStopped:
    def test_a_stop_is_reported_with_its_error(self) -> None:
        stop = EngineStopped("e", NOW, error="boom")
        change = apply_events(started_board(), [stop])
        assert change.stopped == stop
        assert not change.board.running
        assert change.board.error == "boom"


class TestHistoryLimits:
    """HistoryLoaded names the LoadHistory limit it answers; answers may arrive out of order."""

    def test_a_shorter_answer_arriving_after_a_longer_one_is_ignored(self) -> None:
        longer = replace(CHECKOUT_HISTORY, limit=1584)
        shorter = replace(CHECKOUT_HISTORY, results=CHECKOUT_HISTORY.results[:3], limit=110)
        board = apply_events(started_board(), [longer]).board
        change = apply_events(board, [shorter])
        assert change.board.histories[2].results == CHECKOUT_HISTORY.results
        assert change.board.histories[2].limit == 1584
        assert change.histories == frozenset()

    def test_a_longer_or_equal_answer_replaces_the_kept_history(self) -> None:
        board = apply_events(started_board(), [replace(CHECKOUT_HISTORY, limit=110)]).board
        again = replace(CHECKOUT_HISTORY, results=CHECKOUT_HISTORY.results[:2], limit=110)
        assert apply_events(board, [again]).board.histories[2].results == CHECKOUT_HISTORY.results[:2]
        longer = replace(CHECKOUT_HISTORY, results=CHECKOUT_HISTORY.results[:5], limit=1584)
        assert apply_events(board, [longer]).board.histories[2].limit == 1584

    def test_fewer_results_than_asked_means_nothing_older_is_stored_even_as_live_ones_arrive(self) -> None:
        board = apply_events(started_board(), [replace(CHECKOUT_HISTORY, limit=14)]).board  # 12 of 14
        assert board.histories[2].complete
        live = [updated(STATES[1], NOW, float(ms)) for ms in range(5)]
        history = apply_events(board, live).board.histories[2]
        assert len(history.results) == 17  # more than asked for, yet nothing older exists
        assert history.complete

    def test_as_many_results_as_asked_means_older_ones_may_exist(self) -> None:
        board = apply_events(started_board(), [replace(CHECKOUT_HISTORY, limit=12)]).board
        assert not board.histories[2].complete


class TestCheckRemoved:
    def test_a_removed_check_leaves_the_board_with_its_history_and_trend(self) -> None:
        board = apply_events(started_board(), [CHECKOUT_HISTORY, updated(STATES[1], NOW, 5.0)]).board
        change = apply_events(board, [CheckRemoved(2)])
        assert 2 not in change.board.views
        assert 2 not in change.board.histories
        assert 2 not in change.board.trends
        assert change.removed == {2}
        assert change.changed == frozenset()

    def test_updates_after_the_removal_are_ignored(self) -> None:
        change = apply_events(started_board(), [CheckRemoved(2), updated(STATES[1], NOW, 5.0)])
        assert 2 not in change.board.views
        assert change.removed == {2}

    def test_a_check_removed_then_added_again_in_one_batch_stays(self) -> None:
        change = apply_events(started_board(), [CheckRemoved(2), CheckChanged(CHECKS[1], STATES[1])])
        assert 2 in change.board.views
        assert change.removed == frozenset()
        assert 2 in change.changed

    def test_removing_an_unknown_check_changes_nothing(self) -> None:
        change = apply_events(started_board(), [CheckRemoved(99)])
        assert change.removed == frozenset()
        assert len(change.board.views) == len(CHECKS)
