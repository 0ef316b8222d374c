"""Argon2id password hashes (argon2-cffi): the production `PasswordHasher`.

The defaults are argon2-cffi's (RFC 9106 low-memory profile: 64 MiB, 3 passes, ~0.1 s here), which
makes each guess expensive for someone holding a stolen database. Tests may pass cheaper
parameters: the algorithm is the same, only the cost differs.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """Implements `pulsewatch.services.ports.PasswordHasher` with argon2id."""

    def __init__(
        self,
        *,
        time_cost: int | None = None,
        memory_cost_kib: int | None = None,
        parallelism: int | None = None,
    ) -> None:
        defaults = argon2.PasswordHasher()
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost or defaults.time_cost,
            memory_cost=memory_cost_kib or defaults.memory_cost,
            parallelism=parallelism or defaults.parallelism,
        )

    def hash(self, password: str) -> str:
        """A new salted argon2id hash (a self-describing `$argon2id$...` string)."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches `password_hash`; False when not, or the hash is unreadable."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):  # a mismatch is a VerificationError
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters: it is replaced at the next sign-in."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
