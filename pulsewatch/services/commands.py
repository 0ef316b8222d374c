"""Use cases of the commands table: requesting a command, acting as its requester, and carrying out
the organization-level ones (ack, resolve, silence) through the role-checked alerting service.

The engine-side loop (engine/commands.py) and the attached console (engine/attach.py and the desk
below) share these, so who may do what is decided here, once, as for every other way in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain.accounts import Actor, Permission, PermissionDenied
from pulsewatch.domain.commands import (
    CLAIM_TIMEOUT,
    CONSOLE_REQUESTER,
    RUN_TIMEOUT,
    Command,
    CommandAction,
    CommandOutcome,
    new_command,
    nobody_took_it,
    unclaimed_for_too_long,
)
from pulsewatch.errors import NotFoundError, PulseWatchError, StorageError
from pulsewatch.services.signin import refresh_actor
from pulsewatch.services.tenancy import pause_audit_entry

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from datetime import datetime

    from pulsewatch.domain.alerting import Incident, Silence, TimelineEntry
    from pulsewatch.domain.api_keys import ApiKey
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.alerting_access import AlertingAccess
    from pulsewatch.services.ports import AccountsStore


class CommandPort(Protocol):
    """The commands table (engine.storage.command_store.SqlCommandStore). Every method blocks."""

    def add_command(self, command: Command) -> Command:
        """Insert `command`; returns it with its id."""
        ...

    def commands(self, ids: Collection[int]) -> list[Command]:
        """These commands as stored now (missing ids are left out)."""
        ...

    def open_commands(self, limit: int = 200) -> list[Command]:
        """Commands not finished yet (waiting or claimed), oldest first."""
        ...

    def claim_command(self, command_id: int, engine: str, now: datetime) -> bool:
        """Take a waiting command for `engine`; False when another engine (or a give-up) came first."""
        ...

    def finish_command(
        self, command_id: int, engine: str, outcome: CommandOutcome, message: str, now: datetime
    ) -> bool:
        """Write the outcome of a command `engine` claimed; False when it is no longer its to finish."""
        ...

    def expire_command(self, command_id: int, message: str, now: datetime) -> bool:
        """Fail a command nobody claimed; False when someone claimed or ended it meanwhile."""
        ...

    def abandon_command(self, command_id: int, engine: str, message: str, now: datetime) -> bool:
        """Fail a command `engine` claimed and never finished (it died mid-way)."""
        ...

    def prune_commands(self, done_before: datetime, limit: int) -> int:
        """Delete up to `limit` commands that ended before `done_before`; returns how many."""
        ...

    def live_engines(self, now: datetime) -> int:
        """Engines whose heartbeat is recent and that have not stopped."""
        ...


class CommandRefused(PulseWatchError):
    """An engine refused a command (the requester may not, or it makes no sense now)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Refused")


class CommandFailed(PulseWatchError):
    """A command was not carried out: nobody took it in time, or the engine could not."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Not done")


CHECK_PERMISSIONS = {
    CommandAction.RUN_NOW: Permission.RUN_CHECKS,
    CommandAction.PAUSE: Permission.PAUSE_CHECKS,
    CommandAction.RESUME: Permission.PAUSE_CHECKS,
}
"""The permission each check command needs on the check's organization (and team)."""


class KeyLookup(Protocol):
    """API keys by id (engine.storage.apikey_store.SqlApiKeyStore); blocking."""

    def key_by_id(self, key_id: int) -> ApiKey:
        """One key, revoked or not. Raises NotFoundError."""
        ...


API_KEY_REQUESTER = re.compile(r"apikey:(\d+)(?: \(.*\))?")
"""`requested_by` of a command sent through the REST API: the key's label, `apikey:7 (ci-deploy)`."""


