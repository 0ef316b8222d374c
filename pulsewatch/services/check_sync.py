"""Bringing the checks of the config into the store: a pure plan of what to add, change and remove."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import API_ORIGIN

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pulsewatch.domain.monitoring import Check


@dataclass(frozen=True)
class CheckSyncPlan:
    """The difference between desired checks (config) and stored checks.

    `changed` pairs carry the stored id on the desired check, so applying the plan is a plain
    update; `unchanged` checks keep their id and their state.
    """

    added: tuple[Check, ...]
    changed: tuple[Check, ...]
    removed: tuple[Check, ...]
    unchanged: tuple[Check, ...]
    kept: tuple[Check, ...] = ()
    """Stored checks the config does not declare but does not own either (created through the REST
    API): left as they are, with their ids."""

    @property
    def is_empty(self) -> bool:
        """True when the store already matches the config."""
        return not (self.added or self.changed or self.removed)


def plan_check_sync(desired: Iterable[Check], stored: Iterable[Check]) -> CheckSyncPlan:
    """Compare the config's checks with the stored ones by (org, name) and fingerprint.

    A stored check the config does not declare is removed only when the config owns it: checks
    created through the REST API (`origin` API_ORIGIN) are kept. A config check with the name of an
    API-created one takes it over (it is "changed", and from then on the file owns it).

    Args:
        desired: checks built from the config (ids are ignored).
        stored: checks as saved, with ids.

    Returns:
        The plan; `changed` and `unchanged` checks carry the stored id.
    """
    stored_by_key = {c.key: c for c in stored}
    added: list[Check] = []
    changed: list[Check] = []
    unchanged: list[Check] = []
    for check in desired:
        old = stored_by_key.pop(check.key, None)
        if old is None:
            added.append(replace(check, id=None))
        elif old.fingerprint() == check.fingerprint():
            unchanged.append(old)
        else:
            changed.append(replace(check, id=old.id))
    left = stored_by_key.values()
    removed = tuple(c for c in left if c.origin != API_ORIGIN)
    kept = tuple(c for c in left if c.origin == API_ORIGIN)
    return CheckSyncPlan(tuple(added), tuple(changed), removed, tuple(unchanged), kept)
