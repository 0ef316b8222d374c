"""The engine side of the commands table: claim what this engine should do, do it, say how it went.

Every `poll` seconds the runner reads the open commands (an indexed read of a table that holds a
few rows at a time) and, oldest first:

* **run now, pause, resume** are claimed only by the engine that runs the check — the holder of the
  check's shard (`engine.companions.runs_check`, the scheduler's own rule) — so the pause happens
  where the probes happen. They go through the engine's own command channel, exactly like the
  in-process console's: RunNow and SetPaused keep their order with every other command. A pause is
  reported done once the engine's state is PAUSED (the store has it then), a resume once it is not.
* **ack, resolve, silence** are claimed by any engine and carried out by AlertingAccess as the
  requesting user (roles checked, audit entry written with the change).

Claiming is a conditional UPDATE, so of several engines exactly one executes a command. A command
nobody claims within CLAIM_TIMEOUT is failed by whoever notices first (an engine here, or the
console that sent it) with the reason; one claimed and never finished (its engine died) is failed
after RUN_TIMEOUT. Finished commands are pruned after a day.

Commands are executed one at a time, in order: a pause followed by a resume must end resumed, and a
run-now does not wait for its probe (its result reaches the console like every other result).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import trio

from engine.companions import runs_check
from pulsewatch.domain.accounts import Actor, PermissionDenied
from pulsewatch.domain.commands import (
    KEEP_DONE,
    UNKNOWN_CHECK_GRACE,
    Command,
    CommandAction,
    CommandOutcome,
    nobody_took_it,
    stuck,
    unclaimed_for_too_long,
)
from pulsewatch.domain.events import EngineCommand, RunNow, SetPaused
from pulsewatch.domain.monitoring import Status
from pulsewatch.errors import StorageError
from pulsewatch.services.commands import check_command_refusal, command_actor, record_pause

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from engine.companions import EngineHost
    from engine.offload import RunSync
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.commands import AlertingCommands, CommandPort, KeyLookup
    from pulsewatch.services.ports import AccountsStore

log = logging.getLogger("pulsewatch.engine.commands")

POLL_SECONDS = 0.4
"""How often the open commands are read: a console sees its command taken within about this."""

APPLY_TIMEOUT = 10.0
"""Seconds a pause or resume may take to show in the engine's state before it is reported failed."""

PRUNE_EVERY = 600.0
"""Seconds between two prunings of finished commands."""

PRUNE_BATCH = 500


@dataclass
class RunnerStats:
    """What the runner did since the engine started (trio thread only)."""

    executed: int = 0
    refused: int = 0
    failed: int = 0
    expired: int = 0
    pruned: int = 0


