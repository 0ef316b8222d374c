"""How the REST API answers when it cannot do what was asked: one JSON shape, documented in OpenAPI.

Handlers raise domain errors and `ApiError`; `ApiRoute` turns them into responses, so no handler
builds an error response itself:
  401 no or unknown key · 402 QuotaExceeded and BillingBlocked (the plan does not allow it, or the
  organization is past due: paying — a bigger plan, the overdue invoice — is the cure) ·
  403 PermissionDenied (naming the permission) · 404 NotFoundError ·
  409 CheckConflict and refused state changes · 422 invalid input, every field error at once ·
  429 rate limit, with Retry-After · 503 the database or the engine cannot serve now.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pulsewatch.domain.accounts import PermissionDenied
from pulsewatch.domain.billing import BillingBlocked, QuotaExceeded
from pulsewatch.errors import NotFoundError, PulseWatchError, StorageError
from pulsewatch.services.api_checks import CheckConflict


class ErrorOut(BaseModel):
    """Why a request was refused."""

    detail: str = Field(description="What went wrong and, where possible, what to do about it.")
    permission: str | None = Field(
        default=None, description="On 403: the permission the key's role lacks, e.g. `edit checks`."
    )


class FieldError(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int] = Field(description="Where: `body`, `query` or `path`, then the field path.")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """Every problem of an invalid request, at once (nothing was changed)."""

    detail: str
    errors: list[FieldError]


class ApiError(Exception):
    """A refusal decided by the API layer itself (authentication, rate limit, engine busy)."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _error(model: type[BaseModel], text: str) -> dict[str, Any]:
    return {"model": model, "description": text}


RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        **_error(ErrorOut, "No API key, or an unknown or revoked one."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: _error(ErrorOut, "The key's role does not allow this; `permission` names what is missing."),
    404: _error(ErrorOut, "No such object in the key's organization."),
    422: _error(ValidationErrorOut, "Invalid input: every field error is listed; nothing was changed."),
    429: {
        **_error(ErrorOut, "Too many requests with this key; retry after `Retry-After` seconds."),
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
    503: _error(ErrorOut, "The database or the engine cannot serve the request now; retry later."),
}
"""Responses every API operation may give (added to each operation of the API router)."""

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _error(
        ErrorOut,
        "The change contradicts what exists (a check owned by the YAML file, a taken name, "
        "an incident already resolved).",
    )
}
"""Added to the operations that change things."""

PLAN_LIMIT: dict[int | str, dict[str, Any]] = {
    402: _error(
        ErrorOut,
        "Refused by billing, nothing was changed: the organization's plan does not allow it (the "
        "detail names the plan and each limit, e.g. `plan free allows 10 checks; acme would have "
        "11`), or the organization is past due (the detail names the overdue invoice).",
    )
}
"""Added to the operations that change an organization's checks."""


class ApiRoute(APIRoute):
    """An APIRoute whose handler answers domain errors with the API's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return validation_response(exc.errors())
            except HTTPException as exc:
                if exc.status_code != 400:  # FastAPI's "error parsing the body" (not UTF-8): invalid input
                    raise
                return validation_response(
                    [{"loc": ("body",), "msg": str(exc.detail), "type": "body_unreadable"}]
                )
            except ApiError as exc:
                return _json(exc.status, exc.detail, headers=exc.headers)
            except PermissionDenied as exc:
                return _json(403, exc.message, permission=exc.permission.value if exc.permission else None)
            except NotFoundError as exc:
                return _json(404, exc.message)
            except CheckConflict as exc:
                return _json(409, exc.message)
            except (QuotaExceeded, BillingBlocked) as exc:
                return _json(402, exc.message)
            except StorageError as exc:
                return _json(
                    503, f"the database cannot serve this now: {exc.message}", headers={"Retry-After": "5"}
                )
            except (
                PulseWatchError
            ) as exc:  # a rule refused the change (e.g. acknowledging a resolved incident)
                return _json(409, exc.message)

        return guarded


def validation_response(errors: Any) -> JSONResponse:
    """422 with every error: where, what, and pydantic's error type (the input is never echoed)."""
    items = [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    count = f"{len(items)} problem" + ("s" if len(items) != 1 else "")
    return JSONResponse({"detail": f"invalid request: {count}", "errors": items}, status_code=422)


def _json(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, permission: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if permission is not None:
        body["permission"] = permission
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))
