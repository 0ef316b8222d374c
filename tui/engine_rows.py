"""The Engines screen's words: pure functions from an engine roster to cell texts (no Textual).

Ages are measured on the database's clock (`EngineRoster.read_at`), the clock the engines' own lease
rules use, so "alive" here means what it means to the engine that would take the shards over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulsewatch.domain.engines import Liveness
from tui.render import NOTHING, format_ago, format_count, format_latency, format_timestamp

if TYPE_CHECKING:
    from pulsewatch.domain.engines import EngineRoster, EngineSummary

COLUMNS: tuple[tuple[str, str], ...] = (
    ("engine", "Engine"),
    ("region", "Region"),
    ("state", "State"),
    ("shards", "Shards"),
    ("checks", "Checks"),
    ("late50", "Late p50"),
    ("late99", "Late p99"),
    ("rate", "Probes/s"),
    ("started", "Started"),
    ("version", "Version"),
)
"""(key, heading) of the engines table, in display order."""

DEFAULT_REGION = "(default)"
"""How the region of engines configured without one reads."""


def format_rate(per_second: float | None) -> str:
    """Probes per second: "—" before the first report, "0.40", "12.5", "1,234"."""
    if per_second is None:
        return NOTHING
    if per_second < 10:
        return f"{per_second:.2f}"
    if per_second < 100:
        return f"{per_second:.1f}"
    return format_count(round(per_second))


def state_text(roster: EngineRoster, engine: EngineSummary) -> str:
    """"alive · 3s ago", "stale · 2m ago" (the last heartbeat) or "stopped · 5m ago" (the clean stop)."""
    liveness = roster.liveness(engine)
    since = engine.stopped_at if liveness is Liveness.STOPPED and engine.stopped_at else engine.heartbeat_at
    return f"{liveness.value} · {format_ago(since, roster.read_at)}"


def engine_cells(roster: EngineRoster, engine: EngineSummary) -> dict[str, str]:
    """The text of every cell of one engine's row, by column key."""
    load = engine.load
    live = roster.liveness(engine) is Liveness.ALIVE
    return {
        "engine": engine.name,
        "region": engine.region or DEFAULT_REGION,
        "state": state_text(roster, engine),
        "shards": str(engine.shards),
        "checks": format_count(engine.checks),
        # A dead engine's last figures would read as current: only a live one's are shown.
        "late50": format_latency(load.lateness_p50_s * 1000) if load and live else NOTHING,
        "late99": format_latency(load.lateness_p99_s * 1000) if load and live else NOTHING,
        "rate": format_rate(load.probes_per_s) if load and live else NOTHING,
        "started": format_timestamp(engine.started_at, roster.read_at),
        "version": engine.version or NOTHING,
    }


def roster_heading(roster: EngineRoster, here: str) -> str:
    """"3 engines: 2 alive, 1 stale · this console runs demo" (`here`: the console's own engine)."""
    if not roster.engines:
        return "No engines"
    counts = {state: 0 for state in Liveness}
    for engine in roster.engines:
        counts[roster.liveness(engine)] += 1
    parts = ", ".join(f"{n} {state.value}" for state, n in counts.items() if n)
    total = len(roster.engines)
    text = f"{total} engine{'' if total == 1 else 's'}: {parts}"
    if here and any(e.name == here for e in roster.engines):
        text += f" · this console runs {here}"
    return text
