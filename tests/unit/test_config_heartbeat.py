"""Heartbeat checks in the config: the two schedule forms load, and every impossible combination is one
precise problem line (positions can be read off the texts: line 1 is the line after the quotes)."""

from __future__ import annotations

import textwrap

import pytest

from pulsewatch.config import LoadedConfig, parse_config
from pulsewatch.domain.heartbeats import (
    GENERATE_TOKEN,
    HEARTBEAT_KIND,
    HeartbeatSpec,
    generated_token,
    with_generated_tokens,
)
from pulsewatch.errors import ConfigError

LISTEN = "engine: {listen: 127.0.0.1:8787}\n"


def load(text: str) -> LoadedConfig:
    return parse_config(textwrap.dedent(text).lstrip("\n"), "pulsewatch.yaml", environ={})


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.problems


class TestWhatLoads:
    def test_a_period_heartbeat_with_its_own_token(self) -> None:
        config = load(
            """
            engine: {listen: 127.0.0.1:8787}
            defaults: {interval: 30s, failure_threshold: 3, notify: [ops], conditions: ["[STATUS] == 200"]}
            channels: [{name: ops, urls: ["json://127.0.0.1:9/x"]}]
            checks:
              - name: nightly-backup
                team: data
                tags: [backup]
                heartbeat: {period: 1d, grace: 1h, token: nightly-7f3a}
            """
        )
        (check,) = config.checks
        assert check.kind == HEARTBEAT_KIND
        assert check.heartbeat == HeartbeatSpec(token="nightly-7f3a", grace=3600.0, period=86400.0)
        assert check.url == "/ping/nightly-7f3a"
        # probe defaults do not apply; notify does
        assert (check.failure_threshold, check.success_threshold, check.retries) == (1, 1, 0)
        assert (check.conditions, check.interval, check.notify) == ((), 86400.0, ("ops",))
        assert (check.team, check.tags) == ("data", ("backup",))

    def test_a_cron_heartbeat_without_token_gets_a_generated_one_and_default_grace(self) -> None:
        """The loader cannot know the token (the secret is in the database): it marks the check, and
        the composition fills the token in with `with_generated_tokens`."""
        config = load(
            """
            engine: {listen: 127.0.0.1:8787}
            checks:
              - name: reports
                heartbeat: {cron: "0 3 * * *", timezone: Europe/Berlin}
            """
        )
        (check,) = config.checks
        spec = HeartbeatSpec(token=GENERATE_TOKEN, grace=3600.0, cron="0 3 * * *", timezone="Europe/Berlin")
        assert check.heartbeat == spec
        secret = b"an installation secret, 32 bytes"
        (ready,) = with_generated_tokens(config.checks, secret)
        token = generated_token(secret, "default", "reports")
        assert ready.heartbeat == HeartbeatSpec(
            token=token, grace=3600.0, cron="0 3 * * *", timezone="Europe/Berlin"
        )
        assert ready.url == f"/ping/{token}"

    def test_generated_tokens_never_clash_with_each_other(self) -> None:
        config = load(
            f"""
            {LISTEN}
            checks:
              - {{name: a, heartbeat: {{period: 1d}}}}
              - {{name: b, heartbeat: {{period: 1d}}}}
            """
        )
        assert [c.heartbeat.token for c in config.checks if c.heartbeat] == [GENERATE_TOKEN, GENERATE_TOKEN]

    def test_the_fingerprint_follows_the_schedule(self) -> None:
        def fingerprint(heartbeat: str) -> str:
            text = f"{LISTEN}checks:\n  - name: job\n    heartbeat: {heartbeat}\n"
            return load(text).checks[0].fingerprint()

        assert fingerprint("{period: 1d}") == fingerprint("{period: 24h}")
        assert fingerprint("{period: 1d}") != fingerprint("{period: 1d, grace: 2h}")
        assert fingerprint("{period: 1d}") != fingerprint("{period: 1d, token: another-token}")


