"""A status page as HTML: server-rendered, every text escaped, no script, light and dark, fit for a phone.

The 90 daily bars are a CSS grid that shrinks with the screen (each bar has a tooltip with the day and
its uptime); colours come from CSS variables switched by `prefers-color-scheme`.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import Status

if TYPE_CHECKING:
    from datetime import datetime

    from engine.http.status_view import CheckView, DayBar, MaintenanceView, PageView

_WORDS = {
    Status.UP: "Operational",
    Status.DOWN: "Outage",
    Status.DEGRADED: "Degraded",
    Status.MAINTENANCE: "Maintenance",
    Status.PAUSED: "Paused",
    Status.UNKNOWN: "No data yet",
}
_BANNERS = {
    Status.UP: "All systems operational",
    Status.DOWN: "Some systems are down",
    Status.DEGRADED: "Some systems are degraded",
    Status.MAINTENANCE: "Maintenance in progress",
    Status.UNKNOWN: "Waiting for the first checks",
}

STYLE = """
:root { color-scheme: light dark; --bg: #f6f8fa; --card: #ffffff; --fg: #1f2328; --muted: #59636e;
  --line: #d1d9e0; --up: #1a7f37; --down: #d1242f; --degraded: #bf8700; --maintenance: #0969da;
  --none: #d1d9e0; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --card: #151b23; --fg: #e6edf3;
  --muted: #9198a1; --line: #3d444d; --up: #3fb950; --down: #f85149; --degraded: #d29922;
  --maintenance: #4493f8; --none: #3d444d; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system,
  "Segoe UI", Roboto, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
p { margin: .25rem 0; } .muted { color: var(--muted); font-size: .9rem; }
.banner { border-radius: .5rem; padding: .9rem 1rem; margin: 1rem 0; color: #fff; font-weight: 600; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem;
  margin: .5rem 0; }
.row { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .25rem .75rem;
  align-items: baseline; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.bars { display: grid; grid-template-columns: repeat(90, 1fr); gap: 1px; height: 2rem;
  margin: .5rem 0 .25rem; }
.bars span { border-radius: 1px; min-width: 1px; }
.s-up { color: var(--up); } .s-down { color: var(--down); } .s-degraded { color: var(--degraded); }
.s-maintenance { color: var(--maintenance); } .s-paused, .s-unknown { color: var(--muted); }
.b-up { background: var(--up); } .b-down { background: var(--down); }
.b-degraded { background: var(--degraded); }
.b-maintenance { background: var(--maintenance); } .b-paused, .b-unknown { background: var(--muted); }
.d-none { background: var(--none); } .d-good { background: var(--up); }
.d-fair { background: var(--degraded); }
.d-bad { background: var(--down); }
ul { padding-left: 1.2rem; margin: .25rem 0; }
@media (max-width: 30rem) { h1 { font-size: 1.35rem; } main { padding: 1rem .6rem 2rem; }
  .bars { height: 1.6rem; } }
"""


def render_page(view: PageView) -> str:
    """The whole page."""
    overall = view.overall
    parts = [
        _head(view.title),
        f"<main><h1>{escape(view.title)}</h1>",
        f"<p class=muted>{escape(view.description)}</p>" if view.description else "",
        f'<div class="banner b-{overall.value}" role=status>{escape(_BANNERS.get(overall, "Status"))}</div>',
        _incidents(view),
        _maintenance(view.maintenance),
    ]
    for group in view.groups:
        parts.append(f"<h2>{escape(group.name)}</h2>")
        parts += [_check(c) for c in group.checks] or ["<p class=muted>No checks in this group.</p>"]
    parts.append(
        f"<p class=muted>Updated {_when(view.generated_at)} UTC · bars show each of the last 90 days (UTC), "
        "oldest on the left.</p></main></body></html>"
    )
    return "\n".join(p for p in parts if p)


def render_missing(slug: str) -> str:
    """The 404 page: no status page for this organization."""
    return (
        _head("No status page")
        + f"<main><h1>No status page</h1><p>There is no public status page called {escape(slug)!s}.</p>"
        "</main></body></html>"
    )


def _head(title: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<meta name=color-scheme content="light dark">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
    )


def _check(check: CheckView) -> str:
    status = check.status.value
    uptime = "—" if check.uptime_pct is None else f"{_pct(check.uptime_pct)} uptime"
    bars = "".join(_bar(d) for d in check.days)
    return (
        f'<div class=card data-check="{escape(check.name)}"><div class=row>'
        f"<span class=name>{escape(check.name)}</span>"
        f'<span class="s-{status}">{escape(_WORDS[check.status])}</span></div>'
        f'<div class=bars aria-label="uptime over the last 90 days">{bars}</div>'
        f"<div class=row><span class=muted>90 days ago</span><span class=muted>{escape(uptime)}</span>"
        "<span class=muted>today</span></div></div>"
    )


def _bar(day: DayBar) -> str:
    date = f"{day.day:%Y-%m-%d}"
    if day.uptime_pct is None:
        return f'<span class=d-none title="{date}: no data"></span>'
    grade = "good" if day.uptime_pct >= 99.0 else "fair" if day.uptime_pct >= 95.0 else "bad"
    return f'<span class=d-{grade} title="{date}: {_pct(day.uptime_pct)}"></span>'


def _incidents(view: PageView) -> str:
    if not view.incidents:
        return ""
    items = "".join(
        f"<li><span class=name>{escape(i.check)}</span> — {escape(i.status)} "
        f"since {_when(i.opened_at)} UTC</li>"
        for i in view.incidents
    )
    return f"<h2>Open incidents</h2><div class=card><ul>{items}</ul></div>"


def _maintenance(windows: tuple[MaintenanceView, ...]) -> str:
    if not windows:
        return ""
    items = []
    for w in windows:
        if w.recurring is not None:
            when = f"recurring ({escape(w.recurring)})"
        elif w.start is not None and w.end is not None:
            when = f"{_when(w.start)} – {_when(w.end)} UTC"
        else:
            when = ""
        state = "in progress" if w.active else "scheduled"
        items.append(f"<li><span class=name>{escape(w.name)}</span> — {state} {when}</li>")
    return f"<h2>Maintenance</h2><div class=card><ul>{''.join(items)}</ul></div>"


def _pct(value: float) -> str:
    return f"{value:.2f}%" if value < 100 else "100%"


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"
