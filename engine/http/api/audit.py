"""/api/v1/audit (who changed what in the organization) and /api/v1/me (the calling key)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from engine.http.api.auth import Authenticated
from engine.http.api.errors import ApiRoute
from engine.http.api.models import AuditOut, WhoAmIOut
from pulsewatch.domain.accounts import Permission, permissions_of

router = APIRouter(tags=["audit"], route_class=ApiRoute)


@router.get("/audit", summary="The audit log")
async def audit_log(
    caller: Authenticated,
    since: Annotated[
        datetime | None, Query(description="Only entries at or after this instant (ISO 8601).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """Changes in the key's organization, newest first: by people, `config apply` and API keys."""
    caller.actor.require(Permission.VIEW_AUDIT, caller.org)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=caller.backend.wall_clock().tzinfo)
    entries = await caller.context.read(caller.backend.accounts.audit_entries, {caller.org}, since, limit)
    return [
        AuditOut(
            id=e.id,
            at=e.at,
            actor=e.actor,
            action=e.action,
            org=e.org,
            target=e.target,
            before=e.before,
            after=e.after,
        )
        for e in entries
    ]


@router.get("/me", summary="The calling key")
async def whoami(caller: Authenticated) -> WhoAmIOut:
    """The key's organization and role, and every permission that role carries."""
    key = caller.key
    return WhoAmIOut(
        key_id=key.id or 0,
        name=key.name,
        prefix=key.prefix,
        org=key.org,
        role=key.role.value,
        permissions=sorted(p.value for p in permissions_of(key.role)),
    )
