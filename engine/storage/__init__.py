"""Storage: checks, states, results and flips in SQLite or MySQL/MariaDB, behind `open_store(url)`.

Peewee stays inside this package: everything it hands out is a domain object or a plain tuple.
"""

from __future__ import annotations

from engine.storage.store import SqlStore, open_store

__all__ = ["SqlStore", "open_store"]
