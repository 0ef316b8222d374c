"""Uptime and SLA figures per check, computed from rollups and flips given as plain data.

Definitions (the `pulsewatch report` columns):
- uptime %: successful probes / all probes in the window (degraded probes count as successful:
  the target answered as required).
- observed: from the window start, or from when the check was added or its first bucket with
  probes starts if either is later, to the window end — a check added last week is not blamed
  for the weeks before it existed.
- downtime (an estimate): the failed share of probes times the observed time. Probes are samples,
  so this is what the samples say, not a stopwatch; it needs no assumption about gaps.
- incidents: flips to DOWN inside the window.
- p50/p95/p99: read from the merged latency histograms (see `pulsewatch.domain.rollups`).
- SLA: uptime against a target; the error budget is the failed share the target allows, and
  "budget left" is how much of it is unspent (negative when the target was missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import Status
from pulsewatch.domain.rollups import Level, merge

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from pulsewatch.domain.monitoring import Flip
    from pulsewatch.domain.rollups import Rollup


@dataclass(frozen=True)
class UptimeFigures:
    """One check's uptime over a window. Latencies in ms; None where there were no probes."""

    check: str
    since: datetime
    until: datetime
    probes: int
    failures: int
    degraded: int
    uptime_pct: float | None
    observed_s: float
    downtime_s: float | None
    incidents: int
    latency_avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class SlaFigures:
    """One check's uptime against a target, with the error budget."""

    uptime: UptimeFigures
    target_pct: float
    allowed_downtime_s: float
    """The downtime the target allows over the observed time."""
    budget_left_pct: float | None
    """Share of the error budget not spent; negative when the target was missed."""
    budget_left_s: float | None
    met: bool | None


def window_start(since: datetime, now: datetime, *, minutes_kept_s: float, hours_kept_s: float) -> datetime:
    """`since` moved back to a boundary the stored rollups can serve exactly.

    Older than the minute rollups' retention, a window starts on the hour; older than the hour
    rollups', on the (UTC) day — otherwise its first, partial bucket would be read from rows that
    pruning already removed. Otherwise it starts on the minute.
    """
    age = (now - since).total_seconds()
    if age > hours_kept_s:
        return Level.DAY.floor(since)
    if age > minutes_kept_s:
        return Level.HOUR.floor(since)
    return Level.MINUTE.floor(since)


def uptime_figures(
    check: str,
    rollups: Sequence[Rollup],
    flips: Sequence[Flip],
    *,
    since: datetime,
    until: datetime,
    added: datetime | None = None,
) -> UptimeFigures:
    """Compute one check's figures over [since, until).

    Args:
        check: the name shown in the report.
        rollups: the check's buckets of any levels, together covering the window without overlap;
            buckets starting outside the window are ignored.
        flips: the check's flips; those outside the window are ignored.
        since: the window start.
        until: the window end (exclusive).
        added: when the check was added, if known; rollup buckets (a day long) only bound it
            roughly.
    """
    inside = [r for r in rollups if since <= r.start < until and r.count]
    total = merge(inside, check_id=0, level=Level.DAY, start=since)
    incidents = sum(1 for f in flips if f.new == Status.DOWN and since <= f.at < until)
    first = min((r.start for r in inside), default=until)
    start = max(since, first, added or since)
    observed_s = max(0.0, (until - start).total_seconds())
    if total.count == 0:
        return UptimeFigures(
            check, since, until, 0, 0, 0, None, observed_s, None, incidents, None, None, None, None
        )
    failed_share = total.failures / total.count
    return UptimeFigures(
        check=check,
        since=since,
        until=until,
        probes=total.count,
        failures=total.failures,
        degraded=total.degraded,
        uptime_pct=100.0 * (1.0 - failed_share),
        observed_s=observed_s,
        downtime_s=failed_share * observed_s,
        incidents=incidents,
        latency_avg_ms=total.latency_sum_ms / total.count,
        p50_ms=total.percentile(50),
        p95_ms=total.percentile(95),
        p99_ms=total.percentile(99),
    )


def sla_figures(uptime: UptimeFigures, target_pct: float) -> SlaFigures:
    """Compare uptime with a target such as 99.9.

    Raises:
        ValueError: the target is not strictly between 0 and 100 (100% leaves no budget to measure).
    """
    if not 0 < target_pct < 100:
        raise ValueError(f"an SLA target must be between 0 and 100 (exclusive), got {target_pct}")
    allowed_share = 1.0 - target_pct / 100.0
    allowed_s = allowed_share * uptime.observed_s
    if uptime.uptime_pct is None or uptime.downtime_s is None:
        return SlaFigures(uptime, target_pct, allowed_s, None, None, None)
    failed_share = 1.0 - uptime.uptime_pct / 100.0
    return SlaFigures(
        uptime=uptime,
        target_pct=target_pct,
        allowed_downtime_s=allowed_s,
        budget_left_pct=100.0 * (1.0 - failed_share / allowed_share),
        budget_left_s=allowed_s - uptime.downtime_s,
        met=uptime.uptime_pct >= target_pct,
    )


UPTIME_COLUMNS = (
    "check", "since", "until", "probes", "failures", "degraded", "uptime_pct", "downtime_s",
    "incidents", "latency_avg_ms", "p50_ms", "p95_ms", "p99_ms",
)
"""The fields of an uptime report row, in order (CSV header, JSON keys): add, never rename."""

SLA_COLUMNS = (
    *UPTIME_COLUMNS, "target_pct", "allowed_downtime_s", "budget_left_pct", "budget_left_s", "met",
)
"""The fields of an SLA report row."""


def uptime_record(figures: UptimeFigures) -> dict[str, object]:
    """One row for CSV/JSON: instants as ISO 8601, figures rounded to what is meaningful."""
    return {
        "check": figures.check,
        "since": figures.since.isoformat(),
        "until": figures.until.isoformat(),
        "probes": figures.probes,
        "failures": figures.failures,
        "degraded": figures.degraded,
        "uptime_pct": _round(figures.uptime_pct, 4),
        "downtime_s": _round(figures.downtime_s, 1),
        "incidents": figures.incidents,
        "latency_avg_ms": _round(figures.latency_avg_ms, 2),
        "p50_ms": _round(figures.p50_ms, 2),
        "p95_ms": _round(figures.p95_ms, 2),
        "p99_ms": _round(figures.p99_ms, 2),
    }


def sla_record(figures: SlaFigures) -> dict[str, object]:
    """One SLA row for CSV/JSON."""
    return {
        **uptime_record(figures.uptime),
        "target_pct": figures.target_pct,
        "allowed_downtime_s": _round(figures.allowed_downtime_s, 1),
        "budget_left_pct": _round(figures.budget_left_pct, 2),
        "budget_left_s": _round(figures.budget_left_s, 1),
        "met": figures.met,
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
