"""Keeping a headless engine's process free of modules it imports but does not use.

Measured with bench.engine_memory (10,000 checks, SQLite): of the ~75 MB of RSS that importing the
engine costs before any check, ~14 MB were modules such an engine never runs:
- httpx's command-line client (`httpx._main`), which httpx imports with the library only to offer
  `httpx.main`: it brings rich, pygments and click (~5 MB);
- pymysql's authentication module (`pymysql._auth`), which imports cryptography (~9 MB) when peewee
  imports pymysql, whatever the database: it is needed only when a MySQL login starts.
Both measures change what the whole process imports, so only processes that are nothing but an
engine (`pulsewatch engine`) take them, like engine.heap's settling; a console or a test process may
want the real modules. Call `slim_imports()` before anything imports httpx, peewee or pymysql.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

SKIPPED = ("httpx._main",)
"""Modules never imported: a `None` in `sys.modules` makes their import fail, and httpx then defines a
stand-in `main` that explains its CLI is not installed."""

DEFERRED = ("pymysql._auth",)
"""Modules executed on first use (first attribute read) rather than when their package imports them."""


def slim_imports() -> None:
    """Skip `SKIPPED` and defer `DEFERRED` in this process (no effect on modules already imported)."""
    for name in SKIPPED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "do not import" (import system)
    for name in DEFERRED:
        if name not in sys.modules:
            _defer(name)


def _defer(name: str) -> None:
    """Put a stand-in for module `name` in `sys.modules` that runs the module's code on first use.

    The stand-in is the module object itself, created from the module's file without running it: the
    package binds it as usual (`from . import _auth`), and the first attribute read (PEP 562
    `__getattr__`) runs the code in it, under a lock (MySQL logins may start in several threads).
    """
    parent, _, leaf = name.rpartition(".")
    parent_spec = importlib.util.find_spec(parent)  # finds the package without importing it
    if parent_spec is None or not parent_spec.submodule_search_locations:
        return  # not installed: nothing to defer
    path = Path(next(iter(parent_spec.submodule_search_locations))) / f"{leaf}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.exists():
        return
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)
    lock = threading.Lock()

    def load(attribute: str) -> Any:
        with lock:
            if "__getattr__" in module.__dict__:
                loader.exec_module(module)
                del module.__dict__["__getattr__"]
        return getattr(module, attribute)

    module.__getattr__ = load  # type: ignore[method-assign]  # PEP 562: called for missing attributes
    sys.modules[name] = module
