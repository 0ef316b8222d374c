"""How an engine reports its end: one log line with its run's figures, and crashes described in one line.

Kept out of engine.runtime: it is what an operator reads after the fact (the engine's last word in the
logs, and the `error` of `EngineStopped` the console and the headless command show), not part of how
the engine runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.stats import EngineStats

log = logging.getLogger("pulsewatch.engine")


def log_stopped(engine: str, stats: EngineStats, error: str | None) -> None:
    """Log that `engine` stopped — at ERROR with `error` when it crashed — with its run's totals."""
    log.log(
        logging.ERROR if error else logging.INFO,
        "engine %s stopped%s",
        engine,
        f": {error}" if error else "",
        extra={
            "engine": engine,
            "error": error,
            "probes_finished": stats.probes_total,
            "probe_failures": stats.probe_failures,
            "results_written": stats.results_written,
            "write_batches": stats.write_batches,
            "write_errors": stats.write_errors,
            "records_abandoned": stats.records_abandoned,
            "lateness_p95_s": round(stats.lateness.percentile(95), 6),
            "lateness_max_s": round(stats.lateness.max, 6),
        },
    )


def describe(exc: BaseException) -> str:
    """The first real error inside (possibly nested) exception groups, as one line.

    A crash inside the engine's nurseries arrives wrapped in exception groups; the innermost first
    error is what the operator needs to see.
    """
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
