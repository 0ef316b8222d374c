"""Durations written the way the config writes them, for messages that quote the config back."""

from __future__ import annotations


def compact_duration(seconds: float) -> str:
    """86400 → `1d`, 5400 → `1h30m`, 90.0 → `1m30s`, 0.5 → `500ms`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    text, rest = "", seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            text += f"{int(rest // size)}{unit}"
            rest -= (rest // size) * size
    if rest or not text:
        text += f"{rest:g}s"
    return text
