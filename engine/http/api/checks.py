"""/api/v1/checks: list (filters, cursor or page pagination), get, create, update, delete, pause,
resume and run now.

Writes go through `pulsewatch.services.api_checks` on the engine's single-writer slot (authorized,
one transaction with the audit entry); the engine is then told (ReloadChecks, SetPaused, RunNow) on
its own command channel, so the change takes effect in this engine at once. Pause, resume and run now
of a check another engine runs (its shard's holder) are sent to that engine instead
(engine.http.api.check_routing).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

import trio
from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import PydanticCustomError

from engine.http.api import check_routing
from engine.http.api.auth import Authenticated, Caller
from engine.http.api.check_models import CheckIn, CheckPatch
from engine.http.api.check_routing import FORWARDED
from engine.http.api.errors import CONFLICT, PLAN_LIMIT, ApiError, ApiRoute
from engine.http.api.models import CheckOut, CheckPage, Id, QueuedOut
from engine.storage.api_store import CheckFilter
from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.commands import CommandAction
from pulsewatch.domain.events import EngineCommand, ReloadChecks, RunNow, SetPaused
from pulsewatch.domain.monitoring import Check, CheckState, Status
from pulsewatch.services import api_checks

router = APIRouter(prefix="/checks", tags=["checks"], route_class=ApiRoute)

SUBMIT_TIMEOUT = 5.0
"""Seconds to wait for room in the engine's command queue before answering 503."""

StatusWord = Annotated[Status | None, Query(description="Only checks in this status.")]


@router.get("", summary="List checks with their state")
async def list_checks(
    caller: Authenticated,
    status: StatusWord = None,
    tag: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only checks with this tag.")
    ] = None,
    team: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this team's checks.")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Text in the name or URL.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Checks per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=400, description="`next_cursor` of the previous page.")
    ] = None,
    page: Annotated[
        int | None, Query(ge=1, le=100_000, description="Page number (instead of a cursor).")
    ] = None,
) -> CheckPage:
    """Checks of the key's organization in name order, `limit` at a time: follow `next_cursor`, or ask
    for `page` N. Filters combine (all must hold)."""
    if cursor is not None and page is not None:
        raise RequestValidationError(
            [{"loc": ("query", "page"), "msg": "give either cursor or page, not both", "type": "value_error"}]
        )
    after = _decode_cursor(cursor) if cursor is not None else None
    offset = (page - 1) * limit if page is not None else 0
    where = CheckFilter(org=caller.org, status=status, tag=tag, team=team, text=q)
    rows = await caller.context.read(_page, caller, where, after, offset, limit)
    items = [CheckOut.of(c, s) for c, s in rows[:limit]]
    more = len(rows) > limit
    return CheckPage(
        items=items, next_cursor=_encode_cursor(items[-1].name) if more and items else None, page=page
    )


@router.get("/{check_id}", summary="Get one check")
async def get_check(caller: Authenticated, check_id: Id) -> CheckOut:
    """One check of the key's organization, with its state."""
    check, state = await caller.context.read(
        api_checks.find_check, caller.backend.api, caller.actor, caller.org, check_id
    )
    return CheckOut.of(check, state)


@router.post("", status_code=201, summary="Create a check", responses={**CONFLICT, **PLAN_LIMIT})
async def create_check(caller: Authenticated, body: CheckIn) -> CheckOut:
    """A new check owned by the API (`origin: api`): probed at once by this engine, kept by `config apply`.
    402 when it would take the organization beyond its plan (or the organization is past due)."""
    await _require_team(caller, body.team)
    check = body.to_check(caller.org)
    stored, state = await caller.context.write(
        api_checks.create_check,
        caller.backend.api,
        caller.backend.accounts,
        caller.actor,
        check,
        _now(caller),
        caller.backend.gates,
    )
    await _submit(caller, ReloadChecks())
    return CheckOut.of(stored, state)


@router.patch("/{check_id}", summary="Change a check", responses={**CONFLICT, **PLAN_LIMIT})
async def update_check(caller: Authenticated, check_id: Id, body: CheckPatch) -> CheckOut:
    """Change fields of a check created through the API (409 for checks declared in the YAML file;
    402 when the change goes beyond the plan, e.g. an interval below its minimum)."""
    current, _ = await caller.context.read(
        api_checks.find_check, caller.backend.api, caller.actor, caller.org, check_id
    )
    try:
        change = body.changes(current)
    except PydanticCustomError as exc:
        raise RequestValidationError([{"loc": ("body",), "msg": exc.message(), "type": exc.type}]) from None
    if "team" in change:
        await _require_team(caller, change["team"])
    stored, state = await caller.context.write(
        api_checks.update_check,
        caller.backend.api,
        caller.backend.accounts,
        caller.actor,
        caller.org,
        check_id,
        change,
        _now(caller),
        caller.backend.gates,
    )
    await _submit(caller, ReloadChecks())
    return CheckOut.of(stored, state)


