"""Choices the console remembers between runs (today: the theme), in a small JSON file.

The file lives in the user's config directory (`platformdirs`), e.g.
`~/.config/pulsewatch/console.json`; tests pass their own path. The config file's `console.theme`
is the starting point, and a theme picked at runtime wins over it on the next run, unless the
config's theme has been edited since: then the config was changed on purpose, and it wins.
A missing, unreadable or corrupt file is never fatal: the console starts with the config's theme.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

FILE_NAME = "console.json"


class Preferences:
    """Remembered console choices, read at start and written when they change.

    Args:
        path: the JSON file (created, with its folder, on the first write).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        """Why the file could not be read or written, for one notification; None when all is well."""
        self._data = self._read()

    @classmethod
    def default(cls) -> Preferences:
        """The preferences in the user's config directory."""
        from platformdirs import user_config_dir

        return cls(Path(user_config_dir("pulsewatch", appauthor=False)) / FILE_NAME)

    def theme_for(self, configured: str) -> str | None:
        """The theme to start with when the config names `configured`, or None to use the config's.

        Returns the theme picked last time, unless the config's theme differs from the one that was
        configured then (the person edited the config since).
        """
        theme = self._data.get("theme")
        if isinstance(theme, str) and self._data.get("configured_theme") == configured:
            return theme
        return None

    def remember_theme(self, theme: str, configured: str) -> None:
        """Remember `theme` as picked while the config named `configured`."""
        if self._data.get("theme") == theme and self._data.get("configured_theme") == configured:
            return
        self._data = {**self._data, "theme": theme, "configured_theme": configured}
        self._write()

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            self.problem = f"could not read {self.path}: {error}"
            return {}
        if not isinstance(data, dict):
            self.problem = f"ignored {self.path}: not a JSON object"
            return {}
        return data

    def _write(self) -> None:
        # Write then rename: a console killed mid-write must not leave half a file behind.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".console-", suffix=".json", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(self._data, file, indent=2, sort_keys=True)
                file.write("\n")
            Path(temporary).replace(self.path)
        except OSError as error:
            self.problem = f"could not save {self.path}: {error}"
