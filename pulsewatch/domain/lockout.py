"""Signing in: failed attempts, the lockout rule, and the errors a person sees.

Pure: the attempts and `now` are passed in. The rule is stateless — it looks at the recent attempts
and nothing else — so any number of consoles and API workers sharing one database agree on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Iterable


class AuthenticationFailed(PulseWatchError):
    """Signing in failed. The message never says whether the email or the password was wrong."""

    def __init__(self, message: str = "wrong email or password") -> None:
        super().__init__(message, title="Sign-in failed")


class LockedOut(AuthenticationFailed):
    """Too many recent failures: no password is even checked until `until`."""

    def __init__(self, email: str, until: datetime, now: datetime) -> None:
        super().__init__(lockout_message(email, until, now))
        self.until = until


@dataclass(frozen=True)
class LoginAttempt:
    """One sign-in attempt that checked a password (attempts refused by a lock are not recorded)."""

    email: str
    at: datetime
    ok: bool


@dataclass(frozen=True)
class LockoutPolicy:
    """`max_failures` failed attempts within `window`, with no success after them, lock the account
    for `lock_for` from the last of them.

    Keep `window` no longer than `lock_for`: then the failures behind one lock are older than the
    window when it ends, and the next attempt starts from a clean slate.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)

    def history_since(self, now: datetime) -> datetime:
        """How far back attempts matter: older ones can neither cause nor prolong a lock at `now`."""
        return now - self.window - self.lock_for

    def locked_until(self, attempts: Iterable[LoginAttempt], now: datetime) -> datetime | None:
        """When the current lock ends, or None when signing in is allowed at `now`.

        Args:
            attempts: the account's attempts since `history_since(now)` (more is harmless), any order.
            now: the instant of the new attempt.
        """
        ordered = sorted((a for a in attempts if a.at <= now), key=lambda a: a.at)
        last_success = max((i for i, a in enumerate(ordered) if a.ok), default=-1)
        failures = [a.at for a in ordered[last_success + 1 :]]
        until: datetime | None = None
        for i in range(self.max_failures - 1, len(failures)):
            if failures[i] - failures[i - self.max_failures + 1] <= self.window:
                candidate = failures[i] + self.lock_for
                until = candidate if until is None else max(until, candidate)
        return until if until is not None and until > now else None


def lockout_message(email: str, until: datetime, now: datetime) -> str:
    """What a locked-out person reads: why, until when (UTC), and roughly how long that is."""
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"too many failed sign-ins for {email}: locked until "
        f"{until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC (in {minutes} {unit})"
    )
