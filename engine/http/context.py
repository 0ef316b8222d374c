"""What request handlers may use of the engine: name, counts, the ping receiver, the store's thread path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar, TypeVarTuple, Unpack

from fastapi import Depends, Request

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import trio

    from engine.heartbeats import HeartbeatMonitor
    from engine.http.api.backend import ApiBackend
    from engine.offload import RunSync
    from pulsewatch.domain.events import EngineCommand
    from pulsewatch.services.ports import MonitoringStore

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class ListenerContext:
    """The engine as the listener's handlers see it; built by the engine when it starts the listener.

    Handlers run on the engine's trio thread: they may call `pings` directly (in-memory, non-blocking)
    but must reach the store through `read` / `write`, which run it in a worker thread under the
    engine's limiters, so a slow database never stalls probes.
    """

    engine: str
    """The engine's name."""
    check_count: Callable[[], int]
    """How many checks the engine runs right now."""
    uptime: Callable[[], float]
    """Seconds since the engine started."""
    pings: HeartbeatMonitor
    """Receives heartbeat pings."""
    store: MonitoringStore
    run_sync: RunSync
    read_limiter: trio.CapacityLimiter
    write_limiter: trio.CapacityLimiter
    submit: Callable[[EngineCommand], Awaitable[None]] | None = None
    """Queue a command for the engine (waits while the engine's command queue is full)."""
    api: ApiBackend | None = None
    """What the REST API and the status pages need beyond the store; None: they answer 503."""
    metrics: Callable[[], bytes] | None = None
    """The Prometheus text of the engine's metrics (engine.metrics); None: /metrics answers 404."""

    async def read(self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
        """Run a blocking store read in a worker thread, under the engine's read limiter."""
        return await self.run_sync(fn, *args, limiter=self.read_limiter)

    async def write(self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
        """Run a blocking store write in a worker thread, under the engine's single-writer limiter."""
        return await self.run_sync(fn, *args, limiter=self.write_limiter)


def _context(request: Request) -> ListenerContext:
    context: ListenerContext = request.app.state.context
    return context


Context = Annotated[ListenerContext, Depends(_context)]
"""A handler parameter `context: Context` receives the ListenerContext."""
