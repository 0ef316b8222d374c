"""Peewee records of API keys: one row per key, found by the SHA-256 of the key (unique index)."""

from __future__ import annotations

from peewee import CharField

from engine.storage.fields import InstantField, StableAutoField
from engine.storage.records import BaseRecord
from pulsewatch.domain.accounts import Role
from pulsewatch.domain.api_keys import ApiKey


class ApiKeyRecord(BaseRecord):
    """An organization's API key: its role, a label, its hash and its first characters; never the key."""

    id = StableAutoField()
    org = CharField(max_length=100, index=True)
    role = CharField(max_length=16)
    name = CharField(max_length=200, default="")
    prefix = CharField(max_length=32)
    key_hash = CharField(max_length=64, unique=True)
    created_at = InstantField()
    created_by = CharField(max_length=254)
    revoked_at = InstantField(null=True)

    class Meta:
        table_name = "api_keys"

    def to_domain(self) -> ApiKey:
        return ApiKey(
            org=self.org,
            role=Role(self.role),
            name=self.name,
            prefix=self.prefix,
            key_hash=self.key_hash,
            created_at=self.created_at,
            created_by=self.created_by,
            revoked_at=self.revoked_at,
            id=self.id,
        )

    @classmethod
    def columns(cls, key: ApiKey) -> dict[str, object]:
        """The values to insert for a new key (its id is assigned by the database)."""
        return {
            "org": key.org,
            "role": key.role.value,
            "name": key.name[:200],
            "prefix": key.prefix,
            "key_hash": key.key_hash,
            "created_at": key.created_at,
            "created_by": key.created_by[:254],
            "revoked_at": key.revoked_at,
        }


APIKEY_RECORDS = (ApiKeyRecord,)
"""The tables of the API-keys context (migration 8)."""
