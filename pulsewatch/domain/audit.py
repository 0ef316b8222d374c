"""The audit log: who did what, to what, when — with the state before and after, as JSON-able dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

JsonDict = dict[str, Any]
"""A JSON-able mapping: str keys; str, int, float, bool, None, lists and dicts as values."""

USER_ADD = "user.add"
USER_PASSWORD = "user.password"  # noqa: S105 — an action word, not a password
USER_DISABLE = "user.disable"
USER_ENABLE = "user.enable"
ORG_CREATE = "org.create"
ORG_UPDATE = "org.update"
TEAM_CREATE = "team.create"
MEMBER_ADD = "member.add"
MEMBER_ROLE = "member.role"
MEMBER_REMOVE = "member.remove"
CHECK_CREATE = "check.create"
CHECK_UPDATE = "check.update"
CHECK_DELETE = "check.delete"
CHECK_PAUSE = "check.pause"
CHECK_RESUME = "check.resume"
"""The actions recorded today. Other contexts add their own words (`incident.ack`, `channel.update`):
`action` is free text in storage, so a new kind of change needs no migration."""


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change.

    Attributes:
        at: when it happened (aware UTC).
        actor: who did it: a user's email, or the system actor's name ("config", "bootstrap").
        action: what kind of change, e.g. `member.role`.
        target: what was changed, as a person names it: `bo@acme.test`, `acme/api`.
        org: the organization whose log it belongs to (None: no organization, e.g. a user in none).
        before: the relevant state before (None when the thing was created).
        after: the relevant state after (None when it was removed). Never secrets: no hashes, no
            header values, no channel URLs.
        id: assigned by storage.
    """

    at: datetime
    actor: str
    action: str
    target: str
    org: str | None = None
    before: JsonDict | None = None
    after: JsonDict | None = None
    id: int | None = None

    def to_json(self) -> JsonDict:
        """The entry as `pulsewatch audit --json` prints it."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "org": self.org,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field whose value differs, in the order of `after`."""
        return changed_fields(self.before or {}, self.after or {})


def changed_fields(before: JsonDict, after: JsonDict) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each key of either dict whose values differ; `after`'s keys first."""
    keys = [*after, *(k for k in before if k not in after)]
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
