"""Schema steps must stay in version order: `upgrade` runs the steps newer than the database's
version and takes the last one as current, so a step appended out of order would be skipped."""

from __future__ import annotations

from engine.storage.migrations import CURRENT_VERSION, MIGRATIONS


def test_versions_strictly_increase() -> None:
    versions = [step.version for step in MIGRATIONS]
    assert versions == sorted(set(versions))
    assert versions[-1] == CURRENT_VERSION