def command_actor(accounts: AccountsStore, requested_by: str, keys: KeyLookup | None = None) -> Actor:
    """Who a command acts as: the requesting user or API key as they are now, or the console's
    system actor.

    "console" (a console that nobody signed in to) may act only while nobody can sign in — the
    same rule that lets that console skip its login screen. An API key (a command another engine's
    REST API forwarded to the engine running the check) acts with its role while it is not revoked.

    Raises:
        PermissionDenied: accounts exist and the command names no user, the user is disabled, or
            the API key was revoked or deleted (or `keys` is None).
    """
    key_match = API_KEY_REQUESTER.fullmatch(requested_by)
    if key_match is not None:
        return _key_actor(keys, int(key_match.group(1)), requested_by)
    if requested_by == CONSOLE_REQUESTER:
        if accounts.any_user_can_sign_in():
            raise PermissionDenied(
                "people can sign in to this database: sign in to the console to act",
                permission=None, role=None,
            )
        return Actor.for_system(CONSOLE_REQUESTER)
    return refresh_actor(accounts, Actor(requested_by))


def _key_actor(keys: KeyLookup | None, key_id: int, requested_by: str) -> Actor:
    if keys is None:
        raise PermissionDenied(f"{requested_by}: this engine cannot read API keys",
                               permission=None, role=None)
    try:
        key = keys.key_by_id(key_id)
    except NotFoundError:
        raise PermissionDenied(f"{requested_by} was deleted and may not act", permission=None,
                               role=None) from None
    if not key.active:
        raise PermissionDenied(f"{requested_by} was revoked and may not act", permission=None, role=None)
    return key.actor()


def check_command_refusal(actor: Actor, command: Command, check: Check) -> str | None:
    """Why `actor` may not run `command` on `check` (None when they may)."""
    permission = CHECK_PERMISSIONS.get(command.action)
    if permission is None:
        return f"{command.action.value} is not a check command"
    reason = actor.refusal(permission, check.org, check.team)
    return f"{reason} — check {check.org}/{check.name}" if reason else None


def record_pause(accounts: AccountsStore, actor: Actor, check: Check, paused: bool, now: datetime) -> None:
    """The audit entry of a pause or resume an engine carried out for `actor`."""
    accounts.append_audit([pause_audit_entry(actor, check, paused, now)])


@dataclass(frozen=True)
class AlertingCommands:
    """Carries out ack, resolve and silence commands as their requester, through AlertingAccess
    (roles checked, audit entry written in the same transaction as the change)."""

    access: AlertingAccess
    accounts: AccountsStore

    def execute(self, command: Command, now: datetime) -> tuple[CommandOutcome, str]:
        """Do what `command` asks; blocking. Expected refusals become outcomes, never exceptions.

        Raises:
            StorageError: the database failed (the caller marks the command failed or retries).
        """
        try:
            actor = command_actor(self.accounts, command.requested_by)
            return CommandOutcome.OK, self._do(actor, command, now)
        except StorageError:
            raise
        except PulseWatchError as error:  # permission, not found, already resolved, ambiguous scope
            return CommandOutcome.REFUSED, error.message

    def _do(self, actor: Actor, command: Command, now: datetime) -> str:
        args = command.args
        if command.action is CommandAction.ACK:
            incident = self.access.acknowledge(actor, command.incident_id, str(args.get("note", "")), now)
            return f"#{incident.id} {incident.check_name} acknowledged by {actor.name}"
        if command.action is CommandAction.RESOLVE:
            incident = self.access.resolve(actor, command.incident_id, now)
            return f"#{incident.id} {incident.check_name} resolved by {actor.name}"
        if command.action is CommandAction.SILENCE:
            made = self.access.add_silence(
                actor, check=args.get("check"), tag=args.get("tag"), duration=float(args["duration"]),
                reason=str(args["reason"]), now=now, org=command.org,
            )
            return f"silenced until {made.until:%Y-%m-%d %H:%M} UTC"
        raise PulseWatchError(f"{command.action.value} is not an organization-level command")


def give_up_if_unclaimed(
    port: CommandPort, command: Command, now: datetime, check_name: str | None = None
) -> bool:
    """Fail `command` when it waited unclaimed past CLAIM_TIMEOUT; True when this call failed it."""
    if command.id is None or not unclaimed_for_too_long(command, now):
        return False
    message = nobody_took_it(command, live_engines=port.live_engines(now), check_name=check_name)
    return port.expire_command(command.id, message, now)


