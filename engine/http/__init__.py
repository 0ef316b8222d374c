"""The engine's HTTP listener on `engine.listen`: an ASGI app (FastAPI) served by hypercorn's trio worker.

Routes are small routers (`engine.http.health`, `engine.http.pings`, ...) gathered in `engine.http.app`;
handlers run on the engine's trio loop and reach blocking code (the store) only through the engine's
`run_sync` and limiters, carried by `ListenerContext`.
"""

from __future__ import annotations

from engine.http.app import ROUTERS, build_app
from engine.http.context import ListenerContext
from engine.http.server import ListenerError, run_listener

__all__ = ["ROUTERS", "ListenerContext", "ListenerError", "build_app", "run_listener"]
