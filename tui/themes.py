"""Console themes: YAML files validated by pydantic and turned into Textual themes (posting's way).

The three shipped themes live in the top-level `themes` package; users may add directories of
their own. `load_themes()` never raises for a bad file: it returns what loaded and what failed, so
the app reports every broken file in one notification and falls back to a shipped theme.

Status colours are declared once, here, as theme variables (`$status-up` ... in TCSS). A theme
file may set them under `variables:`; any other theme falls back to `status_variable_defaults()`,
which derives them from the theme's own semantic colours, so no colour is ever hard-coded.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from pulsewatch.domain.monitoring import Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from importlib.resources.abc import Traversable

DEFAULT_THEME = "pulsewatch-dark"
"""The theme used when none is configured, or when the configured one cannot be loaded."""

STATUS_VARIABLE_SOURCES: dict[str, str] = {
    "status-up": "success",
    "status-down": "error",
    "status-degraded": "warning",
    "status-paused": "foreground-darken-3",
    "status-unknown": "foreground-darken-2",
    "status-maintenance": "primary-lighten-1",
}
"""Each status variable, and the colour-system variable it falls back to when a theme omits it."""


def status_variable(status: Status) -> str:
    """The theme variable that colours `status`, e.g. "status-down"."""
    return f"status-{status.value}"


MUTED_BLEND = 0.45
"""How far `$text-dim` moves the foreground towards the background."""


def status_variable_defaults(theme: Theme) -> dict[str, str]:
    """The status colours for a theme that does not set them, derived from its semantic colours.

    Also `$text-dim`: secondary text (ages, uptime figures) as a solid colour. Textual's own
    `$text-muted` is an "auto" colour, resolved against the background only for whole widgets; the
    Line-API grid draws its cells with partial component styles, where it would come out white.
    """
    system = theme.to_color_system().generate()
    defaults = {name: system[source] for name, source in STATUS_VARIABLE_SOURCES.items()}
    foreground, background = Color.parse(system["foreground"]), Color.parse(system["background"])
    defaults["text-dim"] = foreground.blend(background, MUTED_BLEND).hex
    return defaults


def status_style(variables: Mapping[str, str], status: Status) -> Style:
    """A bold Rich style in the current theme's colour for `status`, for cells drawn in Python.

    Args:
        variables: the app's resolved theme variables (`App.theme_variables`).
        status: the status to colour.
    """
    try:
        return Style(color=Color.parse(variables.get(status_variable(status), "")).rich_color, bold=True)
    except ColorParseError:
        return Style(bold=True)


def _check_colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as error:
        raise ValueError(f"{value!r} is not a colour") from error
    return value


class ThemeFile(BaseModel):
    """One theme as written in a YAML file. Every colour is checked when the file is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    """Unique name, as used by `console.theme` in the config and shown when cycling with `t`."""
    dark: bool = True
    """Whether this is a dark theme (Textual derives shades differently for light ones)."""
    primary: str
    """The main brand colour: focused borders, header, the table cursor."""
    secondary: str | None = None
    """A second brand colour for less prominent accents."""
    accent: str | None = None
    """Highlights that must stand out from primary."""
    warning: str | None = None
    """Warnings; the fallback for `status-degraded`."""
    error: str | None = None
    """Errors; the fallback for `status-down`."""
    success: str | None = None
    """Success; the fallback for `status-up`."""
    foreground: str | None = None
    """Default text colour."""
    background: str | None = None
    """Screen background."""
    surface: str | None = None
    """Background of widgets such as tables."""
    panel: str | None = None
    """Background of panels that sit above the surface (summary bar, detail panes)."""
    variables: dict[str, str] = Field(default_factory=dict)
    """Extra theme variables: the `status-*` colours, or any Textual variable to override."""

    @field_validator("primary", "secondary", "accent", "warning", "error", "success", "foreground",
                     "background", "surface", "panel")
    @classmethod
    def _is_colour(cls, value: str | None) -> str | None:
        return None if value is None else _check_colour(value)

    @field_validator("variables")
    @classmethod
    def _status_variables_are_colours(cls, value: dict[str, str]) -> dict[str, str]:
        for name, colour in value.items():
            if name in STATUS_VARIABLE_SOURCES:
                try:
                    _check_colour(colour)
                except ValueError as error:
                    raise ValueError(f"{name}: {error}") from None
        return value

    def to_textual_theme(self) -> Theme:
        """The Textual theme to register with the app."""
        return Theme(
            name=self.name,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            warning=self.warning,
            error=self.error,
            success=self.success,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            dark=self.dark,
            variables=dict(self.variables),
        )


def shipped_theme_directory() -> Traversable:
    """Where the themes that come with PulseWatch live (the `themes` package data)."""
    return files("themes")


def load_themes(directories: Iterable[Traversable]) -> tuple[dict[str, Theme], list[str]]:
    """Read every `*.yaml` theme in `directories`; later directories override earlier names.

    Args:
        directories: folders to read, shipped themes first, then the user's.

    Returns:
        The loaded themes by name (in file-name order), and one line per file that could not be
        used, naming the file and the problem.
    """
    loaded: dict[str, Theme] = {}
    failed: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            failed.append(f"{directory}: not a directory")
            continue
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            try:
                theme = _read_theme(entry)
            except ValueError as error:
                failed.append(f"{entry.name}: {error}")
            else:
                loaded[theme.name] = theme
    return loaded, failed


def _read_theme(entry: Traversable) -> Theme:
    try:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read: {error}".splitlines()[0]) from error
    try:
        return ThemeFile.model_validate(data).to_textual_theme()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'file'}: {item['msg']}" for item in error.errors()
        )
        raise ValueError(problems) from error
