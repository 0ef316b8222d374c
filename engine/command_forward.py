"""Run now, pause and resume of a check another engine holds: a row of the commands table for it.

With several engines each check is probed by the holder of its shard (engine.cluster). A pause this
engine wrote itself would be overwritten by the owner's next result, and a run-now would probe here
instead of where the check runs. So when the command loop gets RunNow or SetPaused for a check this
engine does not hold, it hands them to a `CommandForwarder`, which leaves the command in the
`commands` table — the same row an attached console or another engine's REST API leaves
(engine.http.api.check_routing) — for the owner's CommandRunner (engine/commands.py) to claim,
re-authorize as the requester and apply through its own command channel.

The forwarder does not wait for the owner: the loop keeps answering other commands, and the owner's
result reaches this engine's console like any other state change of a check it does not run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pulsewatch.domain.commands import (
    CONSOLE_REQUESTER,
    Command,
    CommandAction,
    CommandForwarded,
    new_command,
)
from pulsewatch.domain.events import SetPaused
from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import trio

    from engine.offload import RunSync
    from pulsewatch.domain.events import EngineEvent, RunNow
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.commands import CommandPort

log = logging.getLogger("pulsewatch.engine")


def action_of(command: RunNow | SetPaused) -> CommandAction:
    """The commands-table action that asks the owner for what `command` asks of this engine."""
    if isinstance(command, SetPaused):
        return CommandAction.PAUSE if command.paused else CommandAction.RESUME
    return CommandAction.RUN_NOW


class CommandForwarder:
    """Leaves run now, pause and resume of checks this engine does not hold for the engine that does.

    Args:
        port: the commands table (engine.storage.command_store.SqlCommandStore).
        engine: this engine's name, for logs.
        emit: the host's event sink; told of each forwarded command (CommandForwarded).
        run_sync: how blocking store calls reach a worker thread.
        write_limiter: the engine's single database writer.
        wall_clock: the command's request time.
    """

    def __init__(
        self,
        port: CommandPort,
        *,
        engine: str,
        emit: Callable[[EngineEvent], None],
        run_sync: RunSync,
        write_limiter: trio.CapacityLimiter,
        wall_clock: Callable[[], datetime],
    ) -> None:
        self._port = port
        self._engine = engine
        self._emit = emit
        self._run_sync = run_sync
        self._write_limiter = write_limiter
        self._wall_clock = wall_clock

    async def forward(self, command: RunNow | SetPaused, check: Check) -> None:
        """Insert the command for `check`'s owner, acting as `command.requested_by` (the host itself:
        CONSOLE_REQUESTER, which the owner refuses once people can sign in), and tell the host.

        A database failure (or a requester name too long to store) is logged and reported as a
        CommandForwarded with its error; it never ends the command loop.
        """
        assert check.id is not None  # noqa: S101 - the engine's checks come from the store
        action, now = action_of(command), self._wall_clock()
        requester = command.requested_by or CONSOLE_REQUESTER
        try:
            wanted = new_command(action, org=check.org, requested_by=requester, now=now, check_id=check.id)
            stored = await self._run_sync(self._port.add_command, wanted, limiter=self._write_limiter)
        except PulseWatchError as exc:  # the database refused, or a requester name no row can hold
            log.warning("could not forward %s of %s to the engine holding it: %s", action.value, check.name,
                        exc, extra={"engine": self._engine, "check": check.name})
            self._emit(CommandForwarded(Command(action, check.org, requester, now, check_id=check.id),
                                        check.name, error=str(exc)))
            return
        log.info("%s of %s forwarded to the engine holding it as command #%s (requested by %s)",
                 stored.action.value, check.name, stored.id, stored.requested_by,
                 extra={"engine": self._engine, "check": check.name, "command": stored.id})
        self._emit(CommandForwarded(stored, check.name))
