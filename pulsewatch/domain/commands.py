"""Commands a console in attach mode leaves in the database for the engines: what they are, and
which are valid.

An attached console runs no engine, so it cannot hand an engine a command in memory. It inserts a row
in the `commands` table instead; the engine that owns the command's check (any engine, for
organization-level commands) claims it, executes it through the same paths the in-process console
uses, and writes the outcome back, which the console then shows. This module is the vocabulary and
the rules; the table is in engine/storage, the executing loop in engine/commands.py.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pulsewatch.errors import PulseWatchError

CONSOLE_REQUESTER = "console"
"""`requested_by` of a console with no accounts in the database (nobody signs in)."""

CLAIM_TIMEOUT = 30.0
"""Seconds a command may wait unclaimed before whoever notices marks it failed."""

RUN_TIMEOUT = 120.0
"""Seconds a claimed command may stay unfinished before it is failed (its engine died mid-way)."""

UNKNOWN_CHECK_GRACE = 10.0
"""Seconds before an engine refuses a command for a check it does not know: a check created a moment
ago through another engine's REST API reaches this one with the next periodic reload."""

KEEP_DONE = timedelta(days=1)
"""How long finished commands stay in the table (for the console, and for people reading it)."""

MAX_NOTE = 2000
MAX_REASON = 500
MAX_NAME = 200
MAX_ORG = 100
MAX_MESSAGE = 1000


class CommandAction(enum.Enum):
    """What a command asks for."""

    RUN_NOW = "run_now"
    PAUSE = "pause"
    RESUME = "resume"
    ACK = "ack"
    RESOLVE = "resolve"
    SILENCE = "silence"

    @property
    def targets_check(self) -> bool:
        """True when only the engine running the check (its shard's holder) may execute it."""
        return self in CHECK_ACTIONS


CHECK_ACTIONS = frozenset({CommandAction.RUN_NOW, CommandAction.PAUSE, CommandAction.RESUME})
"""Commands about one running check: executed by the engine that holds the check's shard."""


class CommandOutcome(enum.Enum):
    """How a command ended."""

    OK = "ok"
    REFUSED = "refused"
    """The requester may not do this, or it makes no sense (a resolved incident, an unknown check)."""
    FAILED = "failed"
    """Nobody took it in time, or the engine could not carry it out (the database refused...)."""


