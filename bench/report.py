"""The benchmark runner's figures, targets, peer ratios, table and JSON shape — pure, no I/O.

A benchmark's JSON output is turned into `Figure`s (bench.figures); a figure may carry a `Goal` (the
issue's target for it) and `Peer`s (figures the issue quotes for other monitors or for the floor),
and the runner reports each figure's median over the runs it was given, whether the goal is met,
and ours ÷ peer for each peer. Ratios are always ours over theirs: below 1 means less than the peer
(less CPU, fewer bytes), above 1 means more.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class Goal:
    """A target: the figure must be at most (`<=`) or at least (`>=`) `bound`."""

    op: Literal["<=", ">="]
    bound: float

    def met(self, value: float | None) -> bool | None:
        """Whether `value` meets the goal; None when there is no value to judge (nan or absent)."""
        if value is None or math.isnan(value):
            return None
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def label(self, unit: str) -> str:
        sign = "≤" if self.op == "<=" else "≥"
        return f"{sign} {_number(self.bound)}{_unit_suffix(unit)}"


@dataclass(frozen=True)
class Peer:
    """A figure to compare with: one value, or a range (`low`–`high`) such as httpx's 1.0–1.6 ms."""

    name: str
    low: float
    high: float | None = None

    def ratio(self, value: float) -> tuple[float, float] | float:
        """Ours ÷ theirs; for a range, (ours ÷ high, ours ÷ low)."""
        if self.high is None:
            return value / self.low
        return value / self.high, value / self.low


@dataclass(frozen=True)
class Figure:
    """One measured figure of one benchmark.

    Attributes:
        key: a stable identifier within the benchmark ("cpu_ms_per_probe.sqlite"): repeats are matched
            on it, and it names the figure in the JSON.
        label: what the table shows ("CPU per probe, SQLite").
        values: one value per repeat (each already the benchmark's own median where it runs several).
        unit: "ms", "MB", "/s", "B", "×" or "" (printed after the number).
    """

    key: str
    label: str
    values: tuple[float, ...]
    unit: str = ""
    goal: Goal | None = None
    peers: tuple[Peer, ...] = ()

    @property
    def median(self) -> float | None:
        usable = [v for v in self.values if not math.isnan(v)]
        return statistics.median(usable) if usable else None

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.median) if self.goal is not None else None

    def ratios(self) -> list[tuple[Peer, tuple[float, float] | float]]:
        median = self.median
        if median is None:
            return []
        return [(peer, peer.ratio(median)) for peer in self.peers if peer.low > 0]


@dataclass
class Outcome:
    """What became of one benchmark: its figures, or why there are none."""

    name: str
    status: Status
    figures: list[Figure] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    command: list[str] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    """The benchmark's own JSON, one per repeat."""
    output: str = ""
    """What the benchmark printed (its own table, or its traceback)."""


def merge_repeats(runs: list[list[Figure]]) -> list[Figure]:
    """One figure per key with the values of every repeat, in first-seen order."""
    merged: dict[str, Figure] = {}
    for figures in runs:
        for fig in figures:
            seen = merged.get(fig.key)
            merged[fig.key] = fig if seen is None else replace(seen, values=seen.values + fig.values)
    return list(merged.values())


# -- rendering ----------------------------------------------------------------------------------

COLUMNS = ("benchmark", "figure", "median", "target", "result", "ours ÷ peer")
ERROR_WIDTH = 90
"""Characters of a failed benchmark's error shown in the table."""


def rows(outcomes: list[Outcome]) -> list[tuple[str, str, str, str, str, str]]:
    """The table's rows: one per figure, one per benchmark that failed or was skipped."""
    table = []
    for outcome in outcomes:
        if outcome.status != "ok":
            word = "FAILED" if outcome.status == "failed" else "skipped"
            error = outcome.error or "-"  # whole in the JSON; the table keeps its columns readable
            if len(error) > ERROR_WIDTH:
                error = error[: ERROR_WIDTH - 1] + "…"
            table.append((outcome.name, error, "-", "-", word, ""))
            continue
        for fig in outcome.figures:
            median = fig.median
            value = "-" if median is None else f"{_number(median)}{_unit_suffix(fig.unit)}"
            target = fig.goal.label(fig.unit) if fig.goal is not None else ""
            result = {True: "met", False: "MISSED", None: ""}[fig.met] if fig.goal is not None else ""
            if fig.goal is not None and median is None:
                result = "no value"
            table.append((outcome.name, fig.label, value, target, result, format_ratios(fig)))
    return table