@router.delete("/{check_id}", status_code=204, summary="Delete a check", responses={**CONFLICT, **PLAN_LIMIT})
async def delete_check(caller: Authenticated, check_id: Id) -> Response:
    """Delete a check created through the API (409 for checks declared in the YAML file; 402 while
    the organization is past due)."""
    await caller.context.write(
        api_checks.delete_check,
        caller.backend.api,
        caller.backend.accounts,
        caller.actor,
        caller.org,
        check_id,
        _now(caller),
        caller.backend.gates,
    )
    await _submit(caller, ReloadChecks())
    return Response(status_code=204)


@router.post("/{check_id}/pause", summary="Pause a check", response_model=CheckOut, responses=FORWARDED)
async def pause_check(caller: Authenticated, check_id: Id) -> CheckOut | JSONResponse:
    """Stop probing; the status becomes paused (works for every check, YAML-declared ones too).
    202 when another engine runs the check and has not applied the pause within 2 s."""
    return await _set_paused(caller, check_id, paused=True)


@router.post("/{check_id}/resume", summary="Resume a check", response_model=CheckOut, responses=FORWARDED)
async def resume_check(caller: Authenticated, check_id: Id) -> CheckOut | JSONResponse:
    """Probe again at once; the status is unknown until the first verdict. 202 when another engine
    runs the check and has not applied the resume within 2 s."""
    return await _set_paused(caller, check_id, paused=False)


@router.post("/{check_id}/run", status_code=202, summary="Run a check now", responses={409: FORWARDED[409]})
async def run_check(caller: Authenticated, check_id: Id) -> QueuedOut:
    """Probe the check now, outside its schedule; the result shows in its state and results shortly.
    When another engine runs the check it is asked to probe it (`command_id` names that command)."""
    check, _ = await caller.context.read(
        api_checks.find_check, caller.backend.api, caller.actor, caller.org, check_id
    )
    api_checks.require_on_check(caller.actor, Permission.RUN_CHECKS, check)
    if not check_routing.runs_here(caller, check_id):
        command = await check_routing.forward(caller, CommandAction.RUN_NOW, check)
        detail = (f"engine {command.claimed_by}: {command.message}" if command.settled
                  else check_routing.pending(command, check).detail)
        return QueuedOut(queued=True, check_id=check_id, detail=detail, command_id=command.id)
    await _submit(caller, RunNow(check_id=check_id, requested_by=caller.actor.name))
    return QueuedOut(queued=True, check_id=check_id, detail=f"check {check.name} will be probed now")


async def _set_paused(caller: Caller, check_id: int, *, paused: bool) -> CheckOut | JSONResponse:
    if not check_routing.runs_here(caller, check_id):
        return await _forward_pause(caller, check_id, paused=paused)
    check, state = await caller.context.write(
        api_checks.set_paused,
        caller.backend.api,
        caller.backend.accounts,
        caller.actor,
        caller.org,
        check_id,
        paused,
        _now(caller),
    )
    await _submit(caller, SetPaused(check_id=check_id, paused=paused, requested_by=caller.actor.name))
    return CheckOut.of(check, state)


async def _forward_pause(caller: Caller, check_id: int, *, paused: bool) -> CheckOut | JSONResponse:
    """Pause or resume a check another engine runs: authorized here, applied (and audited) by it."""
    check, _ = await caller.context.read(
        api_checks.find_check, caller.backend.api, caller.actor, caller.org, check_id
    )
    api_checks.require_on_check(caller.actor, Permission.PAUSE_CHECKS, check)
    action = CommandAction.PAUSE if paused else CommandAction.RESUME
    command = await check_routing.forward(caller, action, check)
    if not command.settled:
        return JSONResponse(check_routing.pending(command, check).model_dump(), status_code=202)
    check, state = await caller.context.read(
        api_checks.find_check, caller.backend.api, caller.actor, caller.org, check_id
    )
    return CheckOut.of(check, state)


async def _submit(caller: Caller, command: EngineCommand) -> None:
    """Hand `command` to the engine, waiting a little for room in its queue.

    Raises:
        ApiError: 503 when the engine's queue stays full (the stored change stands; the engine picks
            it up with the next command or restart).
    """
    submit = caller.context.submit
    if submit is None:
        return
    with trio.move_on_after(SUBMIT_TIMEOUT):
        await submit(command)
        return
    raise ApiError(503, "the engine is too busy to take the command now; retry shortly", {"Retry-After": "5"})


async def _require_team(caller: Caller, team: str | None) -> None:
    """A team must exist in organizations that declare teams (as in the YAML file)."""
    if team is None:
        return
    teams = {t.name for t in await caller.context.read(caller.backend.accounts.list_teams, caller.org)}
    if teams and team not in teams:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "team"),
                    "msg": f"no team {team!r} in organization {caller.org} "
                    f"(teams: {', '.join(sorted(teams))})",
                    "type": "value_error",
                }
            ]
        )


def _page(
    caller: Caller, where: CheckFilter, after: str | None, offset: int, limit: int
) -> list[tuple[Check, CheckState]]:
    """One page, limited to what the key may see (team-scoped roles see their team's checks)."""
    rows = caller.backend.api.check_page(where, after=after, offset=offset, limit=limit)
    return [(c, s) for c, s in rows if caller.actor.can(Permission.VIEW, c.org, c.team)]


def _now(caller: Caller) -> datetime:
    return caller.backend.wall_clock()


def _encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "not a cursor from a previous page", "type": "value_error"}]
        ) from None
