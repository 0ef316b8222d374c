"""Serving the listener's app with hypercorn's trio worker on `engine.listen`, until cancelled."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("pulsewatch.http")


class ListenerError(PulseWatchError):
    """The listener cannot bind its address (in use, not local, no permission)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Listener error")


class _ReportAddress:
    """Passes hypercorn's "started" on as the bound HOST:PORT (port 0 resolved to the real port)."""

    def __init__(self, outer: trio.TaskStatus[str]) -> None:
        self.outer = outer
        self.started_with: str | None = None

    def started(self, binds: Any = None) -> None:
        self.started_with = bound_address(binds[0])
        self.outer.started(self.started_with)


def bound_address(bind: str) -> str:
    """`http://127.0.0.1:40697` → `127.0.0.1:40697`; IPv6 stays bracketed: `[::1]:8787`."""
    return bind.split("://", 1)[-1]


def listener_config(listen: str) -> Config:
    """Hypercorn settings for one listener: its address, our logger, no access log, no Server header."""
    config = Config()
    config.bind = [listen]
    config.accesslog = None  # a ping is already a stored result; an access line per ping adds nothing
    config.errorlog = log
    config.include_server_header = False
    config.graceful_timeout = 2.0
    return config


async def run_listener(
    app: FastAPI, listen: str, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve `app` on `listen` (HOST:PORT; port 0 picks a free one) until cancelled.

    Reports the bound address (HOST:PORT) through `task_status` once the socket listens.

    Raises:
        ListenerError: when the address cannot be bound.
    """
    status = _ReportAddress(task_status)
    try:
        await serve(app, listener_config(listen), task_status=status)  # type: ignore[arg-type]
    except* OSError as group:
        if status.started_with is not None:
            raise
        first: BaseException = group
        while isinstance(first, BaseExceptionGroup):  # hypercorn's nurseries nest the group
            first = first.exceptions[0]
        reason = first.strerror if isinstance(first, OSError) and first.strerror else str(first)
        raise ListenerError(f"cannot listen on {listen}: {reason}") from None
