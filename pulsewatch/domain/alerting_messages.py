"""Message templates: one title and body per notification event, filled from an incident's facts.

Every message names the check, its status, the reason, how long it has lasted and the incident id,
so a person reading only the notification knows what broke, since when, and what to acknowledge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pulsewatch.domain.notifications import NotificationEvent

TEMPLATES: dict[NotificationEvent, tuple[str, str]] = {
    NotificationEvent.DOWN: (
        "DOWN: {check}",
        "{check} is {status}: {reason}\n{incident} · down for {duration}.{detail}",
    ),
    NotificationEvent.DEGRADED: (
        "DEGRADED: {check}",
        "{check} is {status}: {reason}\nDegraded for {duration}.{detail}",
    ),
    NotificationEvent.RECOVERED: (
        "RECOVERED: {check}",
        "{check} is {status} again after {duration}: {reason}\n{incident} resolved.{detail}",
    ),
    NotificationEvent.FLAPPING: (
        "FLAPPING: {check}",
        "{check} keeps changing status (now {status}): {reason}\n"
        "{incident} · further alerts for it wait until it is stable.{detail}",
    ),
    NotificationEvent.REMINDER: (
        "REMINDER: {check} is still {status}",
        "{check} has been {status} for {duration} and nobody has acknowledged it: {reason}\n"
        "{incident} · acknowledge it to stop these reminders.{detail}",
    ),
    NotificationEvent.ESCALATION: (
        "ESCALATION: {check} {status} for {duration}",
        "{check} has been {status} for {duration} without acknowledgement, so it is escalated to you: "
        "{reason}\n{incident}.{detail}",
    ),
}
"""Title and body per event, as `str.format` templates over the fields of `MessageFacts`."""


@dataclass(frozen=True)
class MessageFacts:
    """What a message says: the check, its status word, the reason, the duration, the incident."""

    check: str
    status: str
    reason: str
    duration: timedelta
    incident_id: int | None = None
    detail: str = ""
    """An extra sentence (why it was held, how many flips...); empty for none."""


def render(event: NotificationEvent, facts: MessageFacts) -> tuple[str, str]:
    """The (title, body) of a notification for `event`."""
    title, body = TEMPLATES[event]
    values = {
        "check": facts.check,
        "status": facts.status.upper(),
        "reason": facts.reason or "no reason given",
        "duration": format_span(facts.duration),
        "incident": f"Incident #{facts.incident_id}" if facts.incident_id is not None else "No incident",
        "detail": f"\n{facts.detail}" if facts.detail else "",
    }
    return title.format(**values), body.format(**values)


def format_span(span: timedelta) -> str:
    """A duration as people say it: `42s`, `5m 3s`, `2h 10m`, `3d 4h`."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"
