"""Pure formatting for the console: every string a screen shows about a check is made here.

No Textual imports and no clock: callers pass `now`, so these functions are unit-tested with plain
values (tests/unit/test_render.py) and the snapshots stay stable under a frozen clock.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult

STATUS_ORDER: tuple[Status, ...] = (
    Status.DOWN,
    Status.DEGRADED,
    Status.UP,
    Status.PAUSED,
    Status.MAINTENANCE,
    Status.UNKNOWN,
)
"""Display order of statuses in summaries: what needs attention first."""

NOTHING = "—"
"""Shown where there is no value yet (never probed, no latency)."""


def format_latency(ms: float | None) -> str:
    """A probe duration for a table cell.

    Args:
        ms: the duration in milliseconds, or None when there is none yet.

    Returns:
        "—", "0.4 ms", "245 ms", "1.25 s" or "12.3 s": about three significant digits, so that a
        column of latencies reads at a glance.
    """
    if ms is None:
        return NOTHING
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 10_000:
        return f"{ms / 1000:.2f} s"
    return f"{ms / 1000:.1f} s"


def format_span(seconds: float) -> str:
    """A length of time in the two largest units a person needs: "45s", "3m", "2h 5m", "3d 4h"."""
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"{whole}s"
    minutes, _ = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def format_ago(then: datetime | None, now: datetime) -> str:
    """How long ago something happened, coarse enough to read while it ticks: "12s ago", "5m ago".

    Args:
        then: when it happened, or None when it never did.
        now: the current instant (from the injected clock).

    Returns:
        "never", "just now" (under a second, or a timestamp slightly in the future because engine
        and console clocks differ) or "<span> ago" with only the largest unit.
    """
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    if seconds < 1:
        return "just now"
    return f"{format_span(seconds).split(' ')[0]} ago"


def format_duration(seconds: float) -> str:
    """A configured duration in the syntax the config file uses: "500ms", "30s", "5m", "1h30m"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, whole = divmod(whole, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def format_timestamp(at: datetime, now: datetime) -> str:
    """An instant in UTC: the time alone when it is today, else date and time."""
    if at.date() == now.date():
        return at.strftime("%H:%M:%S")
    return at.strftime("%Y-%m-%d %H:%M")


def status_label(status: Status, since: datetime | None = None, now: datetime | None = None) -> str:
    """The status word a person reads, with how long it has held when `since` and `now` are known.

    Returns:
        "DOWN", or "DOWN for 3m" when both instants are given.
    """
    word = status.value.upper()
    if since is None or now is None:
        return word
    return f"{word} for {format_span((now - since).total_seconds())}"


def state_label(state: CheckState, now: datetime) -> str:
    """The status cell of a check: status, how long, and whether it is flapping."""
    label = status_label(state.status, state.since, now)
    return f"{label} ~flapping" if state.flapping else label


def one_line(text: str, limit: int = 60) -> str:
    """Collapse whitespace and cut to `limit` characters with an ellipsis, for single-line cells."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)] + "…"


def summary_counts(states: Iterable[CheckState]) -> dict[Status, int]:
    """How many checks are in each status, every status present (zero included), in display order."""
    return summary_counts_from(Counter(state.status for state in states))


def summary_counts_from(counted: Mapping[Status, int]) -> dict[Status, int]:
    """`summary_counts` from counts kept elsewhere (missing statuses count zero)."""
    return {status: counted.get(status, 0) for status in STATUS_ORDER}


def summary_text(counts: dict[Status, int]) -> str:
    """One line for a summary bar: "7 checks · 1 down · 5 up · 1 paused" (zero counts left out)."""
    total = sum(counts.values())
    parts = [f"{total} check" + ("" if total == 1 else "s")]
    parts += [f"{n} {status.value}" for status, n in counts.items() if n]
    return " · ".join(parts)


def check_config_lines(check: Check) -> tuple[str, ...]:
    """The check's definition as the few lines the detail screen shows under its name."""
    target = f"{check.http.method} {check.url}" if check.kind in ("http", "https") else check.url
    lines = [
        target,
        f"every {format_duration(check.interval)} · timeout {format_duration(check.timeout)}"
        f" · down after {check.failure_threshold} failure{'s' if check.failure_threshold != 1 else ''}"
        f" · up after {check.success_threshold} success{'es' if check.success_threshold != 1 else ''}",
    ]
    if check.conditions:
        lines.append("conditions: " + " and ".join(c.source for c in check.conditions))
    else:
        lines.append("conditions: none (any answer counts as up)")
    if check.team or check.tags:
        lines.append(" · ".join(filter(None, [check.team and f"team {check.team}", *check.tags])))
    return tuple(lines)


def result_outcome(result: ProbeResult) -> str:
    """"ok" or "fail" for one probe, with the HTTP status code when there is one."""
    word = "ok" if result.ok else "fail"
    return f"{word} {result.status_code}" if result.status_code is not None else word


def result_reason(result: ProbeResult) -> str:
    """Why a probe failed, in the words a person acts on; empty for a success."""
    if result.ok:
        return ""
    return result.message or result.error or "failed"


def flip_label(flip: Flip) -> str:
    """A transition as "UP → DOWN"."""
    return f"{status_label(flip.old)} → {status_label(flip.new)}"


SPARK_LEVELS = "▁▂▃▄▅▆▇█"
"""Eighth blocks, lowest to highest: one character per probe in a sparkline."""


def sparkline(values: Sequence[float], width: int) -> str:
    """The newest `width` latencies as a row of eighth blocks, right-aligned, scaled min..max.

    Scaling to the row's own range shows the shape of a check's latency (a spike, a drift) at the
    cost of exaggerating noise on a steady check; a perfectly flat series is drawn at the bottom.

    Args:
        values: latencies in milliseconds, oldest first.
        width: how many characters the cell has.

    Returns:
        Exactly `width` characters: spaces on the left where there are fewer values than that.
    """
    if width <= 0:
        return ""
    shown = list(values[-width:])
    if not shown:
        return " " * width
    low, high = min(shown), max(shown)
    span = high - low
    top = len(SPARK_LEVELS) - 1
    if span <= 1e-9:
        chars = SPARK_LEVELS[0] * len(shown)
    else:
        chars = "".join(SPARK_LEVELS[round((value - low) / span * top)] for value in shown)
    return chars.rjust(width)


def format_uptime(ok: int, total: int) -> str:
    """A share of successful probes: "—" without any, "100%", else two decimals rounded DOWN.

    Rounding down keeps 99.996% from reading as a perfect "100.00%": one failure must show.
    """
    if total <= 0:
        return NOTHING
    if ok >= total:
        return "100%"
    hundredths = ok * 10_000 // total
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def format_count(count: int) -> str:
    """A count with thousands separators: "10,000"."""
    return f"{count:,}"


def next_org(orgs: tuple[str, ...], current: str | None) -> str | None:
    """The organization after `current`, wrapping round; None when there is nowhere else to go.

    The Teams, Billing and Audit screens show one organization at a time and cycle with `o`.
    """
    if len(orgs) < 2 or current not in orgs:
        return None
    return orgs[(orgs.index(current) + 1) % len(orgs)]


def orgs_hint(orgs: tuple[str, ...]) -> str:
    """The heading suffix telling a person with several organizations how to see the next one."""
    return f" · {len(orgs)} organizations, o shows the next" if len(orgs) > 1 else ""
