"""A database outage reported by the engine shows in the console until the database is back."""

from __future__ import annotations

import pytest

from pulsewatch.domain.events import StorageDown, StorageRestored
from tests.tui.fakes import NOW, STARTED, FakeEngine
from tests.tui.helpers import SIZE, make_app, settle, started


@pytest.mark.asyncio
class TestStorageOutage:
    async def test_it_shows_the_outage_and_its_end(self) -> None:
        engine = FakeEngine()
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            engine.emit(STARTED)
            await started(pilot, app)
            assert "DATABASE UNREACHABLE" not in app.sub_title

            engine.emit(StorageDown(engine="test-engine", at=NOW, error="connection refused", pending=42))
            await settle(pilot, lambda: app.board.storage_down is not None)
            assert "DATABASE UNREACHABLE" in app.sub_title
            assert app.board.storage_down is not None
            assert any("connection refused" in str(n.message) for n in app._notifications)

            engine.emit(StorageRestored(engine="test-engine", at=NOW, down_for_s=30.0, backlog=42))
            await settle(pilot, lambda: app.board.storage_down is None)
            assert "DATABASE UNREACHABLE" not in app.sub_title
            assert app.board.storage_down is None
            assert any("database is back" in str(n.message) for n in app._notifications)
