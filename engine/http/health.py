"""GET /healthz: is the engine alive, and how much is it watching (for load balancers and uptime probes)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.http.context import Context

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz(context: Context) -> dict[str, object]:
    """200 with the engine's name, its number of checks and its uptime in seconds."""
    return {
        "status": "ok",
        "engine": context.engine,
        "checks": context.check_count(),
        "uptime_s": round(context.uptime(), 3),
    }