class CommandError(PulseWatchError):
    """A command cannot be made as asked: the message says which field is wrong and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Bad command")


@dataclass(frozen=True)
class Command:
    """One row of the commands table.

    Attributes:
        action: what to do.
        org: the organization of the check or incident it acts on (for reading and pruning by tenant).
        requested_by: the acting user's email, or "console" (no accounts): the engine acts as them.
        requested_at: when it was inserted (the requester's clock).
        check_id: the check it acts on (run now, pause, resume; for ack/resolve, the incident's check).
        args: JSON-able details: `incident_id` and `note` (ack), `incident_id` (resolve), `check`,
            `tag`, `duration`, `reason` (silence).
        claimed_by: the engine executing it (None while it waits).
        done_at: when it ended (None while it waits or runs).
        outcome: how it ended.
        message: what the engine (or whoever gave up on it) says about the outcome.
        id: assigned by storage.
    """

    action: CommandAction
    org: str
    requested_by: str
    requested_at: datetime
    check_id: int | None = None
    args: dict[str, Any] = field(default_factory=dict)
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    outcome: CommandOutcome | None = None
    message: str = ""
    id: int | None = None

    @property
    def waiting(self) -> bool:
        """Nobody has claimed it and nobody has given up on it."""
        return self.claimed_by is None and self.done_at is None

    @property
    def settled(self) -> bool:
        """It ended, one way or another (`outcome` says how)."""
        return self.done_at is not None

    @property
    def incident_id(self) -> int:
        """The incident an ack or resolve acts on (validated at creation, so always an int)."""
        return int(self.args["incident_id"])

    def with_id(self, command_id: int) -> Command:
        return replace(self, id=command_id)


def new_command(
    action: CommandAction | str,
    *,
    org: str,
    requested_by: str,
    now: datetime,
    check_id: int | None = None,
    args: dict[str, Any] | None = None,
) -> Command:
    """A valid command, ready to insert.

    Raises:
        CommandError: an unknown action, a missing or malformed field for this action (naming it).
    """
    try:
        action = CommandAction(action)
    except ValueError:
        known = ", ".join(a.value for a in CommandAction)
        raise CommandError(f"unknown command {action!r}: use one of {known}") from None
    args = dict(args or {})
    _require_text("org", org, MAX_ORG)
    _require_text("requested_by", requested_by, MAX_NAME)
    if action.targets_check:
        _require_id("check_id", check_id)
        if args:
            raise CommandError(f"{action.value} takes no arguments, got {sorted(args)}")
    elif action is CommandAction.ACK:
        _only(action, args, required={"incident_id"}, optional=frozenset({"note"}))
        _require_id("incident_id", args["incident_id"])
        note = args.setdefault("note", "")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise CommandError(f"note must be text of at most {MAX_NOTE} characters")
    elif action is CommandAction.RESOLVE:
        _only(action, args, required={"incident_id"})
        _require_id("incident_id", args["incident_id"])
    else:
        _validate_silence(args)
    if check_id is not None:
        _require_id("check_id", check_id)
    try:
        json.dumps(args)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"arguments must be JSON values: {exc}") from None
    return Command(action, org, requested_by, now, check_id=check_id, args=args)


def _validate_silence(args: dict[str, Any]) -> None:
    _only(CommandAction.SILENCE, args, required={"duration", "reason"},
          optional=frozenset({"check", "tag"}))
    check, tag = args.get("check"), args.get("tag")
    if (check is None) == (tag is None):
        raise CommandError("silence takes either `check` or `tag`, not both and not neither")
    _require_text("check" if check is not None else "tag", check if check is not None else tag, MAX_NAME)
    duration = args["duration"]
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not duration > 0:
        raise CommandError(f"duration must be a positive number of seconds, got {duration!r}")
    _require_text("reason", args["reason"], MAX_REASON)


def _only(
    action: CommandAction, args: dict[str, Any], *, required: set[str], optional: frozenset[str] = frozenset()
) -> None:
    missing = sorted(required - set(args))
    if missing:
        raise CommandError(f"{action.value} needs {', '.join(missing)}")
    unknown = sorted(set(args) - required - optional)
    if unknown:
        raise CommandError(f"{action.value} does not take {', '.join(unknown)}")


def _require_text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise CommandError(f"{name} must be non-empty text")
    if len(value) > limit:
        raise CommandError(f"{name} is longer than {limit} characters")


def _require_id(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise CommandError(f"{name} must be a positive integer, got {value!r}")


def unclaimed_for_too_long(command: Command, now: datetime, timeout: float = CLAIM_TIMEOUT) -> bool:
    """True when nobody claimed `command` within `timeout` seconds of its request."""
    return command.waiting and now - command.requested_at > timedelta(seconds=timeout)


def stuck(command: Command, now: datetime, timeout: float = RUN_TIMEOUT) -> bool:
    """True when `command` was claimed more than `timeout` seconds ago and never finished."""
    return (
        command.claimed_at is not None
        and command.done_at is None
        and now - command.claimed_at > timedelta(seconds=timeout)
    )


def nobody_took_it(command: Command, *, live_engines: int, check_name: str | None = None) -> str:
    """Why a command that waited too long failed, as the person who sent it reads it."""
    waited = f"no engine took it within {CLAIM_TIMEOUT:g} s"
    if live_engines == 0:
        return f"{waited}: no engine is running"
    if command.action.targets_check:
        target = check_name or f"check #{command.check_id}"
        return f"{waited}: no engine owns {target} (is its engine stopped, or its shard unheld?)"
    return f"{waited}: the running engines do not execute console commands (upgrade them)"


def describe(command: Command, check_name: str | None = None) -> str:
    """The command as a person names it: "pause api", "ack incident #12", "silence api for 1h"."""
    action = command.action
    if action.targets_check:
        target = check_name or f"check #{command.check_id}"
        return f"{action.value.replace('_', ' ')} {target}"
    if action in (CommandAction.ACK, CommandAction.RESOLVE):
        return f"{action.value} incident #{command.args.get('incident_id')}"
    target = command.args.get("check") or f"tag {command.args.get('tag')}"
    return f"silence {target} for {_duration(float(command.args.get('duration', 0)))}"


def settled_text(command: Command, check_name: str | None = None) -> str:
    """What the console shows when a command it sent ends: "pause api: sent → done by engine e1"."""
    what = describe(command, check_name)
    by = f" by engine {command.claimed_by}" if command.claimed_by else ""
    if command.outcome is CommandOutcome.OK:
        detail = f" ({command.message})" if command.message else ""
        return f"{what}: sent → done{by}{detail}"
    if command.outcome is CommandOutcome.REFUSED:
        return f"{what}: sent → refused{by}: {command.message}"
    return f"{what}: sent → failed{by}: {command.message}"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class CommandSettled:
    """An event for the console: a command it sent ended (outcome and message inside)."""

    command: Command
    check_name: str | None = None

    @property
    def text(self) -> str:
        return settled_text(self.command, self.check_name)


@dataclass(frozen=True)
class CommandForwarded:
    """An event for the console: a run now, pause or resume it asked of its engine is about a check
    another engine holds, so it was left in the commands table for that engine (`error`: it could not
    be, the database refused)."""

    command: Command
    check_name: str
    error: str | None = None

    @property
    def text(self) -> str:
        what = describe(self.command, self.check_name)
        if self.error is not None:
            return f"{what}: another engine holds it, and the command for it was not stored: {self.error}"
        return f"{what}: forwarded to the engine holding it as command #{self.command.id}"
