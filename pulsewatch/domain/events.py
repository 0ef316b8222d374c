"""What the engine tells its host (console or log) and what a host may ask of the engine.

Both are plain frozen dataclasses so they cross threads and processes unchanged: the engine emits
events through a sync `emit(event)` callable and reads commands from a bounded channel; it never
knows whether a console, a log writer or a test is on the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.domain.commands import CommandForwarded, CommandSettled

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult


# --- events: engine → host -------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStarted:
    """The engine has loaded its checks and started probing; `checks`/`states` are the first view."""

    engine: str
    checks: tuple[Check, ...]
    states: tuple[CheckState, ...]


@dataclass(frozen=True)
class CheckUpdated:
    """A probe finished and its result was applied to the check's state."""

    state: CheckState
    result: ProbeResult


@dataclass(frozen=True)
class CheckFlipped:
    """A check changed status; the flip is queued for storage in the same batch as its result."""

    flip: Flip


@dataclass(frozen=True)
class CheckChanged:
    """A check's definition or paused flag changed (pause/resume, config reload)."""

    check: Check
    state: CheckState


@dataclass(frozen=True)
class HistoryLoaded:
    """The answer to LoadHistory: recent results and flips of one check, newest first.

    `limit` is the request's: the engine answers LoadHistory commands concurrently, so answers can
    arrive out of order, and a host must tell a short old answer from a longer newer one. Fewer
    results than `limit` means the store has no older ones. 0: not an answer to a limited request
    (everything stored was sent).
    """

    check_id: int
    results: tuple[ProbeResult, ...]
    flips: tuple[Flip, ...]
    limit: int = 0


@dataclass(frozen=True)
class EngineStopped:
    """The engine stopped; `error` is set when it stopped because something broke."""

    engine: str
    at: datetime
    error: str | None = None


@dataclass(frozen=True)
class CheckRemoved:
    """A check left the engine (deleted through the REST API); hosts drop it from their views."""

    check_id: int


@dataclass(frozen=True)
class StorageDown:
    """The database refuses writes: the engine keeps probing and holds results (memory, then a spool
    file) until it is back. `pending` is how many records were waiting when this was noticed."""

    engine: str
    at: datetime
    error: str
    pending: int


@dataclass(frozen=True)
class StorageRestored:
    """The database accepts writes again; the held records are being written back in order."""

    engine: str
    at: datetime
    down_for_s: float
    """Seconds since the first failed write."""
    backlog: int
    """Records held (in memory and spooled) when writes resumed."""


EngineEvent = (
    EngineStarted
    | CheckUpdated
    | CheckFlipped
    | CheckChanged
    | HistoryLoaded
    | EngineStopped
    | CheckRemoved
    | StorageDown
    | StorageRestored
    | CommandSettled  # attach mode: a command the console left in the database ended
    | CommandForwarded  # a cluster: run now or pause of a check another engine holds was left for it
)


# --- commands: host → engine -----------------------------------------------------------------


@dataclass(frozen=True)
class RunNow:
    """Probe this check now, outside its schedule (its next scheduled run is unaffected)."""

    check_id: int
    requested_by: str | None = None
    """Who asked (a user's email, an API key's label): when another engine holds the check, the
    command left for it acts as them. None: the host itself (CONSOLE_REQUESTER)."""


@dataclass(frozen=True)
class SetPaused:
    """Pause (stop probing, status PAUSED) or resume a check."""

    check_id: int
    paused: bool
    requested_by: str | None = None
    """Who asked, as for RunNow."""


@dataclass(frozen=True)
class LoadHistory:
    """Ask for a check's recent results and flips; answered with HistoryLoaded."""

    check_id: int
    limit: int = 50


@dataclass(frozen=True)
class ReloadChecks:
    """Read the API-owned checks from the store again: start new ones, redefine changed ones, drop
    deleted ones (sent by the REST API after it stored a change; the YAML's checks are not touched)."""


EngineCommand = RunNow | SetPaused | LoadHistory | ReloadChecks
