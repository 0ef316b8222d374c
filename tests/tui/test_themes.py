"""Theme files: the shipped three load and set every status colour; bad files are reported, not fatal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.theme import Theme

from pulsewatch.domain.monitoring import Status
from tui.themes import (
    STATUS_VARIABLE_SOURCES,
    load_themes,
    shipped_theme_directory,
    status_variable,
    status_variable_defaults,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("pulsewatch-dark", "pulsewatch-high-contrast", "pulsewatch-light")


class TestShippedThemes:
    def test_the_three_shipped_themes_load_without_problems(self) -> None:
        loaded, failed = load_themes([shipped_theme_directory()])
        assert failed == []
        assert tuple(loaded) == SHIPPED

    @pytest.mark.parametrize("name", SHIPPED)
    def test_each_sets_every_status_colour(self, name: str) -> None:
        loaded, _ = load_themes([shipped_theme_directory()])
        assert {status_variable(s) for s in Status} <= set(loaded[name].variables)

    def test_status_variables_cover_every_status(self) -> None:
        assert set(STATUS_VARIABLE_SOURCES) == {status_variable(s) for s in Status}


class TestBadFiles:
    def test_each_bad_file_is_named_and_the_good_ones_still_load(self, tmp_path: Path) -> None:
        (tmp_path / "a-broken.yaml").write_text("name: [unclosed\n")
        (tmp_path / "b-colour.yaml").write_text("name: b\nprimary: '#12'\n")
        (tmp_path / "c-status.yaml").write_text("name: c\nprimary: red\nvariables: {status-up: nope}\n")
        (tmp_path / "d-extra.yaml").write_text("name: d\nprimary: red\nshiny: true\n")
        (tmp_path / "e-good.yaml").write_text("name: e-good\nprimary: red\ndark: false\n")
        (tmp_path / "notes.txt").write_text("not a theme")
        loaded, failed = load_themes([tmp_path])
        assert list(loaded) == ["e-good"]
        assert [line.split(":")[0] for line in failed] == [
            "a-broken.yaml", "b-colour.yaml", "c-status.yaml", "d-extra.yaml"]
        assert "status-up" in failed[2]
        assert "shiny" in failed[3]

    def test_a_user_theme_overrides_a_shipped_one_of_the_same_name(self, tmp_path: Path) -> None:
        (tmp_path / "mine.yaml").write_text("name: pulsewatch-dark\nprimary: red\n")
        loaded, failed = load_themes([shipped_theme_directory(), tmp_path])
        assert failed == []
        assert loaded["pulsewatch-dark"].primary == "red"

    def test_a_missing_directory_is_reported(self, tmp_path: Path) -> None:
        _, failed = load_themes([tmp_path / "nowhere"])
        assert len(failed) == 1


class TestFallbacks:
    def test_a_theme_without_status_colours_gets_them_from_its_own_palette(self) -> None:
        theme = Theme(name="plain", primary="navy", success="green", error="maroon", warning="olive")
        palette = theme.to_color_system().generate()
        defaults = status_variable_defaults(theme)
        assert set(defaults) == {*STATUS_VARIABLE_SOURCES, "text-dim"}
        assert defaults["status-up"] == palette["success"]
        assert defaults["status-down"] == palette["error"]
        assert defaults["status-degraded"] == palette["warning"]


class TestNoLiteralColours:
    """STYLE §2.8: colours live in themes/*.yaml only, so every theme (and light mode) works."""

    HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|#[0-9a-fA-F]{8}\b")

    @pytest.mark.parametrize("path", [*sorted((ROOT / "tui").rglob("*.py")), ROOT / "tui" / "app.tcss"],
                             ids=lambda p: str(p.relative_to(ROOT)))
    def test_no_hex_colour_in_console_code(self, path: Path) -> None:
        assert self.HEX.findall(path.read_text()) == []
