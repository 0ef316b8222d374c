"""`retention:` — how long raw results and each rollup level are kept, and how often the engine
rolls up and prunes.

```yaml
retention:
  raw: 7d          # probe results, one row per probe
  minute: 2d       # minute rollups
  hour: 90d        # hour rollups
  day: 400d        # day rollups: uptime and SLA figures for a year and a bit
  delay: 5m        # a minute is rolled up only this long after it ends (late results)
  interval: 1m     # how often the engine rolls up and prunes
```

Every field is optional. Pruning never removes data a coarser level has not been built from yet,
so any combination of values is safe. A plan's `limits.retention` replaces `raw` for the organizations
on it (engine.storage.plan_prune).

This module imports only pydantic, not `config_schema` (which imports it for `ConfigFile`), so the
duration parser is reached lazily and the section repeats `Section`'s settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

DAY = 86400.0


def _duration(value: object) -> float:
    from pulsewatch.config_schema import parse_duration  # see the module docstring

    return parse_duration(value)


_Duration = Annotated[float, BeforeValidator(_duration)]


@dataclass(frozen=True)
class RetentionSettings:
    """The `retention:` section as the engine and the reports use it; durations in float seconds."""

    raw: float = 7 * DAY
    """Probe results are kept this long (then only their rollups remain)."""
    minute: float = 2 * DAY
    """Minute rollups are kept this long."""
    hour: float = 90 * DAY
    """Hour rollups are kept this long."""
    day: float = 400 * DAY
    """Day rollups are kept this long."""
    delay: float = 300.0
    """Safety lag: a minute is rolled up once it ended this long ago. It must exceed the longest
    probe timeout plus the recorder's batching, or late results would miss their minute."""
    interval: float = 60.0
    """How often an engine rolls up and prunes."""


class RetentionSection(BaseModel):
    """`retention:` — how long data is kept (see RetentionSettings for each field's meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    raw: _Duration = RetentionSettings.raw
    """How long probe results are kept (default 7d)."""
    minute: _Duration = RetentionSettings.minute
    """How long minute rollups are kept (default 2d)."""
    hour: _Duration = RetentionSettings.hour
    """How long hour rollups are kept (default 90d)."""
    day: _Duration = RetentionSettings.day
    """How long day rollups are kept (default 400d)."""
    delay: _Duration = RetentionSettings.delay
    """How long after a minute ends it is rolled up: longer than any probe timeout (default 5m)."""
    interval: _Duration = RetentionSettings.interval
    """How often the engine rolls up and prunes (default 1m)."""


def build_retention(section: RetentionSection | None) -> RetentionSettings:
    """The settings for a validated section; the defaults when the file has none."""
    if section is None:
        return RetentionSettings()
    return RetentionSettings(
        raw=section.raw,
        minute=section.minute,
        hour=section.hour,
        day=section.day,
        delay=section.delay,
        interval=section.interval,
    )
