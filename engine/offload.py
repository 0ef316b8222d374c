"""How the engine makes blocking calls (the store): in a worker thread, under a named CapacityLimiter.

The engine takes the runner as a parameter only so tests on trio's MockClock can run the fake store
inline: with autojump the mock clock leaps to the next deadline whenever every task waits, and a
task waiting for a real thread counts as waiting. Production always uses `trio.to_thread.run_sync`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar, TypeVarTuple, Unpack

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import trio

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class RunSync(Protocol):
    """The shape of `trio.to_thread.run_sync` the engine relies on."""

    def __call__(
        self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts, limiter: trio.CapacityLimiter
    ) -> Awaitable[T]: ...
