"""Shared pieces of the engine tests: a bounded-test decorator, a trio-derived wall clock, check builders,
an event log, and a scripted HTTP target for httpx.MockTransport."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, Unpack

import httpx
import trio

from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pulsewatch.domain.events import EngineEvent

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

E = TypeVar("E")
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


async def run_inline(fn: Callable[[Unpack[Ts]], T], /, *args: *Ts, limiter: trio.CapacityLimiter) -> T:
    """engine.offload.RunSync without a thread, for MockClock tests (autojump would race a real thread)."""
    async with limiter:
        await trio.lowlevel.checkpoint()
        return fn(*args)


def bounded(seconds: float) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Fail the decorated trio test past `seconds` on the trio clock (trio-websocket's rule)."""

    def decorate(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(test)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            with trio.fail_after(seconds):
                await test(*args, **kwargs)

        return wrapper

    return decorate


def trio_wall_clock() -> datetime:
    """A wall clock that follows trio's (mock) clock, so timestamps in results are exact."""
    return EPOCH + timedelta(seconds=trio.current_time())


def http_check(name: str = "api", *, conditions: tuple[str, ...] = (), **fields: Any) -> Check:
    """An HTTP check on http://<name>.test/ (answered by the test's transport)."""
    fields.setdefault("url", f"http://{name}.test/")
    return Check(
        name=name,
        kind="http",
        conditions=tuple(parse_condition(c) for c in conditions),
        **fields,
    )


@dataclass
class EventLog:
    """Collects the engine's events; `wait_for` blocks until a predicate over the log holds."""

    events: list[EngineEvent] = field(default_factory=list)
    _changed: trio.Event = field(default_factory=trio.Event)

    def __call__(self, event: EngineEvent) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = trio.Event()

    def of(self, kind: type[E]) -> list[E]:
        """The events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[EventLog], bool]) -> None:
        while not predicate(self):
            await self._changed.wait()


@dataclass
class ScriptedTarget:
    """An httpx.MockTransport handler: each host answers from its script of statuses, then repeats the last.

    `delay` (seconds on the trio clock) makes every answer slow; `calls` counts requests per host.
    """

    scripts: dict[str, list[int]] = field(default_factory=dict)
    delay: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        n = self.calls.get(host, 0)
        self.calls[host] = n + 1
        if self.delay:
            await trio.sleep(self.delay)
        script = self.scripts.get(host, [200])
        status = script[min(n, len(script) - 1)]
        return httpx.Response(status, json={"status": "ok" if status < 400 else "error"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
