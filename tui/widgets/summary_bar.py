"""One line of counts per status above the grid: what needs attention, at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Horizontal
from textual.widgets import Label

from tui import render

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.app import ComposeResult

    from pulsewatch.domain.monitoring import Status


class SummaryBar(Horizontal):
    """"12 checks  1 down  9 up  2 paused": one label per status, coloured by `$status-*` in app.tcss.

    Zero counts are hidden (class `-zero`) rather than removed, so the labels keep their order.
    """

    def compose(self) -> ComposeResult:
        yield Label("0 checks", id="summary-total")
        for status in render.STATUS_ORDER:
            yield Label("", id=f"summary-{status.value}", classes=f"summary-count -{status.value} -zero")

    def show(self, counts: Mapping[Status, int]) -> None:
        """Display `counts` (every status, zero included, as `render.summary_counts` returns)."""
        total = sum(counts.values())
        self.query_one("#summary-total", Label).update(f"{total} check{'' if total == 1 else 's'}")
        for status, count in counts.items():
            label = self.query_one(f"#summary-{status.value}", Label)
            label.update(f"{count} {status.value}")
            label.set_class(count == 0, "-zero")
