"""The grid's column layout and cell texts (pure: tui/grid_cells.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tui.fakes import CHECKS, NOW, STATES, result
from tui.grid_cells import COLUMNS, cell_texts, fit, layout
from tui.model import CheckView
from tui.trends import EMPTY_TREND


def test_every_column_fits_a_wide_terminal_and_the_reason_takes_the_rest() -> None:
    placed = layout(120, 14)
    assert [key for key, _, _ in placed] == [c.key for c in COLUMNS]
    key, x, width = placed[-1]
    assert key == "reason"
    assert x + 1 + width == 120


def test_a_narrow_terminal_drops_columns_from_the_right() -> None:
    assert [key for key, _, _ in layout(60, 14)] == ["name", "status", "latency"]


def test_cells_of_a_check_with_a_trend() -> None:
    trend = EMPTY_TREND
    for seconds, ms, ok in ((60, 100.0, True), (30, 200.0, False), (0, 150.0, True)):
        trend = trend.add(result(2, NOW - timedelta(seconds=seconds), ms, ok=ok))
    cells = cell_texts(CheckView(CHECKS[1], STATES[1]), trend, NOW)
    assert cells == {
        "name": "checkout",
        "status": "DOWN for 3m",
        "latency": "88 ms",
        "trend": " " * 13 + "▁█▅",
        "up24": "66.66%",
        "up7": "66.66%",
        "checked": "4s ago",
        "reason": "expected [STATUS] == 200, got 503",
    }


@pytest.mark.parametrize(
    ("text", "width", "right", "out"),
    [
        ("abc", 5, False, "abc  "),
        ("abc", 5, True, "  abc"),
        ("abcdef", 4, False, "abc…"),
        ("日本語", 4, False, "日 …"),  # 本 is two cells wide: it cannot half fit
        ("日本", 5, True, " 日本"),
        ("x", 0, False, ""),
    ],
)
def test_fit_pads_or_cuts_to_cells(text: str, width: int, right: bool, out: str) -> None:
    assert fit(text, width, right=right) == out
