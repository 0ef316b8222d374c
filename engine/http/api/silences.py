"""/api/v1/maintenance (the configured windows, read-only) and /api/v1/silences (list, add, end)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from engine.http.api.alert_models import MaintenanceOut, SilenceIn, SilenceOut
from engine.http.api.auth import Authenticated
from engine.http.api.errors import CONFLICT, ApiRoute
from engine.http.api.models import Id
from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.monitoring import Check
from pulsewatch.services import api_alerting

router = APIRouter(tags=["maintenance and silences"], route_class=ApiRoute)


@router.get("/maintenance", summary="List maintenance windows")
async def maintenance(caller: Authenticated) -> list[MaintenanceOut]:
    """Windows of the configuration that cover the key's organization, each with whether it is active now."""
    caller.actor.require(Permission.VIEW, caller.org)
    now = caller.backend.wall_clock()
    windows = caller.backend.alerting.maintenance
    return [MaintenanceOut.of(w, now) for w in windows if w.scope.org in (None, caller.org)]


@router.get("/silences", summary="List silences")
async def list_silences(
    caller: Authenticated,
    include_ended: Annotated[bool, Query(description="Also ended and expired silences.")] = False,
) -> list[SilenceOut]:
    """Silences in force for the key's organization (its own, and those covering every organization)."""
    now = caller.backend.wall_clock()
    read = partial(api_alerting.silences_in, include_ended=include_ended)
    found = await caller.context.read(read, caller.backend.alerts, caller.actor, caller.org, now)
    return [SilenceOut.of(s, now) for s in found]


@router.post("/silences", status_code=201, summary="Silence a check or a tag")
async def add_silence(caller: Authenticated, body: SilenceIn) -> SilenceOut:
    """Mute the alerts of one check or one tag of the key's organization for `duration_s` seconds."""
    checks = await caller.context.read(caller.backend.scoped.checks_in, {caller.org})
    _require_known(checks, body)
    now = caller.backend.wall_clock()
    add = partial(
        api_alerting.add_silence,
        check=body.check,
        tag=body.tag,
        duration=body.duration_s,
        reason=body.reason,
        now=now,
    )
    silence = await caller.context.write(
        add, caller.backend.alerts, caller.backend.accounts, caller.actor, caller.org
    )
    return SilenceOut.of(silence, now)


@router.delete("/silences/{silence_id}", summary="End a silence now", responses=CONFLICT)
async def end_silence(caller: Authenticated, silence_id: Id) -> SilenceOut:
    """End one of the organization's silences now (409 for one covering every organization)."""
    now = caller.backend.wall_clock()
    ended = await caller.context.write(
        api_alerting.end_silence,
        caller.backend.alerts,
        caller.backend.accounts,
        caller.actor,
        caller.org,
        silence_id,
        now,
    )
    return SilenceOut.of(ended, now)


def _require_known(checks: list[Check], body: SilenceIn) -> None:
    """A silence names a check or a tag the organization has (a typo would silence nothing)."""
    if body.check is not None and body.check not in {c.name for c in checks}:
        raise RequestValidationError(
            [{"loc": ("body", "check"), "msg": f"no check named {body.check!r}", "type": "value_error"}]
        )
    if body.tag is not None and body.tag not in {t for c in checks for t in c.tags}:
        raise RequestValidationError(
            [{"loc": ("body", "tag"), "msg": f"no check has the tag {body.tag!r}", "type": "value_error"}]
        )
