"""Installation settings on the SqlStore's database: values created once and shared by every engine.

`installation_secret` is made on first use — 32 random bytes from the operating system's CSPRNG —
and read back ever after, so generated heartbeat tokens (HMACs keyed with it) stay the same across
restarts and across engines sharing the database, yet cannot be computed from a check's name.
Two processes creating it at once both insert-or-ignore and then read the one row that won.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from engine.storage.settings_records import SettingRecord
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from engine.storage.store import SqlStore

INSTALLATION_SECRET = "installation_secret"  # noqa: S105 — the name of a setting, not a secret
"""The key of the secret that keys generated heartbeat tokens."""
SECRET_BYTES = 32


def installation_secret(sql: SqlStore) -> bytes:
    """The installation's secret, created (once, for every engine sharing the database) if missing.

    Raises:
        StorageError: the database cannot be read or written, or the stored secret is unreadable.
    """
    with sql.session("read the installation secret from"), sql.atomic():
        SettingRecord.insert(
            key=INSTALLATION_SECRET, value=secrets.token_hex(SECRET_BYTES), created_at=datetime.now(UTC)
        ).on_conflict_ignore().execute()
        stored = SettingRecord.get(SettingRecord.key == INSTALLATION_SECRET).value
    try:
        secret = bytes.fromhex(stored)
    except ValueError:
        raise StorageError("the stored installation secret is not hex: restore it from a backup") from None
    if len(secret) < 16:
        raise StorageError("the stored installation secret is too short: restore it from a backup")
    return secret
