"""Console test fixtures: deterministic rendering, and a guard on where snapshot baselines are made."""

from __future__ import annotations

import sys

import pytest
from textual.widgets import Input

BASELINE_PYTHON = (3, 11)
"""The Python the SVG baselines were generated on; text layout may differ on others."""


def pytest_configure(config: pytest.Config) -> None:
    """Refuse `--snapshot-update` on another Python than the baselines' (harlequin's guard)."""
    if getattr(config.option, "update_snapshots", False) and sys.version_info[:2] != BASELINE_PYTHON:
        raise pytest.UsageError(
            f"snapshot baselines are generated on Python {'.'.join(map(str, BASELINE_PYTHON))}; "
            f"this is {sys.version_info.major}.{sys.version_info.minor}"
        )


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop text cursors from blinking.

    A blinking cursor is drawn or not depending on when the screenshot is taken, which makes
    snapshots flaky; the command palette's Input is the one place this app shows one.
    """
    monkeypatch.setattr(Input, "cursor_blink", False)
