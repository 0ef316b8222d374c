"""The Incidents screen over the real services on a SQLite SqlStore: an incident opened the way the
engine opens one is acknowledged through the console and is acknowledged in the store, audited.

The engine link is the console tests' FakeEngine (no probing needed); everything below the screen
is real: console_services → AlertingAccess → AlertStore → SQLite.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from textual.widgets import DataTable, Input

from engine.storage.alerting_store import AlertStore
from engine.storage.store import open_store
from pulsewatch.cli.console_services import console_services
from pulsewatch.domain.alerting import IncidentStatus, Severity
from pulsewatch.domain.monitoring import Flip, Status
from tests.tui.fakes import NOW, FakeEngine, frozen_clock, make_check
from tui.app import PulseWatchApp
from tui.screens.incidents import IncidentsScreen
from tui.screens.text_prompt import TextPrompt

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.pilot import Pilot


async def until(pilot: Pilot[None], condition: Callable[[], bool], rounds: int = 40) -> None:
    """Wait for the thread workers (bounded), then for `condition` over bounded rounds."""
    for _ in range(rounds):
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the console did not reach the expected state")


@pytest.mark.asyncio
async def test_acknowledging_in_the_console_acknowledges_in_the_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'console.db'}")
    try:
        [checkout] = store.sync_checks([replace(make_check(0, "checkout"), id=None)]).added
        flip = Flip(check_id=checkout.id or 0, at=NOW, old=Status.UP, new=Status.DOWN, reason="HTTP 503")
        incident = AlertStore(store).apply_flip(flip, checkout, Severity.CRITICAL)
        assert incident is not None
        assert incident.id is not None
        app = PulseWatchApp(FakeEngine(), clock=frozen_clock, refresh_interval=0,
                            services=console_services(store))  # type: ignore[arg-type]
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: isinstance(app.screen, IncidentsScreen)
                        and app.screen.query_one("#table-open", DataTable).row_count == 1)
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one(Input).value = "rolling back the deploy"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, IncidentsScreen)
                        and app.screen.query_one("#table-acknowledged", DataTable).row_count == 1)
        stored = AlertStore(store).incident(incident.id)
        assert stored.status is IncidentStatus.ACKNOWLEDGED
        assert stored.acknowledged_by == "console"
        assert stored.ack_note == "rolling back the deploy"
    finally:
        store.close()
