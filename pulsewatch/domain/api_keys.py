"""API keys: an organization's credential for the REST API, carrying one role of the permission matrix.

A key is `pwk_` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored,
with the first characters (`prefix`) for people to tell keys apart in `apikey list`.

Why SHA-256 and not argon2 (which passwords use): argon2's cost exists to slow down guessing of
low-entropy secrets. A key has 256 bits of randomness, so guessing it from its hash is hopeless at
any hash speed; what matters is that checking a key is cheap and needs no scan. A fast unsalted
digest can be looked up by an index in one query on every request, while argon2 would cost ~50 ms
of CPU per request — which would turn the API itself into a denial-of-service lever.

Pure: the caller makes the random key (`secrets.token_urlsafe`) and passes it in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import Actor, Membership, Role

if TYPE_CHECKING:
    from datetime import datetime

KEY_PREFIX = "pwk_"
"""Every key starts with this, so a leaked key is recognisable (secret scanners, logs)."""
SHOWN_PREFIX = 12
"""How many leading characters of a key are stored in clear to tell keys apart (`pwk_` + 8)."""
MIN_SECRET_LENGTH = 32
"""Characters of randomness after the prefix, at the least (token_urlsafe(32) gives 43)."""


def hash_key(key: str) -> str:
    """The stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(text: str) -> bool:
    """Whether `text` has the shape of a PulseWatch key (cheap refusal before any lookup)."""
    return text.startswith(KEY_PREFIX) and MIN_SECRET_LENGTH <= len(text) - len(KEY_PREFIX) <= 256


@dataclass(frozen=True)
class ApiKey:
    """One API key as stored: never the key itself, only its hash and its first characters.

    Attributes:
        org: the organization whose objects the key reaches (and no other).
        role: what the key may do there, by the same matrix as people (`Permission`).
        name: a label people choose ("ci-deploy"); may be empty.
        prefix: the key's first SHOWN_PREFIX characters, e.g. `pwk_3fA9x_Lq`.
        key_hash: hash_key(key).
        created_by: who created it (a user's email or a system actor's name).
        revoked_at: when it was revoked; a revoked key authenticates nothing.
        id: assigned by storage.
    """

    org: str
    role: Role
    name: str
    prefix: str
    key_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    id: int | None = None

    def __repr__(self) -> str:  # the hash is not secret, but nothing gains from it in logs
        return f"ApiKey(id={self.id}, org={self.org!r}, role={self.role.value}, name={self.name!r})"

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    @property
    def label(self) -> str:
        """How the audit log names the key: `apikey:7 (ci-deploy)`."""
        return f"apikey:{self.id}" + (f" ({self.name})" if self.name else "")

    def actor(self) -> Actor:
        """The key as an actor: its role in its organization, nothing anywhere else."""
        return Actor(self.label, (Membership(self.label, self.org, self.role),))


def new_api_key(key: str, *, org: str, role: Role, name: str, created_by: str, now: datetime) -> ApiKey:
    """The record of a freshly made key (the caller shows `key` once and forgets it).

    Raises:
        ValueError: `key` does not look like a PulseWatch key.
    """
    if not looks_like_key(key):
        raise ValueError(
            f"an API key starts with {KEY_PREFIX} and has at least {MIN_SECRET_LENGTH} more characters"
        )
    return ApiKey(
        org=org,
        role=role,
        name=name.strip(),
        prefix=key[:SHOWN_PREFIX],
        key_hash=hash_key(key),
        created_at=now,
        created_by=created_by,
    )
