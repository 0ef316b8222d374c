"""One copy of the parts that many stored checks have in common, when checks are read back.

A check read from the database is rebuilt from its JSON spec: its HTTP/TLS/stream options and its
parsed conditions would be new objects for every check, although thousands of checks usually carry
the same ones (an engine restarted on a synced 10,000-check database rebuilds every check). These
parts are frozen, so equal ones are interchangeable: `shared` hands out the first equal one seen.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pulsewatch.domain.conditions import Condition

T = TypeVar("T")

MAX_PARTS = 4096
"""Distinct parts kept; past that (options unique to each check), a check keeps its own."""

_parts: dict[object, object] = {}


def shared(part: T) -> T:
    """The copy of `part` (a frozen, hashable value) that earlier checks got, else `part` itself."""
    try:
        found = _parts.get(part)
    except TypeError:  # a field that cannot be hashed: nothing to share it by
        return part
    if found is not None:
        return found  # type: ignore[return-value]  # equal to `part`, so of its type
    if len(_parts) < MAX_PARTS:
        _parts[part] = part
    return part


@functools.lru_cache(maxsize=MAX_PARTS)
def parsed_conditions(sources: tuple[str, ...]) -> tuple[Condition, ...]:
    """The parsed `sources`, one tuple per distinct list (conditions are immutable).

    Raises:
        ConditionSyntaxError: a source does not parse (not cached: the caller names the check).
    """
    from pulsewatch.domain.conditions import parse_condition

    return tuple(parse_condition(source) for source in sources)
