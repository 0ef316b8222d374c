"""The `retention:` section: defaults, durations, and problems that point at their line."""

from __future__ import annotations

import textwrap

import pytest

from pulsewatch.config import parse_config
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.errors import ConfigError

DAY = 86400.0


def parse(text: str) -> RetentionSettings:
    return parse_config(textwrap.dedent(text).lstrip("\n"), "pulsewatch.yaml", environ={}).retention


class TestRetention:
    def test_without_the_section_the_defaults_apply(self) -> None:
        settings = parse("checks: []\n")

        assert settings == RetentionSettings()
        kept = (settings.raw, settings.minute, settings.hour, settings.day)
        assert kept == (7 * DAY, 2 * DAY, 90 * DAY, 400 * DAY)
        assert (settings.delay, settings.interval) == (300.0, 60.0)

    def test_each_field_may_be_set_on_its_own(self) -> None:
        settings = parse(
            """
            retention:
              raw: 3d
              day: 2w
              delay: 90s
              interval: 30s
            """
        )

        assert settings == RetentionSettings(raw=3 * DAY, day=14 * DAY, delay=90.0, interval=30.0)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "retention:\n  raw: 7\n",
                "pulsewatch.yaml:2:8: retention.raw: expected a duration like 500ms, 30s, 5m, 1h or 2d "
                "(a bare number has no unit), got 7",
            ),
            (
                "retention:\n  hours: 90d\n",
                'pulsewatch.yaml:2:3: retention.hours: unknown key "hours"; did you mean "hour"? '
                "allowed keys: raw, minute, hour, day, delay, interval",
            ),
            (
                "retention: 7d\n",
                'pulsewatch.yaml:1:12: retention: expected a mapping (key: value lines), got "7d"',
            ),
        ],
    )
    def test_problems_name_the_line_and_the_field(self, text: str, expected: str) -> None:
        with pytest.raises(ConfigError) as caught:
            parse(text)

        assert caught.value.problems == [expected]