class TestProblems:
    @pytest.mark.parametrize(
        ("heartbeat", "problem"),
        [
            ("{period: 1d, cron: '0 3 * * *'}",
             "pulsewatch.yaml:4:5: checks[0].heartbeat: give either period or cron, not both: period: 1d"
             ' (a ping at most a day apart) or cron: "0 3 * * *" (when the job runs)'),
            ("{grace: 1h}",
             "pulsewatch.yaml:4:5: checks[0].heartbeat: a heartbeat needs a schedule: period: 1d"
             ' (a ping at most a day apart) or cron: "0 3 * * *" (when the job runs)'),
            ("{cron: '0 3 * *'}",
             'pulsewatch.yaml:4:23: checks[0].heartbeat.cron: invalid cron expression "0 3 * *": expected'
             ' five fields, minute hour day-of-month month day-of-week, like "0 3 * * *" (03:00 every day)'),
            ("{cron: '0 0 30 2 *'}",
             'pulsewatch.yaml:4:23: checks[0].heartbeat.cron: cron expression "0 0 30 2 *" never fires'
             " (no such date)"),
            ("{cron: '0 3 * * *', timezone: Europe/Berln}",
             'pulsewatch.yaml:4:46: checks[0].heartbeat.timezone: unknown time zone "Europe/Berln": expected'
             ' an IANA name like Europe/Berlin or UTC; did you mean "Europe/Berlin"?'),
            ("{period: 1d, timezone: UTC}",
             "pulsewatch.yaml:4:29: checks[0].heartbeat.timezone: a timezone only applies to a cron schedule"
             " (a period is the same in every time zone)"),
            ("{period: 1d, token: short}",
             "pulsewatch.yaml:4:36: checks[0].heartbeat.token: expected 8 to 128 letters, digits, dashes or"
             " underscores (the token is the secret part of the ping URL; leave it out to have one derived"
             " from the check)"),
            ("{period: 1d, token: 'has/slash'}",
             "pulsewatch.yaml:4:36: checks[0].heartbeat.token: expected 8 to 128 letters, digits, dashes or"
             " underscores (the token is the secret part of the ping URL; leave it out to have one derived"
             " from the check)"),
            ("{perod: 1d}",
             'pulsewatch.yaml:4:17: checks[0].heartbeat.perod: unknown key "perod"; did you mean "period"?'
             " allowed keys: period, cron, timezone, grace, token"),
            ("{period: 1d, grace: soon}",
             "pulsewatch.yaml:4:36: checks[0].heartbeat.grace: expected a duration like 500ms, 30s, 5m, 1h"
             " or 2d"),
        ],
    )
    def test_one_problem_each(self, heartbeat: str, problem: str) -> None:
        text = f"{LISTEN}checks:\n  - name: job\n    heartbeat: {heartbeat}\n"
        assert problems(text) == [problem]

    def test_probe_fields_are_refused_with_how_to_fix(self) -> None:
        found = problems(
            """
            engine: {listen: 127.0.0.1:8787}
            checks:
              - name: job
                url: https://example.com/
                interval: 5m
                failure_threshold: 2
                heartbeat: {period: 1d}
            """
        )
        fix = "(the heartbeat's period or cron says when pings are due)"
        assert found == [
            f"pulsewatch.yaml:4:5: checks[0].url: heartbeat checks are pinged, not probed: remove url {fix}",
            "pulsewatch.yaml:5:5: checks[0].interval: heartbeat checks are pinged, not probed:"
            f" remove interval {fix}",
            "pulsewatch.yaml:6:5: checks[0].failure_threshold: heartbeat checks are pinged, not probed:"
            f" remove failure_threshold {fix}",
        ]

    def test_tokens_are_unique_across_organizations(self) -> None:
        found = problems(
            """
            engine: {listen: 127.0.0.1:8787}
            organizations: [{slug: acme}, {slug: globex}]
            checks:
              - {name: a, org: acme, heartbeat: {period: 1d, token: shared-token}}
              - {name: b, org: globex, heartbeat: {period: 1d, token: shared-token}}
            """
        )
        assert found == [
            "pulsewatch.yaml:5:59: checks[1].heartbeat.token: the same ping token is already used by"
            ' check "a" in organization "acme": each heartbeat check needs its own'
        ]

    def test_heartbeats_need_a_listener(self) -> None:
        found = problems("checks:\n  - name: job\n    heartbeat: {period: 1d}\n")
        assert found == [
            "pulsewatch.yaml:3:5: checks[0].heartbeat: heartbeat checks need engine.listen (HOST:PORT, like"
            " 127.0.0.1:8787) so their pings can reach the engine"
        ]

    def test_a_bad_heartbeat_mapping_is_not_also_a_missing_url(self) -> None:
        found = problems(f"{LISTEN}checks:\n  - name: job\n    heartbeat: 1d\n")
        assert found == ["pulsewatch.yaml:4:16: checks[0].heartbeat: expected a mapping (key: value lines)"]
