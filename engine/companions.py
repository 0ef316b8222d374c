"""Tasks that run beside an engine, in its nursery, and reach it only through `EngineHost`.

The engine starts each companion with `await nursery.start(companion.run, engine)` and cancels it
with the probes on `stop()`. Companions are how features that follow the shared database (commands
left by attached consoles, check changes made by other engines) join the engine without growing
engine/runtime.py: the composition root builds them and hands them to `Engine(companions=...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    import trio

    from engine.cluster import Cluster
    from pulsewatch.domain.events import EngineCommand
    from pulsewatch.domain.monitoring import Check, CheckState


class EngineHost(Protocol):
    """What a companion may use of its engine (engine.runtime.Engine); all on the trio thread."""

    @property
    def name(self) -> str: ...

    @property
    def checks(self) -> tuple[Check, ...]:
        """The checks the engine runs, with their ids."""
        ...

    @property
    def states(self) -> Mapping[int, CheckState]:
        """The current state of every check, by id."""
        ...

    @property
    def cluster(self) -> Cluster | None:
        """The engine's shard leases; None: it runs every check."""
        ...

    @property
    def db_write_limiter(self) -> trio.CapacityLimiter: ...

    @property
    def db_read_limiter(self) -> trio.CapacityLimiter: ...

    def submit_nowait(self, command: EngineCommand) -> None:
        """Queue a command on the engine's own channel (raises trio.WouldBlock when it is full)."""
        ...


class Companion(Protocol):
    """A task started with the engine and cancelled with its probes."""

    async def run(self, host: EngineHost, *, task_status: trio.TaskStatus[None] = ...) -> None:
        """Report started through `task_status` at once, then work until cancelled."""
        ...


def runs_check(host: EngineHost, check_id: int) -> bool:
    """Whether `host` is the engine that runs `check_id` now: it holds the check's shard (or, alone
    without a cluster, runs everything). The same rule the scheduler follows."""
    cluster = host.cluster
    return cluster is None or cluster.owns(check_id)
