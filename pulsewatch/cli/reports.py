"""`pulsewatch report uptime|sla`: per-check uptime, downtime, incidents and latency percentiles.

Figures come from the rollups (engine.storage.rollup_store) for whatever the engines have rolled up,
and from raw results for the newest minutes, so a report is complete up to the moment it runs.
The computation is `pulsewatch.services.reports`; this module reads the database and prints.
A window older than a rollup level's retention starts on that level's boundary (an hour, or a UTC
day), and the report says so in its `since`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.cli import EXIT_OK, add_config_option, wiring
from pulsewatch.domain.monitoring import DEFAULT_ORG

if TYPE_CHECKING:
    from collections.abc import Sequence

    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import Check, Flip
    from pulsewatch.services.reports import SlaFigures, UptimeFigures

FORMATS = ("table", "csv", "json")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` command group: uptime and sla."""
    report = commands.add_parser("report", help="uptime and SLA figures per check, from the database")
    kinds = report.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    for kind, text in (
        ("uptime", "uptime %, estimated downtime, incidents and p50/p95/p99 latency per check"),
        ("sla", "uptime against a target (--target 99.9) and the error budget left"),
    ):
        sub = kinds.add_parser(kind, help=text)
        add_config_option(sub)
        sub.add_argument(
            "--since", type=_window, default=_window("30d"), metavar="DURATION",
            help="how far back from now, like 24h, 7d or 30d (default 30d)",
        )
        sub.add_argument("--check", metavar="NAME", help="only this check (with --org when names repeat)")
        sub.add_argument("--org", metavar="SLUG", help="only this organization's checks")
        sub.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
        if kind == "sla":
            sub.add_argument(
                "--target", type=_target, default=99.9, metavar="PERCENT",
                help="the uptime target in percent, like 99.9 (default 99.9)",
            )
        sub.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    """`pulsewatch report uptime|sla`: read, compute, print."""
    from engine.storage.rollup_store import RollupStore
    from pulsewatch.services.reports import sla_figures, uptime_figures, window_start

    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        checks = _selected(store.load_checks(), store, args.check, args.org)
        ids = [c.id for c in checks if c.id is not None]
        until = datetime.now(UTC)
        kept = config.retention
        since = window_start(until - args.since, until, minutes_kept_s=kept.minute, hours_kept_s=kept.hour)
        rollups = RollupStore(store)
        rows = rollups.report_rows(ids, since, until) if ids else {}
        added = rollups.added(ids) if ids else {}
        flips: dict[int, list[Flip]] = defaultdict(list)
        for flip in rollups.flips(ids, since, until) if ids else []:
            flips[flip.check_id].append(flip)
    finally:
        store.close()
    figures = []
    for check in checks:
        key = check.id or 0
        figures.append(
            uptime_figures(
                display_name(check), rows.get(key, []), flips[key], since=since, until=until,
                added=added.get(key),
            )
        )
    if args.report_kind == "sla":
        print(render_sla([sla_figures(f, args.target) for f in figures], args.format))
    else:
        print(render_uptime(figures, args.format))
    return EXIT_OK


def _selected(checks: list[Check], store: SqlStore, name: str | None, org: str | None) -> list[Check]:
    """The checks to report on; a named check that does not exist is an error (NotFoundError)."""
    if name is not None:
        return [store.check_by_name(name, org)]
    return [c for c in checks if org is None or c.org == org]


def display_name(check: Check) -> str:
    """NAME, or ORG/NAME outside the default organization (as `pulsewatch status` shows them)."""
    return check.name if check.org == DEFAULT_ORG else f"{check.org}/{check.name}"


def render_uptime(figures: Sequence[UptimeFigures], fmt: str) -> str:
    """The uptime report in one of FORMATS."""
    from pulsewatch.services.reports import UPTIME_COLUMNS, uptime_record

    records = [uptime_record(f) for f in figures]
    if fmt != "table":
        return _machine(records, UPTIME_COLUMNS, fmt)
    header = ("CHECK", "UPTIME", "DOWNTIME", "INCIDENTS", "PROBES", "P50", "P95", "P99")
    lines = [
        (f.check, _pct(f.uptime_pct), _span(f.downtime_s), str(f.incidents), str(f.probes),
         _ms(f.p50_ms), _ms(f.p95_ms), _ms(f.p99_ms))
        for f in figures
    ]
    return _table(header, lines, figures[0] if figures else None)


def render_sla(figures: Sequence[SlaFigures], fmt: str) -> str:
    """The SLA report in one of FORMATS."""
    from pulsewatch.services.reports import SLA_COLUMNS, sla_record

    records = [sla_record(f) for f in figures]
    if fmt != "table":
        return _machine(records, SLA_COLUMNS, fmt)
    header = ("CHECK", "UPTIME", "TARGET", "MET", "BUDGET LEFT", "DOWNTIME", "ALLOWED")
    lines = [
        (f.uptime.check, _pct(f.uptime.uptime_pct), f"{f.target_pct:g}%",
         "-" if f.met is None else ("yes" if f.met else "NO"),
         "-" if f.budget_left_pct is None else f"{f.budget_left_pct:.1f}%",
         _span(f.uptime.downtime_s), _span(f.allowed_downtime_s))
        for f in figures
    ]
    return _table(header, lines, figures[0].uptime if figures else None)


def _machine(records: list[dict[str, object]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(records, indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in records)
    return out.getvalue().rstrip("\n")


def _table(header: tuple[str, ...], lines: Sequence[tuple[str, ...]], first: UptimeFigures | None) -> str:
    if first is None:
        return "no checks in the database (start `pulsewatch engine` or `pulsewatch config apply`)"
    window = f"from {first.since:%Y-%m-%d %H:%M} to {first.until:%Y-%m-%d %H:%M} UTC"
    rows = [header, *lines]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    body = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([window, *body])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _span(seconds: float | None) -> str:
    """Seconds as `3d 4h`, `2h 5m`, `4m 10s` or `12s`: the two largest units."""
    if seconds is None:
        return "-"
    rest = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts[:2])


def _window(text: str) -> timedelta:
    from pydantic_core import PydanticCustomError

    from pulsewatch.config_schema import parse_duration

    try:
        return timedelta(seconds=parse_duration(text))
    except PydanticCustomError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _target(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage like 99.9, got {text!r}") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"the target must be between 0 and 100 (exclusive), got {text}")
    return value
