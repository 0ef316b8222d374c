"""The remembered theme: a small JSON file, never fatal (tui/preferences.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tui.preferences import Preferences

if TYPE_CHECKING:
    from pathlib import Path


def test_nothing_remembered_at_first(tmp_path: Path) -> None:
    preferences = Preferences(tmp_path / "console.json")
    assert preferences.theme_for("pulsewatch-dark") is None
    assert preferences.problem is None


def test_a_picked_theme_is_remembered_in_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "console.json"
    Preferences(path).remember_theme("pulsewatch-light", configured="pulsewatch-dark")
    saved = json.loads(path.read_text())
    assert saved == {"configured_theme": "pulsewatch-dark", "theme": "pulsewatch-light"}
    assert Preferences(path).theme_for("pulsewatch-dark") == "pulsewatch-light"


def test_an_edited_config_theme_wins_over_the_remembered_one(tmp_path: Path) -> None:
    path = tmp_path / "console.json"
    Preferences(path).remember_theme("pulsewatch-light", configured="pulsewatch-dark")
    assert Preferences(path).theme_for("pulsewatch-high-contrast") is None


def test_a_corrupt_file_is_reported_and_ignored(tmp_path: Path) -> None:
    path = tmp_path / "console.json"
    path.write_text("{not json")
    preferences = Preferences(path)
    assert preferences.theme_for("pulsewatch-dark") is None
    assert preferences.problem is not None
    assert "could not read" in preferences.problem


def test_an_unwritable_place_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    preferences = Preferences(blocker / "console.json")  # a file where the folder should be
    preferences.remember_theme("pulsewatch-light", configured="pulsewatch-dark")
    assert preferences.problem is not None
    assert "could not save" in preferences.problem
