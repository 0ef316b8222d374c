"""Checks through the REST API: create, change and delete API-owned checks; pause and resume any check.

Checks declared in the YAML file stay owned by the file: changing or deleting one here is refused
with CheckConflict (HTTP 409) that says to edit the file. Checks created here carry `origin` API_ORIGIN
and config sync leaves them alone. Every change is authorized first, then written with its audit
entry in one transaction (the store's, which nothing can overtake between the reads that decide
and the write); the caller tells a running engine afterwards (ReloadChecks, SetPaused).

Billing (the `gate`, `BillingGates` in production): inside that same transaction, before anything is
written, creating, changing or deleting a check is refused while the organization is past due, and a
create or change is refused when the organization's whole check list afterwards — the file's checks
and the API's, with the new or changed one — goes beyond its plan (too many checks, an interval below
the minimum, too many alert channels), exactly as `config apply` would. Pausing and resuming are
operating, not configuring: they change no count or interval and pass while past due.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain import audit
from pulsewatch.domain.accounts import Actor, Permission, PermissionDenied
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.monitoring import API_ORIGIN
from pulsewatch.errors import NotFoundError, PulseWatchError
from pulsewatch.services.accounts_config import check_json
from pulsewatch.services.billing_gates import day_of
from pulsewatch.services.tenancy import pause_audit_entry

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from datetime import date, datetime

    from pulsewatch.domain.monitoring import Check, CheckState
    from pulsewatch.services.ports import AccountsStore


class CheckConflict(PulseWatchError):
    """The change contradicts what exists: the check is owned by the YAML file, or the name is taken."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Conflict")


class ApiCheckPort(Protocol):
    """What the API's check use cases need of storage (engine.storage.api_store.SqlApiStore)."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def check_in(self, org: str, check_id: int) -> tuple[Check, CheckState] | None: ...
    def org_checks(self, org: str) -> list[Check]: ...
    def add_api_check(self, check: Check, now: datetime) -> tuple[Check, CheckState]: ...
    def update_api_check(self, check: Check, now: datetime) -> tuple[Check, CheckState]: ...
    def delete_check(self, check_id: int) -> None: ...
    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState: ...


class ChecksGate(Protocol):
    """Billing's say on a change of checks (`pulsewatch.services.billing_gates.BillingGates`)."""

    def require_editable(self, org: str, today: date) -> None: ...
    def admit_checks(self, org: str, checks: Sequence[Check], now: datetime) -> None: ...


def find_check(store: ApiCheckPort, actor: Actor, org: str, check_id: int) -> tuple[Check, CheckState]:
    """A check of `org` the actor may see, with its state.

    Raises:
        NotFoundError: no such check in `org`, or not visible to the actor (same answer: no probing).
    """
    found = store.check_in(org, check_id)
    if found is None or not actor.can(Permission.VIEW, found[0].org, found[0].team):
        raise NotFoundError(f"no check with id {check_id}")
    return found


def create_check(
    store: ApiCheckPort,
    accounts: AccountsStore,
    actor: Actor,
    check: Check,
    now: datetime,
    gate: ChecksGate | None = None,
) -> tuple[Check, CheckState]:
    """Store a new API-owned check (its `org` is the caller's); returns it with its id and fresh state.

    Raises:
        PermissionDenied: the actor may not create checks in this organization or team.
        BillingBlocked: the organization is past due (from the gate).
        QuotaExceeded: the organization's checks would go beyond its plan (from the gate).
        CheckConflict: a check with this name exists in the organization.
    """
    _require(actor, Permission.CREATE_CHECKS, check)
    check = replace(check, origin=API_ORIGIN, id=None)
    with store.transaction(), accounts.transaction():
        if gate is not None:
            _admit(gate, check.org, [*store.org_checks(check.org), check], now)
        stored, state = store.add_api_check(check, now)
        accounts.append_audit(
            [
                AuditEntry(
                    now, actor.name, audit.CHECK_CREATE, _target(stored), stored.org, None, _json(stored)
                )
            ]
        )
    return stored, state


