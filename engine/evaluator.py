"""Applies each probe result to its check's state in-process, right after the probe: the state rule is cheap.

The evaluator owns the engine's in-memory view of every check's state. It is the single writer of
that view, on the trio thread, so a result and the events it causes always agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.domain.events import CheckFlipped, CheckUpdated
from pulsewatch.domain.monitoring import CheckState, Status, evaluate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check, Flip, ProbeResult

log = logging.getLogger("pulsewatch.engine.evaluator")


@dataclass(frozen=True)
class Record:
    """What the recorder writes for one event: a result (or None for a state-only change), the
    state after it, and the flip it caused."""

    result: ProbeResult | None
    state: CheckState
    flip: Flip | None = None
    writes_state: bool = True
    """False for a result this engine only observes (another region's engine decides the check):
    the result is stored, the state is left to the decider."""
    ping: int | None = None
    """The stored ping (engine.heartbeat_pings) this record applies: the write that stores the
    result deletes the ping in the same transaction, so a ping is applied exactly once."""


class Evaluator:
    """Keeps the current state of every check and turns results into new states, events and records.

    Args:
        states: the states loaded from storage, by check id; missing checks start UNKNOWN.
        check_ids: the ids of every check the engine runs.
        emit: the host's event sink.
        engine: the engine's name, for logs.
    """

    def __init__(
        self,
        states: Mapping[int, CheckState],
        check_ids: Iterable[int],
        *,
        emit: Callable[[EngineEvent], None],
        engine: str,
    ) -> None:
        self.states: dict[int, CheckState] = {i: states.get(i) or CheckState(check_id=i) for i in check_ids}
        self._emit = emit
        self._engine = engine

    def apply(self, check: Check, result: ProbeResult, now: datetime) -> Record:
        """Apply `result` to `check`'s state, emit CheckUpdated (and CheckFlipped), and return the record.

        A result that lands after its check was paused is kept for history but leaves the state
        PAUSED: the operator's decision wins over a probe that was already in flight.
        """
        state = self.states.get(result.check_id) or CheckState(check_id=result.check_id)
        flip: Flip | None = None
        if state.status != Status.PAUSED:
            state, flip = evaluate(state, result, check, now)
            self.states[result.check_id] = state
        self._emit(CheckUpdated(state=state, result=result))
        if flip is not None:
            log.info(
                "%s is %s (was %s): %s",
                check.name,
                flip.new.value,
                flip.old.value,
                flip.reason,
                extra={
                    "check": check.name,
                    "org": check.org,
                    "engine": self._engine,
                    "status": flip.new.value,
                    "previous": flip.old.value,
                },
            )
            self._emit(CheckFlipped(flip=flip))
        return Record(result=result, state=state, flip=flip)

    def replace_state(self, state: CheckState) -> Record:
        """Install a state decided elsewhere (pause, resume) and return it as a state-only record."""
        self.states[state.check_id] = state
        return Record(result=None, state=state)
