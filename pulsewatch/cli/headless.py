"""Running an engine without a console: until SIGINT or SIGTERM, then a clean, complete stop."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from engine.runtime import Engine


async def _serve(engine: Engine) -> None:
    # The receiver stays open until the engine has flushed, so a second signal during the final
    # write cannot kill the process half-way: every finished probe is written before exit.
    # SIGHUP reloads the config file (config as code) and keeps the engine running.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async with trio.open_nursery() as nursery:

            async def stop_on_signal() -> None:
                async for signum in signals:
                    if signum == signal.SIGHUP:
                        engine.request_reload()
                        continue
                    engine.stop()
                    return

            nursery.start_soon(stop_on_signal)
            await engine.run()
            nursery.cancel_scope.cancel()


def run_until_signalled(engine: Engine) -> None:
    """Run `engine` on a fresh trio loop until a signal (or a crash) stops it."""
    engine.settle_heap = True  # this process is nothing but the engine (see engine.heap)
    trio.run(_serve, engine)
