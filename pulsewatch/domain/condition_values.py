"""Values in the condition language: numbers and durations as written, globs, and values shown to people.

Nothing here knows the AST, so both the parser (`condition_parser`) and the evaluator (`conditions`)
use it without importing each other.
"""

from __future__ import annotations

import json
import re
from typing import Final

NUMBER: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DURATION: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+")
_DURATION_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
DURATION_LIKE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?[A-Za-z]")
"""Text that looks like a duration (a number and a letter), for the "bad duration" message."""
_UNIT_MS: Final = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_MAX_SHOWN: Final = 80

Segment = tuple[str, re.Pattern[str] | None]
"""One piece of a glob between stars: the plain text, and a regex when it holds `?`."""


def parse_number(text: str) -> int | float | None:
    """`200`, `-1.5`, `1e3` as a number; None when the text is not one."""
    if NUMBER.fullmatch(text) is None:
        return None
    if "." not in text and "e" not in text and "E" not in text:
        try:
            return int(text)
        except ValueError:  # more digits than int() accepts from text: a float is close enough
            pass
    return float(text)


def parse_duration(text: str) -> int | float | None:
    """`48h`, `1h30m`, `500ms` as milliseconds; None when the text is not a duration."""
    if _DURATION.fullmatch(text) is None:
        return None
    total = sum((float(amount) * _UNIT_MS[unit] for amount, unit in _DURATION_PART.findall(text)), 0.0)
    return int(total) if total.is_integer() else total


def at(segment: Segment, value: str, position: int) -> bool:
    """Whether `segment` matches `value` exactly at `position`."""
    plain, regex = segment
    return value.startswith(plain, position) if regex is None else regex.match(value, position) is not None


def find(segment: Segment, value: str, start: int, end: int) -> int:
    """Where `segment` first matches inside value[start:end], or -1."""
    plain, regex = segment
    if regex is None:
        return value.find(plain, start, end)
    found = regex.search(value, start, end)
    return -1 if found is None else found.start()


def glob_segments(glob: str) -> tuple[Segment, ...]:
    """A glob cut at its stars; `?` pieces get a regex, plain ones are matched with str methods."""
    segments: list[Segment] = []
    for part in glob.split("*"):
        regex = None
        if "?" in part:
            regex = re.compile("".join("." if c == "?" else re.escape(c) for c in part), re.DOTALL)
        segments.append((part, regex))
    return tuple(segments)


def clip(text: str) -> str:
    """At most 80 characters of `text` (an ellipsis marks the cut)."""
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def quote(text: str) -> str:
    """`text` in double quotes, JSON-escaped and clipped: how strings appear in reasons."""
    if len(text) > _MAX_SHOWN - 3:
        text = text[: _MAX_SHOWN - 4] + "…"
    return json.dumps(text, ensure_ascii=False)


def show_number(value: float) -> str:
    """A float with at most one decimal: 12.0 → "12", 12.345 → "12.3"."""
    if abs(value) >= 1e15 or value != value:
        return repr(value)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def show_duration(ms: float) -> str:
    """Milliseconds as a person reads them: 950 → "950ms", 90061000 → "1d 1h"."""
    if abs(ms) == float("inf") or ms != ms:
        return repr(ms)
    sign, ms = ("-" if ms < 0 else ""), abs(ms)
    if ms < 1000:
        return f"{sign}{ms:.0f}ms"
    if ms >= 1e15:  # some 30,000 years: a broken clock or certificate, shown short rather than in 300 digits
        return f"{sign}{ms / 86_400_000:.3g}d"
    seconds = int(ms // 1000)
    units = ((86_400, "d"), (3_600, "h"), (60, "m"), (1, "s"))
    for i, (size, unit) in enumerate(units):
        if seconds >= size:
            shown = f"{seconds // size}{unit}"
            if i + 1 < len(units) and (rest := seconds % size // units[i + 1][0]):
                shown += f" {rest}{units[i + 1][1]}"
            return sign + shown
    return sign + "0s"  # unreachable: seconds >= 1 here
