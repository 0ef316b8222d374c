"""Pause, resume and run now through an engine that does not run the check: a command for the one that does.

With several engines each check is probed by the holder of its shard (engine.cluster). A pause that
this engine wrote itself would be overwritten by the owner's next result, and a run-now queued here
would probe nothing, so when the check is not this engine's the request becomes a row of the
`commands` table (the same one attached consoles use): the owner claims it, applies it through its
own command channel, writes the audit entry as the key, and marks it done.

The handler waits up to ACK_WAIT seconds for that acknowledgement. Done in time: the answer is the
same as on the owner (the stored state the owner has written). Not yet: 202 with the command's id —
the stored state is left alone, so nothing claims PAUSED before the owner has applied it. Refused
or failed by the owner: 403 or 503 with its reason. When this engine runs the check (or runs without
a cluster) nothing of this applies: the handler keeps its direct path, with no added latency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import trio
from pydantic import BaseModel

from engine.http.api.errors import ApiError, ErrorOut
from pulsewatch.domain.commands import CommandAction, CommandOutcome, new_command

if TYPE_CHECKING:
    from engine.http.api.auth import Caller
    from pulsewatch.domain.commands import Command
    from pulsewatch.domain.monitoring import Check

ACK_WAIT = 2.0
"""Seconds a request waits for the owning engine to apply a forwarded command before answering 202."""

POLL = 0.1
"""Seconds between two looks at a forwarded command while waiting."""


class CommandOut(BaseModel):
    """A command handed to the engine that runs the check, not applied yet."""

    command_id: int
    check_id: int
    action: Literal["pause", "resume", "run_now"]
    status: Literal["pending"]
    detail: str


FORWARDED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": CommandOut,
        "description": "Another engine runs this check: the request was forwarded to it as command "
        "`command_id` and not applied within 2 s. The stored state is unchanged until it is.",
    },
    409: {"model": ErrorOut, "description": "The engine that runs the check refused the command."},
}
"""Added to pause and resume (run now answers 202 in every case)."""


def runs_here(caller: Caller, check_id: int) -> bool:
    """Whether this engine runs `check_id` now (it holds the check's shard, or has no cluster)."""
    cluster = caller.backend.cluster
    return cluster is None or cluster.owns(check_id)


async def forward(caller: Caller, action: CommandAction, check: Check, *, wait: float = ACK_WAIT) -> Command:
    """Leave `action` on `check` for the engine that runs it, acting as the caller's key, and wait up to
    `wait` seconds for it to end.

    Returns:
        The command: settled with outcome OK, or still open (the owner has not applied it yet).

    Raises:
        ApiError: 409 when the owner refused it, 503 when it failed.
    """
    assert check.id is not None  # noqa: S101 - read from the store
    port = caller.backend.commands
    command = new_command(action, org=check.org, requested_by=caller.actor.name,
                          now=caller.backend.wall_clock(), check_id=check.id)
    stored = await caller.context.write(port.add_command, command)
    command_id = stored.id or 0
    with trio.move_on_after(wait):
        while True:
            await trio.sleep(POLL)
            found = await caller.context.read(port.commands, [command_id])
            if found and found[0].settled:
                stored = found[0]
                break
    if stored.outcome is CommandOutcome.REFUSED:
        raise ApiError(409, f"engine {stored.claimed_by} refused it: {stored.message}")
    if stored.outcome is CommandOutcome.FAILED:
        raise ApiError(503, f"not done: {stored.message}", {"Retry-After": "5"})
    return stored


def pending(command: Command, check: Check) -> CommandOut:
    """What a 202 says of a forwarded command the owner has not applied yet."""
    action = command.action.value
    return CommandOut(
        command_id=command.id or 0,
        check_id=check.id or 0,
        action=action,  # type: ignore[arg-type]
        status="pending",
        detail=f"another engine runs check {check.name}: {action.replace('_', ' ')} was sent to it as "
        f"command #{command.id} and is not applied yet",
    )