@dataclass
class CommandedIncidentDesk:
    """The console's incident desk in attach mode: reads and notes go straight to AlertingAccess;
    acknowledge, resolve and silence become commands that an engine carries out as the person.

    Calls block until the command ends (the screens call them from worker threads), so a screen
    shows the engine's refusal or failure exactly as it shows a direct refusal.

    Args:
        access: the role-checked alerting service on the shared database.
        port: the commands table.
        clock: "now" for the commands' timestamps and for how long to wait.
        sleep: how to wait between two looks at the command (`time.sleep` in the console).
        poll: seconds between two looks.
        on_sent: told of every command inserted (the attach link follows them to say who did it).
    """

    access: AlertingAccess
    port: CommandPort
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    poll: float = 0.25
    on_sent: Callable[[Command], None] | None = field(default=None)

    # -- reads and notes: no engine involved -----------------------------------------------------

    def incidents(self, actor: Actor, *, open_only: bool = False, limit: int = 100) -> list[Incident]:
        return self.access.incidents(actor, open_only=open_only, limit=limit)

    def incident(self, actor: Actor, incident_id: int) -> tuple[Incident, list[TimelineEntry]]:
        return self.access.incident(actor, incident_id)

    def note(self, actor: Actor, incident_id: int, text: str, now: datetime) -> None:
        self.access.note(actor, incident_id, text, now)

    # -- changes: through an engine ---------------------------------------------------------------

    def acknowledge(self, actor: Actor, incident_id: int, note: str, now: datetime) -> Incident:
        incident, _ = self.access.incident(actor, incident_id)  # not found: said here, at once
        self._run(actor, CommandAction.ACK, incident.org, incident.check_id,
                  {"incident_id": incident_id, "note": note.strip()}, now)
        return self.access.incident(actor, incident_id)[0]

    def resolve(self, actor: Actor, incident_id: int, now: datetime) -> Incident:
        incident, _ = self.access.incident(actor, incident_id)
        self._run(actor, CommandAction.RESOLVE, incident.org, incident.check_id,
                  {"incident_id": incident_id}, now)
        return self.access.incident(actor, incident_id)[0]

    def add_silence(
        self,
        actor: Actor,
        *,
        check: str | None,
        tag: str | None,
        duration: float,
        reason: str,
        now: datetime,
        org: str | None = None,
    ) -> Silence:
        if org is None:
            raise PulseWatchError("in attach mode a silence names its organization", title="Bad silence")
        args: dict[str, object] = {"duration": duration, "reason": reason}
        args.update({"check": check} if check is not None else {"tag": tag})
        self._run(actor, CommandAction.SILENCE, org, None, args, now)
        wanted = ((check,), ()) if check is not None else ((), (tag,))
        for made in self.access.silences(actor, self.clock()):  # newest first
            if made.scope.org == org and (made.scope.checks, made.scope.tags) == wanted:
                return made
        raise CommandFailed("the engine reported the silence made, but it is not in force")

    def _run(
        self, actor: Actor, action: CommandAction, org: str, check_id: int | None,
        args: dict[str, object], now: datetime,
    ) -> Command:
        command = self.port.add_command(new_command(
            action, org=org, requested_by=actor.name, now=now, check_id=check_id, args=args
        ))
        if self.on_sent is not None:
            self.on_sent(command)
        settled = self.wait(command)
        if settled.outcome is CommandOutcome.REFUSED:
            raise CommandRefused(f"refused by engine {settled.claimed_by}: {settled.message}")
        if settled.outcome is not CommandOutcome.OK:
            raise CommandFailed(settled.message)
        return settled

    def wait(self, command: Command) -> Command:
        """Look at `command` until it ends; give up on it when nobody claims it in time.

        Raises:
            CommandFailed: it never ended (claimed by an engine that stopped answering).
        """
        assert command.id is not None  # noqa: S101 - the port returns stored commands
        give_up_at = self.clock() + timedelta(seconds=CLAIM_TIMEOUT + RUN_TIMEOUT)
        while self.clock() < give_up_at:
            found = self.port.commands([command.id])
            if not found:
                raise CommandFailed(f"command #{command.id} vanished from the database")
            current = found[0]
            if current.settled:
                return current
            give_up_if_unclaimed(self.port, current, self.clock())
            self.sleep(self.poll)
        raise CommandFailed(f"no answer from any engine to command #{command.id}")

