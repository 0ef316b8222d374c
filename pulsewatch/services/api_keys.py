"""API key use cases: create (the key is shown once), list, revoke, and authenticate a request.

Creating and revoking need MANAGE_API_KEYS in the key's organization, and nobody makes a key with a
role above their own (a key is a way to act, so the role-change rule of memberships applies).
Each change and its audit entry commit together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain.accounts import Actor, Permission, PermissionDenied, Role
from pulsewatch.domain.api_keys import ApiKey, hash_key, looks_like_key, new_api_key
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.errors import NotFoundError
from pulsewatch.services.signin import refresh_actor

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from pulsewatch.services.ports import AccountsStore

APIKEY_CREATE = "apikey.create"
APIKEY_REVOKE = "apikey.revoke"


class ApiKeyPort(Protocol):
    """Where keys live (engine.storage.apikey_store.SqlApiKeyStore)."""

    def add_key(self, key: ApiKey) -> ApiKey: ...
    def key_by_hash(self, key_hash: str) -> ApiKey | None: ...
    def key_by_id(self, key_id: int) -> ApiKey: ...
    def list_keys(self, orgs: Collection[str] | None) -> list[ApiKey]: ...
    def revoke_key(self, key_id: int, now: datetime) -> ApiKey: ...


def create_api_key(
    keys: ApiKeyPort,
    accounts: AccountsStore,
    actor: Actor,
    *,
    secret: str,
    org: str,
    role: Role,
    name: str,
    now: datetime,
) -> ApiKey:
    """Store a new key for `org` with `role`; `secret` is the key itself (random, made by the caller).

    Raises:
        NotFoundError: no such organization.
        PermissionDenied: the actor may not manage API keys there, or not grant this role.
    """
    actor = refresh_actor(accounts, actor)
    if accounts.get_organization(org) is None:
        raise NotFoundError(
            f"no organization {org} (`pulsewatch config apply` stores the organizations of the file)"
        )
    actor.require(Permission.MANAGE_API_KEYS, org)
    mine = actor.role_in(org)
    if not actor.system and mine is not None and not mine.at_least(role):
        raise PermissionDenied(
            f"{actor.name} is {mine.value} in organization {org} and may not create a key with the "
            f"{role.value} role (only {role.value}s can)",
            permission=Permission.MANAGE_API_KEYS,
            role=mine,
        )
    with accounts.transaction():
        stored = keys.add_key(
            new_api_key(secret, org=org, role=role, name=name, created_by=actor.name, now=now)
        )
        accounts.append_audit(
            [AuditEntry(now, actor.name, APIKEY_CREATE, stored.label, org, None, _json(stored))]
        )
    return stored


def list_api_keys(
    keys: ApiKeyPort, accounts: AccountsStore, actor: Actor, org: str | None = None
) -> list[ApiKey]:
    """Keys the actor may manage: of `org`, or of every organization where they may manage keys.

    Raises:
        PermissionDenied: `org` is given and the actor may not manage its keys.
    """
    actor = refresh_actor(accounts, actor)
    if org is not None:
        actor.require(Permission.MANAGE_API_KEYS, org)
        return keys.list_keys({org})
    visible = actor.visible_orgs()
    if visible is None:
        return keys.list_keys(None)
    return keys.list_keys({o for o in visible if actor.can(Permission.MANAGE_API_KEYS, o)})


def revoke_api_key(
    keys: ApiKeyPort, accounts: AccountsStore, actor: Actor, key_id: int, now: datetime
) -> ApiKey:
    """Revoke a key at once: the next request made with it is refused (401).

    Raises:
        NotFoundError: no such key, or it is in an organization the actor does not belong to.
        PermissionDenied: the actor may not manage API keys in the key's organization.
    """
    actor = refresh_actor(accounts, actor)
    key = keys.key_by_id(key_id)
    visible = actor.visible_orgs()
    if visible is not None and key.org not in visible:
        raise NotFoundError(f"no API key with id {key_id}")
    actor.require(Permission.MANAGE_API_KEYS, key.org)
    if not key.active:
        return key
    with accounts.transaction():
        revoked = keys.revoke_key(key_id, now)
        accounts.append_audit(
            [
                AuditEntry(
                    now, actor.name, APIKEY_REVOKE, key.label, key.org, {"revoked": False}, {"revoked": True}
                )
            ]
        )
    return revoked


def authenticate(keys: ApiKeyPort, presented: str) -> ApiKey | None:
    """The active key matching `presented` (the bearer token of a request), or None."""
    if not looks_like_key(presented):
        return None
    key = keys.key_by_hash(hash_key(presented))
    return key if key is not None and key.active else None


def _json(key: ApiKey) -> dict[str, object]:
    return {"org": key.org, "role": key.role.value, "name": key.name, "prefix": key.prefix}
