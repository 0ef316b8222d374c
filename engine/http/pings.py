"""Heartbeat pings, Healthchecks.io style: `GET|POST|HEAD /ping/<token>[/start|/fail|/log|/<exit-status>]`.

Answers are short plain text ("OK", "unknown ping token") because the callers are shell scripts
with curl. The body of a POST is kept (its first BODY_LIMIT bytes, as UTF-8 text) as the message of
the ping's result, so `curl --data-raw "$(tail -n 20 backup.log)"` shows up in the console.

"OK" means the ping is kept: applied here, or (another engine owns the check) committed to the
database for its owner. When the database refuses the latter the answer is 503, so the job's
`curl --retry` sends it again rather than the ping being lost.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from engine.http.context import Context
from pulsewatch.domain.heartbeats import PingActionError, parse_ping_action
from pulsewatch.errors import StorageError

BODY_LIMIT = 10_000
"""Bytes of a ping's body that are kept; the rest is not even read (Healthchecks keeps 10 kB too)."""
METHODS = ["GET", "POST", "HEAD"]

router = APIRouter()


@router.api_route("/ping/{token}", methods=METHODS, include_in_schema=False)
async def ping(token: str, request: Request, context: Context) -> PlainTextResponse:
    """A success ping."""
    return await _receive(context, request, token, None)


@router.api_route("/ping/{token}/{action}", methods=METHODS, include_in_schema=False)
async def ping_action(token: str, action: str, request: Request, context: Context) -> PlainTextResponse:
    """`start`, `fail`, `log`, or the job's exit status (0 is a success)."""
    return await _receive(context, request, token, action)


async def _receive(context: Context, request: Request, token: str, action: str | None) -> PlainTextResponse:
    if not context.pings.knows(token):
        return PlainTextResponse("unknown ping token", status_code=404)
    try:
        ping = parse_ping_action(action, await _body_text(request))
    except PingActionError as exc:
        return PlainTextResponse(exc.message, status_code=exc.status)
    try:
        received = await context.pings.receive(token, ping)
    except StorageError:
        return PlainTextResponse(
            "ping not recorded: the database is unavailable, try again", status_code=503,
            headers={"Retry-After": "5"},
        )
    if not received:  # the check went away while the body was read
        return PlainTextResponse("unknown ping token", status_code=404)
    return PlainTextResponse("OK")


async def _body_text(request: Request) -> str:
    """The first BODY_LIMIT bytes of the body as text; reading stops there, however much is sent."""
    kept = bytearray()
    async for chunk in request.stream():
        kept += chunk[: BODY_LIMIT - len(kept)]
        if len(kept) >= BODY_LIMIT:
            break
    return kept.decode("utf-8", errors="replace").strip()
