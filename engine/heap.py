"""Keeping Python's cyclic garbage collector off the probes' backs in a process that is all engine.

Measured (bench/engine_throughput.py, 5,000 checks at 2,000 probes/s): with the default thresholds
the collector ran ~60 times a second and its full collections walked every check, state and request
plan each time — 60–150 ms pauses every few seconds, straight into scheduling lateness, and ~8% of the
engine's CPU. Three process-wide measures fix it:
- `gc.freeze()` once the engine has loaded: what lives for the whole run (modules, checks, states,
  request plans) leaves the collector's sight, so a full collection only walks what came after;
- a larger first-generation threshold: a probe's short-lived objects die by reference counting
  before a collection sees them, instead of being promoted towards the expensive generations.
- glibc's `malloc_trim(0)` after that first collection: parsing a large config file leaves free
  memory that the allocator keeps; trimming hands it back (measured: 16 MB of RSS at 10,000 checks).
All of them change the whole process, so only hosts that are nothing but an engine use them (the headless
`pulsewatch engine` and the benchmarks), never the console or a test process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

YOUNG_THRESHOLD = 20_000
"""Allocations between first-generation collections (CPython's default is 700)."""


def settle() -> None:
    """Collect what is garbage now, freeze what is left, and raise the first-generation threshold."""
    gc.collect()
    _trim_malloc()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def _trim_malloc() -> None:
    """Give the C allocator's free memory back to the system (glibc only; elsewhere nothing to do)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # musl, macOS: no malloc_trim
        return
    trim(0)