def update_check(
    store: ApiCheckPort,
    accounts: AccountsStore,
    actor: Actor,
    org: str,
    check_id: int,
    change: dict[str, object],
    now: datetime,
    gate: ChecksGate | None = None,
) -> tuple[Check, CheckState]:
    """Change fields of an API-owned check: `change` maps Check field names to new values.

    The state starts afresh (UNKNOWN, or PAUSED) when anything that defines the check changed, as a
    config change does.

    Raises:
        NotFoundError: no such check visible in `org`.
        CheckConflict: the check is declared in the YAML file, or the new name is taken.
        PermissionDenied: the actor may not edit checks in the old or the new team.
        BillingBlocked: the organization is past due (from the gate).
        QuotaExceeded: the changed check goes beyond the plan, e.g. an interval below its
            minimum (from the gate).
    """
    with store.transaction(), accounts.transaction():
        old, state = find_check(store, actor, org, check_id)
        _owned_by_api(old, "change")
        new = replace(old, **change)  # type: ignore[arg-type]
        _require(actor, Permission.EDIT_CHECKS, old)
        _require(actor, Permission.EDIT_CHECKS, new)
        if new.fingerprint() == old.fingerprint():
            return old, state
        if gate is not None:
            after = [new if c.id == old.id else c for c in store.org_checks(old.org)]
            _admit(gate, old.org, after, now)
        stored, state = store.update_api_check(new, now)
        accounts.append_audit(
            [
                AuditEntry(
                    now,
                    actor.name,
                    audit.CHECK_UPDATE,
                    _target(stored),
                    stored.org,
                    _json(old),
                    _json(stored),
                )
            ]
        )
    return stored, state


def delete_check(
    store: ApiCheckPort,
    accounts: AccountsStore,
    actor: Actor,
    org: str,
    check_id: int,
    now: datetime,
    gate: ChecksGate | None = None,
) -> Check:
    """Delete an API-owned check and its state (its results and flips age out with retention).

    Raises:
        NotFoundError: no such check visible in `org`.
        CheckConflict: the check is declared in the YAML file.
        PermissionDenied: the actor may not delete checks there.
        BillingBlocked: the organization is past due (from the gate): deleting is editing too.
    """
    with store.transaction(), accounts.transaction():
        old, _ = find_check(store, actor, org, check_id)
        _owned_by_api(old, "delete")
        _require(actor, Permission.DELETE_CHECKS, old)
        if gate is not None:
            gate.require_editable(old.org, day_of(now))
        store.delete_check(check_id)
        accounts.append_audit(
            [AuditEntry(now, actor.name, audit.CHECK_DELETE, _target(old), old.org, _json(old), None)]
        )
    return old


def set_paused(
    store: ApiCheckPort,
    accounts: AccountsStore,
    actor: Actor,
    org: str,
    check_id: int,
    paused: bool,
    now: datetime,
) -> tuple[Check, CheckState]:
    """Pause or resume any check (YAML-declared ones too: pausing is operating, not configuring).

    Raises:
        NotFoundError: no such check visible in `org`.
        PermissionDenied: the actor may not pause checks there.
    """
    with store.transaction(), accounts.transaction():
        check, _ = find_check(store, actor, org, check_id)
        _require(actor, Permission.PAUSE_CHECKS, check)
        state = store.set_paused(check_id, paused, now)
        accounts.append_audit([pause_audit_entry(actor, check, paused, now)])
    return check, state


def require_on_check(actor: Actor, permission: Permission, check: Check) -> None:
    """Refuse unless the actor may do `permission` on `check` (run now, for instance).

    Raises:
        PermissionDenied: naming the permission and the check.
    """
    _require(actor, permission, check)


def _admit(gate: ChecksGate, org: str, after: list[Check], now: datetime) -> None:
    """Past due first (whatever the plan), then the plan's limits over every check `org` would have."""
    gate.require_editable(org, day_of(now))
    gate.admit_checks(org, after, now)


def _require(actor: Actor, permission: Permission, check: Check) -> None:
    reason = actor.refusal(permission, check.org, check.team)
    if reason is not None:
        raise PermissionDenied(
            f"{reason} — check {_target(check)}",
            permission=permission,
            role=actor.role_in(check.org, check.team),
        )


def _owned_by_api(check: Check, verb: str) -> None:
    if check.origin != API_ORIGIN:
        raise CheckConflict(
            f"check {_target(check)} is declared in the configuration file, which owns it: "
            f"{verb} it there and run `pulsewatch config apply` (only checks created through the API "
            "can be changed through the API; pausing and resuming work for every check)"
        )


def _target(check: Check) -> str:
    return f"{check.org}/{check.name}"


def _json(check: Check) -> dict[str, object]:
    return {**check_json(check), "origin": check.origin}
