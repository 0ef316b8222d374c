"""Retrying a short transaction that MySQL/MariaDB aborted over a lock conflict (deadlock, lock wait).

InnoDB picks a victim when two transactions wait on each other (error 1213, "Deadlock found when trying
to get lock") and gives up on a lock held too long (1205, "Lock wait timeout exceeded"); either way it
has rolled the transaction back, so running it again is safe and is what the MySQL manual advises.
Shard-lease claims of engines renewing at the same moment hit this now and then: retrying a couple of
times with a short jittered pause settles it inside the claim instead of logging an error and
delaying the lease by a whole renewal period.

Used inside `SqlStore.session()`, around `atomic()`: the session turns the last error into
StorageError only after the retries are spent.
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING, TypeVar

from engine.storage.db import DATABASE_ERRORS

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("pulsewatch.storage.lock_retry")

T = TypeVar("T")

LOCK_CONFLICTS = frozenset({1213, 1205})
"""MySQL/MariaDB error codes of a transaction rolled back over a lock: deadlock, lock wait timeout."""

ATTEMPTS = 3
"""Runs of the transaction in all (the first and two retries)."""

BASE_DELAY = 0.02
"""Seconds before the first retry; doubled for each further one, each scaled by a random 0.5–1.5."""


def lock_conflict_code(exc: BaseException) -> int | None:
    """The error code when `exc` is a lock conflict, digging through peewee's wrapping; else None."""
    orig = getattr(exc, "orig", None)  # peewee keeps the driver's error here (and copies its args)
    if isinstance(orig, BaseException):
        return lock_conflict_code(orig)
    args = exc.args
    if args and isinstance(args[0], int) and args[0] in LOCK_CONFLICTS:
        return args[0]
    return None


def retry_lock_conflicts(
    transaction: Callable[[], T],
    *,
    what: str,
    attempts: int = ATTEMPTS,
    base_delay: float = BASE_DELAY,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> T:
    """Run `transaction` (one whole `atomic()` block), again when the database aborted it over a lock.

    Args:
        transaction: runs the transaction from its start; it must be safe to run again after a
            rollback (a claim is: it reads what it decides on inside the transaction).
        what: names the transaction in the debug log ("lease claim of e1").
        attempts: runs in all.
        base_delay: seconds before the first retry (doubled each time, jittered so two engines that
            collided do not collide again in step).
        sleep: how to wait (blocking: this runs in a worker thread).
        jitter: a number in [0, 1) scaling each pause.

    Returns:
        What `transaction` returned.

    Raises:
        DATABASE_ERRORS: the last lock conflict once the attempts are spent, any other one at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return transaction()
        except DATABASE_ERRORS as exc:
            code = lock_conflict_code(exc)
            if code is None or attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1) * (0.5 + jitter())
            log.debug("%s: lock conflict (error %d), retry %d of %d in %.3f s", what, code, attempt,
                      attempts - 1, delay, extra={"code": code, "attempt": attempt})
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
