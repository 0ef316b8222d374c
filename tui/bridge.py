"""The one module that knows both event loops: the console's asyncio and the engine's trio.

Embedded mode runs the engine as `trio.run(engine.run)` in its own thread (STYLE §2.5: guest mode
on Textual's loop was measured to inflate probe latency whenever the UI is busy). Events reach the
console through the `post` callable the app hands to `start()` — the app's thread-safe inbox —
and commands go back through the TrioToken. `EngineLink` is the seam the console depends on; the
tests' FakeEngine is its second implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import trio

from pulsewatch.domain.events import EngineStopped

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.attach import AttachedDatabase
    from engine.runtime import Engine
    from pulsewatch.domain.events import EngineCommand, EngineEvent


class EngineLink(Protocol):
    """How the console talks to an engine, wherever it runs."""

    def start(self, post: Callable[[EngineEvent], None]) -> None:
        """Start delivering engine events to `post`, which is safe to call from any thread."""
        ...

    def send(self, command: EngineCommand) -> bool:
        """Hand a command to the engine without waiting for it to run.

        Returns:
            False when the engine cannot take it now (its command queue is full, or it stopped).
        """
        ...

    async def stop(self) -> None:
        """Stop the engine and wait until it has flushed and finished. Safe to call more than once."""
        ...


class EmbeddedEngine:
    """An engine running under `trio.run` in a thread of this process.

    Args:
        make_engine: builds the engine around the `emit` callable it must report events to; it is
            called in the engine thread, inside the trio run.
        name: the name used in the EngineStopped event when the engine crashes.
    """

    def __init__(
        self, make_engine: Callable[[Callable[[EngineEvent], None]], Engine], *, name: str = "embedded"
    ) -> None:
        self._make_engine = make_engine
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop_requested = False

    @property
    def alive(self) -> bool:
        """True while the engine thread runs (started, and not yet finished)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, post: Callable[[EngineEvent], None]) -> None:
        """Start the engine thread. Returns at once; the engine announces itself with EngineStarted."""
        if self._thread is not None:
            raise RuntimeError("this engine link was already started")
        # Not a daemon: the process must not exit while the engine is flushing results (stop() joins).
        self._thread = threading.Thread(target=self._main, args=(post,), name="pulsewatch-engine")
        self._thread.start()

    def _main(self, post: Callable[[EngineEvent], None]) -> None:
        try:
            trio.run(self._run, post)
        except Exception as error:  # any crash must reach the UI as data (STYLE §2.5), not vanish
            post(EngineStopped(engine=self._name, at=datetime.now(UTC), error=describe_crash(error)))

    async def _run(self, post: Callable[[EngineEvent], None]) -> None:
        engine = self._make_engine(post)
        with self._lock:
            self._engine = engine
            self._token = trio.lowlevel.current_trio_token()
            stop_now = self._stop_requested
        if stop_now:
            # stop() came before the engine existed; Engine.stop() works before run() starts.
            engine.stop()
        await engine.run()

    def send(self, command: EngineCommand) -> bool:
        """Queue a command on the engine's channel; False when it is full, not started or finished."""
        with self._lock:
            engine, token = self._engine, self._token
        if engine is None or token is None:
            return False
        try:
            # Runs submit_nowait on the trio thread and returns as soon as it has: never waits for
            # the command itself, so a busy engine costs the UI microseconds, not a probe round.
            trio.from_thread.run_sync(engine.submit_nowait, command, trio_token=token)
        except (trio.WouldBlock, trio.RunFinishedError):
            return False
        return True

    async def stop(self) -> None:
        """Ask the engine to stop, then wait for its thread while the asyncio loop stays responsive."""
        with self._lock:
            first = not self._stop_requested
            self._stop_requested = True
            engine, token = self._engine, self._token
        # Only once: a second Engine.stop() is a forced stop that may give up unwritten records.
        if first and engine is not None and token is not None:
            # RunFinishedError: it already ended (crashed or stopped by itself); only the join remains.
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(engine.stop)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)


class AttachedEngine:
    """Attach mode: no engine in this process; the link follows the database headless engines write.

    A thin EngineLink over engine.attach.AttachedDatabase, whose own thread reads the database and
    leaves commands in the `commands` table; stopping waits for that thread off the asyncio loop.
    """

    def __init__(self, attached: AttachedDatabase) -> None:
        self._attached = attached

    def start(self, post: Callable[[EngineEvent], None]) -> None:
        """Start following the database; EngineStarted arrives with every stored check."""
        self._attached.start(post)

    def send(self, command: EngineCommand) -> bool:
        """Queue a command to be written to the commands table (or, for history, read at once)."""
        return self._attached.send(command)

    async def stop(self) -> None:
        """Stop following the database and wait for the link's thread."""
        await asyncio.to_thread(self._attached.close)


def describe_crash(error: BaseException) -> str:
    """A one-line account of why the engine stopped, digging through exception groups.

    A crashed nursery raises an ExceptionGroup whose own message ("unhandled errors in a
    TaskGroup") says nothing; the person needs the first real error inside it.
    """
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