class CommandRunner:
    """Executes the commands attached consoles leave in the database (an engine companion).

    Args:
        port: the commands table.
        accounts: who may act (requesting users and their roles) and the audit log; None: every
            requester acts with every right (tests, and databases without accounts).
        alerting: carries out ack, resolve and silence; None: this engine leaves them to others.
        wall_clock: "now" for claims, outcomes and time-outs.
        run_sync: how blocking store calls reach a worker thread.
        poll: seconds between two reads of the open commands.
        apply_timeout: seconds a pause or resume may take to show in the engine's state.
        keys: API keys, for commands another engine's REST API forwarded (they act as the key);
            None: such commands are refused.
    """

    def __init__(
        self,
        port: CommandPort,
        *,
        accounts: AccountsStore | None,
        alerting: AlertingCommands | None,
        wall_clock: Callable[[], datetime],
        run_sync: RunSync = trio.to_thread.run_sync,
        poll: float = POLL_SECONDS,
        apply_timeout: float = APPLY_TIMEOUT,
        keys: KeyLookup | None = None,
    ) -> None:
        self._port = port
        self._accounts = accounts
        self._alerting = alerting
        self._wall_clock = wall_clock
        self._run_sync = run_sync
        self._poll = poll
        self._apply_timeout = apply_timeout
        self._keys = keys
        self._failing = False
        self.stats = RunnerStats()

    async def run(
        self, host: EngineHost, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Poll and execute until cancelled; a failing database is logged once and retried."""
        task_status.started()
        next_prune = trio.current_time() + self._poll
        while True:
            try:
                await self.run_once(host)
                if trio.current_time() >= next_prune:
                    await self._prune(host)
                    next_prune = trio.current_time() + PRUNE_EVERY
            except StorageError as exc:
                if not self._failing:
                    log.warning("cannot read or answer console commands: %s", exc,
                                extra={"engine": host.name})
                self._failing = True
            else:
                if self._failing:
                    log.info("console commands are answered again", extra={"engine": host.name})
                self._failing = False
            await trio.sleep(self._poll)

    async def run_once(self, host: EngineHost) -> None:
        """One look at the open commands: claim and execute this engine's, give up on overdue ones.

        Raises:
            StorageError: the database failed.
        """
        commands = await self._run_sync(self._port.open_commands, limiter=host.db_read_limiter)
        if not commands:
            return
        checks = {c.id: c for c in host.checks if c.id is not None}
        for command in commands:
            now = self._wall_clock()
            if command.waiting:
                await self._consider(host, checks, command, now)
            elif stuck(command, now) and command.id is not None and command.claimed_by:
                message = f"engine {command.claimed_by} claimed it and stopped answering before it finished"
                if await self._write(host, self._port.abandon_command, command.id, command.claimed_by,
                                     message, now):
                    self.stats.expired += 1

    async def _consider(
        self, host: EngineHost, checks: dict[int, Check], command: Command, now: datetime
    ) -> None:
        assert command.id is not None  # noqa: S101 - read from the table
        check = checks.get(command.check_id or 0) if command.action.targets_check else None
        if command.action.targets_check:
            if check is None:
                if now - command.requested_at > timedelta(seconds=UNKNOWN_CHECK_GRACE):
                    await self._claim_and_finish(host, command, CommandOutcome.REFUSED,
                                                 f"no check with id {command.check_id} (was it removed?)")
                return
            if not runs_check(host, command.check_id or 0):
                if unclaimed_for_too_long(command, now):
                    why = nobody_took_it(command, live_engines=1, check_name=check.name)
                    if await self._write(host, self._port.expire_command, command.id, why, now):
                        self.stats.expired += 1
                return
        elif self._alerting is None:  # another engine (one with the alerting service) takes it
            if unclaimed_for_too_long(command, now):
                why = nobody_took_it(command, live_engines=1)
                if await self._write(host, self._port.expire_command, command.id, why, now):
                    self.stats.expired += 1
            return
        if not await self._write(host, self._port.claim_command, command.id, host.name, now):
            return  # another engine was first
        try:
            outcome, message = await self._execute(host, command, check)
        except StorageError as exc:
            outcome, message = CommandOutcome.FAILED, f"the database failed: {exc}"
        await self._finish(host, command, outcome, message)

    async def _claim_and_finish(
        self, host: EngineHost, command: Command, outcome: CommandOutcome, message: str
    ) -> None:
        assert command.id is not None  # noqa: S101 - read from the table
        if await self._write(host, self._port.claim_command, command.id, host.name, self._wall_clock()):
            await self._finish(host, command, outcome, message)

    async def _finish(
        self, host: EngineHost, command: Command, outcome: CommandOutcome, message: str
    ) -> None:
        assert command.id is not None  # noqa: S101 - read from the table
        await self._write(host, self._port.finish_command, command.id, host.name, outcome, message,
                          self._wall_clock())
        if outcome is CommandOutcome.OK:
            self.stats.executed += 1
        elif outcome is CommandOutcome.REFUSED:
            self.stats.refused += 1
        else:
            self.stats.failed += 1
        log.info(
            "command #%d %s for %s: %s%s", command.id, command.action.value, command.requested_by,
            outcome.value, f" ({message})" if message else "",
            extra={"engine": host.name, "command": command.id, "outcome": outcome.value},
        )

    async def _execute(
        self, host: EngineHost, command: Command, check: Check | None
    ) -> tuple[CommandOutcome, str]:
        if check is None:
            assert self._alerting is not None  # noqa: S101 - _consider claims only what it can do
            return await self._run_sync(self._alerting.execute, command, self._wall_clock(),
                                        limiter=host.db_write_limiter)
        try:
            actor = await self._actor(host, command.requested_by)
        except PermissionDenied as denied:
            return CommandOutcome.REFUSED, denied.message
        refusal = check_command_refusal(actor, command, check)
        if refusal is not None:
            return CommandOutcome.REFUSED, refusal
        check_id = check.id or 0
        if command.action is CommandAction.RUN_NOW:
            # The requester rides along: should the shard move before the loop runs it, the loop
            # forwards it to the new holder as the same person (engine.command_forward).
            await self._submit(host, RunNow(check_id, requested_by=command.requested_by))
            state = host.states.get(check_id)
            paused = state is not None and state.status is Status.PAUSED
            still = " (the check stays paused)" if paused else ""
            return CommandOutcome.OK, f"probe of {check.name} started{still}"
        pause = command.action is CommandAction.PAUSE
        await self._submit(host, SetPaused(check_id, pause, requested_by=command.requested_by))
        if not await self._applied(host, check_id, pause):
            verb = "pause" if pause else "resume"
            return CommandOutcome.FAILED, (f"{check.name} did not {verb} within {self._apply_timeout:g} s: "
                                           "the engine could not store it (see its log)")
        if self._accounts is not None:
            await self._run_sync(record_pause, self._accounts, actor, check, pause, self._wall_clock(),
                                 limiter=host.db_write_limiter)
        return CommandOutcome.OK, f"{check.name} {'paused' if pause else 'resumed'}"

    async def _actor(self, host: EngineHost, requested_by: str) -> Actor:
        if self._accounts is None:
            return Actor.for_system(requested_by)
        return await self._run_sync(command_actor, self._accounts, requested_by, self._keys,
                                    limiter=host.db_read_limiter)

    async def _submit(self, host: EngineHost, command: EngineCommand) -> None:
        """Queue `command` on the engine's channel, waiting while it is full (a burst of commands)."""
        while True:
            try:
                host.submit_nowait(command)
                return
            except trio.WouldBlock:
                await trio.sleep(0.05)

    async def _applied(self, host: EngineHost, check_id: int, paused: bool) -> bool:
        with trio.move_on_after(self._apply_timeout):
            while True:
                state = host.states.get(check_id)
                if state is not None and (state.status is Status.PAUSED) == paused:
                    return True
                await trio.sleep(0.02)
        return False

    async def _prune(self, host: EngineHost) -> None:
        before = self._wall_clock() - KEEP_DONE
        while True:
            deleted = await self._run_sync(self._port.prune_commands, before, PRUNE_BATCH,
                                           limiter=host.db_write_limiter)
            self.stats.pruned += deleted
            if deleted < PRUNE_BATCH:
                return

    async def _write(self, host: EngineHost, fn: Callable[..., bool], *args: object) -> bool:
        return bool(await self._run_sync(fn, *args, limiter=host.db_write_limiter))