def format_ratios(fig: Figure) -> str:
    parts = []
    for peer, ratio in fig.ratios():
        text = f"{_number(ratio[0])}–{_number(ratio[1])}" if isinstance(ratio, tuple) else _number(ratio)
        parts.append(f"{text}× {peer.name}")
    return "; ".join(parts)


def format_table(outcomes: list[Outcome], *, markdown: bool = False) -> str:
    """The runner's table, as aligned text or as a Markdown table (for docs/benchmarks.md)."""
    body = rows(outcomes)
    if markdown:
        rule = "|" + "|".join("---:" if i == 2 else "---" for i in range(len(COLUMNS))) + "|"
        lines = ["| " + " | ".join(COLUMNS) + " |", rule]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [COLUMNS, *body]) for i in range(len(COLUMNS))]
    widths[-1] = 0  # the last column is not padded
    numeric = {2}  # medians right-aligned

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width) for i, (cell, width) in
            enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(COLUMNS), line((*("-" * w for w in widths[:-1]), "-" * 11)),
                      *(line(row) for row in body)])


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Counts of targets met and missed, and the benchmarks that failed or were skipped."""
    judged = [fig.met for o in outcomes for fig in o.figures if fig.goal is not None]
    return {
        "met": sum(1 for m in judged if m is True),
        "missed": sum(1 for m in judged if m is False),
        "failed": [o.name for o in outcomes if o.status == "failed"],
        "skipped": [o.name for o in outcomes if o.status == "skipped"],
    }


def to_json(outcomes: list[Outcome], meta: dict[str, Any]) -> dict[str, Any]:
    """The runner's JSON document: `meta` (mode, times, load average...), benchmarks, summary."""
    return {
        **meta,
        "benchmarks": [
            {
                "name": o.name,
                "status": o.status,
                "error": o.error or None,
                "seconds": round(o.seconds, 1),
                "command": o.command,
                "figures": [_figure_json(fig) for fig in o.figures],
                "raw": o.raw,
                "output": o.output,
            }
            for o in outcomes
        ],
        "summary": summary(outcomes),
    }


def from_json(document: dict[str, Any]) -> list[Outcome]:
    """Outcomes back from a document `to_json` wrote (to print an earlier run's table again)."""
    outcomes = []
    for bench in document["benchmarks"]:
        figures = [
            Figure(
                key=f["key"], label=f["label"], values=tuple(_num(v) for v in f["values"]), unit=f["unit"],
                goal=Goal(f["target"]["op"], f["target"]["bound"]) if f["target"] else None,
                peers=tuple(Peer(p["name"], p["low"], p["high"]) for p in f["peers"]),
            )
            for f in bench["figures"]
        ]
        outcomes.append(Outcome(bench["name"], bench["status"], figures, bench["error"] or "",
                                bench["seconds"], bench["command"], bench["raw"], bench.get("output", "")))
    return outcomes


def _figure_json(fig: Figure) -> dict[str, Any]:
    return {
        "key": fig.key,
        "label": fig.label,
        "unit": fig.unit,
        "median": _json_number(fig.median),
        "values": [_json_number(v) for v in fig.values],
        "target": {"op": fig.goal.op, "bound": fig.goal.bound} if fig.goal is not None else None,
        "met": fig.met,
        "peers": [{"name": p.name, "low": p.low, "high": p.high} for p in fig.peers],
        "ratios": [
            {"peer": peer.name, "ours_over_peer": list(r) if isinstance(r, tuple) else r}
            for peer, r in fig.ratios()
        ],
    }


def _json_number(value: float | None) -> float | None:
    """JSON has no nan or infinity: both become null."""
    return None if value is None or not math.isfinite(value) else value


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _number(value: float) -> str:
    """Three significant digits, no trailing zeros, thousands separated: 0.39, 12.4, 150, 1,837."""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    digits = 2 if abs(value) >= 1 else 3
    text = f"{value:.{digits if abs(value) < 10 else 1}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _unit_suffix(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit in ("×", "/s", "%") else f" {unit}"
