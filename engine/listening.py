"""Starting an engine's HTTP listener: what the handlers may see of the engine, and nothing more.

The listener (engine.http) is optional and heavy — FastAPI, hypercorn and the Prometheus client load
only in engines that listen — so everything it needs is imported here, on first use, and the engine
(engine.runtime) only says where to listen. The handlers get a `ListenerContext` built from explicit
parts of the engine, never the engine itself: only /metrics reads the whole engine (engine.metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from engine.heartbeats import HeartbeatMonitor
    from engine.http.api.backend import ApiBackend
    from engine.offload import RunSync
    from engine.runtime import Engine
    from pulsewatch.domain.events import EngineCommand
    from pulsewatch.services.ports import MonitoringStore


async def serve_listener(
    engine: Engine,
    listen: str,
    *,
    check_count: Callable[[], int],
    pings: HeartbeatMonitor,
    store: MonitoringStore,
    run_sync: RunSync,
    submit: Callable[[EngineCommand], Awaitable[None]],
    api: ApiBackend | None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve pings, /healthz, /metrics, the REST API and status pages on `listen` until cancelled.

    Args:
        engine: the engine, for its name, database limiters and /metrics.
        listen: HOST:PORT (port 0 picks a free port).
        check_count: how many checks the engine runs right now.
        pings: the engine's heartbeat monitor (pings are applied in memory, on the trio thread).
        store: the engine's store, read and written through `run_sync` under the engine's limiters.
        run_sync: how blocking store calls reach a worker thread (engine.offload).
        submit: queues a command on the engine's channel (waits while it is full).
        api: what the REST API and the status pages need beyond the store; None: they answer 503.
        task_status: reports the address bound, once the listener accepts connections.
    """
    # Imported here: FastAPI and hypercorn load only in engines that listen.
    from engine.http import ListenerContext, build_app, run_listener
    from engine.metrics import engine_metrics

    started = trio.current_time()
    context = ListenerContext(
        engine=engine.name,
        check_count=check_count,
        uptime=lambda: trio.current_time() - started,
        pings=pings,
        store=store,
        run_sync=run_sync,
        read_limiter=engine.db_read_limiter,
        write_limiter=engine.db_write_limiter,
        submit=submit,
        api=api,
        metrics=engine_metrics(engine),
    )
    await run_listener(build_app(context), listen, task_status=task_status)
