"""SqlApiKeyStore: API keys on the SqlStore's database (SQLite or MySQL/MariaDB).

Implements `pulsewatch.services.api_keys.ApiKeyPort`. Each method is one unit of work; inside a
`SqlAccountsStore.transaction()` it joins that transaction (same database, nested atomic blocks).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from engine.storage.apikey_records import ApiKeyRecord
from engine.storage.store import SqlStore
from pulsewatch.domain.api_keys import ApiKey
from pulsewatch.errors import NotFoundError


class SqlApiKeyStore:
    """API keys: add, find by hash, list, revoke. Thread-safe like the SqlStore under it."""

    def __init__(self, sql: SqlStore) -> None:
        self._sql = sql

    def add_key(self, key: ApiKey) -> ApiKey:
        """Store a new key; returns it with its id."""
        with self._sql.session("save an API key in"), self._sql.atomic():
            key_id = ApiKeyRecord.insert(**ApiKeyRecord.columns(key)).execute()
            return ApiKeyRecord.get_by_id(key_id).to_domain()

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash (revoked or not), or None: one indexed lookup per API request."""
        with self._sql.session("read API keys from"):
            record = ApiKeyRecord.get_or_none(ApiKeyRecord.key_hash == key_hash)
            return None if record is None else record.to_domain()

    def key_by_id(self, key_id: int) -> ApiKey:
        """One key. Raises NotFoundError."""
        with self._sql.session("read API keys from"):
            record = ApiKeyRecord.get_or_none(ApiKeyRecord.id == key_id)
            if record is None:
                raise NotFoundError(f"no API key with id {key_id}")
            return record.to_domain()

    def list_keys(self, orgs: Collection[str] | None) -> list[ApiKey]:
        """Keys of `orgs` (None: all), ordered by (org, id); revoked ones included."""
        if orgs is not None and not orgs:
            return []
        with self._sql.session("read API keys from"):
            query = ApiKeyRecord.select().order_by(ApiKeyRecord.org, ApiKeyRecord.id)
            if orgs is not None:
                query = query.where(ApiKeyRecord.org.in_(sorted(orgs)))
            return [r.to_domain() for r in query]

    def revoke_key(self, key_id: int, now: datetime) -> ApiKey:
        """Revoke a key now (revoking twice keeps the first time). Raises NotFoundError."""
        with self._sql.session("revoke an API key in"), self._sql.atomic():
            ApiKeyRecord.update(revoked_at=now).where(
                (ApiKeyRecord.id == key_id) & ApiKeyRecord.revoked_at.is_null()
            ).execute()
            record = ApiKeyRecord.get_or_none(ApiKeyRecord.id == key_id)
            if record is None:
                raise NotFoundError(f"no API key with id {key_id}")
            return record.to_domain()
