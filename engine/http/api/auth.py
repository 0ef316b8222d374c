"""`Authorization: Bearer <key>`: who is calling, as an actor of one organization, within its rate limit.

The `Authenticated` dependency looks the key up (one indexed query, in a worker thread), refuses
missing, unknown and revoked keys with 401, spends a token of the key's bucket (429 with Retry-After
when empty) and gives the handler a `Caller`. Permissions are checked by the use cases with the same
matrix as for people (`Actor.require`), so a viewer key gets 403 naming what it lacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import trio
from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.http.api.backend import ApiBackend
from engine.http.api.errors import ApiError
from engine.http.context import Context, ListenerContext
from pulsewatch.domain.accounts import Actor
from pulsewatch.domain.api_keys import ApiKey
from pulsewatch.services.api_keys import authenticate

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `pulsewatch apikey create --org SLUG --role ROLE`, as `Bearer pwk_…`.",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="pulsewatch"'}


@dataclass(frozen=True)
class Caller:
    """An authenticated request: its key, the key as an actor, and the API's dependencies."""

    key: ApiKey
    actor: Actor
    backend: ApiBackend
    context: ListenerContext

    @property
    def org(self) -> str:
        """The organization the key reaches."""
        return self.key.org


def backend_of(context: ListenerContext) -> ApiBackend:
    """The API's dependencies, or 503 when this engine serves no API (a test engine without one).

    Raises:
        ApiError: 503.
    """
    if context.api is None:
        raise ApiError(503, "this engine serves no REST API (it was started without one)")
    return context.api


async def _caller(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Caller:
    backend = backend_of(context)
    if credentials is None:
        raise ApiError(
            401,
            "no API key: send `Authorization: Bearer <key>` (keys come from `pulsewatch apikey create`)",
            _CHALLENGE,
        )
    key = await context.read(authenticate, backend.keys, credentials.credentials)
    if key is None or key.id is None:
        raise ApiError(401, "unknown or revoked API key", _CHALLENGE)
    wait = backend.limiter.take(key.id, trio.current_time())
    if wait is not None:
        raise ApiError(
            429,
            f"rate limit of this key reached ({backend.limiter.rate:g} requests a second, bursts of "
            f"{backend.limiter.burst}); retry in {wait:.2f} s",
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return Caller(key=key, actor=key.actor(), backend=backend, context=context)


Authenticated = Annotated[Caller, Depends(_caller)]
"""A handler parameter `caller: Authenticated` is an authenticated, rate-limited Caller."""
