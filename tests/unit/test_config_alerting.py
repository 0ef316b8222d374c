"""The alerting sections of the config: policies, routes, maintenance, canaries, severities."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pulsewatch.config import parse_config
from pulsewatch.domain.alerting import Severity
from pulsewatch.errors import ConfigError

BASE = """\
channels:
  - name: ops
    urls: ["json://127.0.0.1:9000/hook"]
  - name: pager
    urls: ["mailto://u:secret@127.0.0.1:2525?to=oncall@x.test"]
checks:
  - name: api
    url: http://127.0.0.1:8080/
    team: web
    tags: [prod]
    severity: warning
    notify: [ops]
  - name: db
    url: tcp://127.0.0.1:5432
  - name: internet
    url: http://127.0.0.1:8081/
"""

FULL = (
    BASE
    + """\
escalation_policies:
  - name: web-oncall
    steps:
      - {after: 0s, notify: [ops]}
      - {after: 15m, notify: [pager]}
    repeat: 30m
    flapping: {flips: 4, window: 5m, stable: 10m}
routes:
  - {team: web, tags: [prod], severity: [warning, critical], policy: web-oncall}
maintenance:
  - {name: db-upgrade, checks: [db], start: "2025-05-01T22:00:00+02:00", end: "2025-05-01T23:00:00+02:00"}
  - {name: nightly, tags: [batch], cron: "0 3 * * *", duration: 30m, timezone: Europe/Paris}
  - {name: naive, start: "2025-05-02 10:00:00", end: "2025-05-02 11:00:00", timezone: Europe/Paris}
canaries: [internet]
"""
)


def test_a_full_alerting_config_becomes_domain_objects() -> None:
    alerting = parse_config(FULL).alerting
    [policy] = alerting.policies
    assert policy.name == "web-oncall"
    assert [(s.after, s.channels) for s in policy.steps] == [(0.0, ("ops",)), (900.0, ("pager",))]
    assert policy.repeat == 1800
    assert policy.flapping.flips == 4
    assert policy.flapping.stable == 600
    [route] = alerting.routes
    assert route.teams == ("web",)
    assert route.tags == ("prod",)
    assert route.severities == (Severity.WARNING, Severity.CRITICAL)
    once, nightly, naive = alerting.maintenance
    assert once.start == datetime(2025, 5, 1, 20, 0, tzinfo=UTC)
    assert once.scope.checks == ("db",)
    assert nightly.cron == "0 3 * * *"
    assert nightly.duration == 1800
    assert nightly.timezone == "Europe/Paris"
    assert naive.start is not None
    assert naive.start.astimezone(UTC) == datetime(2025, 5, 2, 8, 0, tzinfo=UTC)
    assert alerting.canaries == (("default", "internet"),)
    assert alerting.severities == {("default", "api"): Severity.WARNING}
    assert [c.name for c in alerting.channels] == ["ops", "pager"]
    assert alerting.channel("pager") is not None
    assert "secret" not in repr(alerting.channels)


def test_notify_alone_needs_no_alerting_sections() -> None:
    alerting = parse_config(BASE).alerting
    assert alerting.policies == ()
    assert alerting.routes == ()
    assert alerting.canaries == ()


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            "escalation_policies:\n  - {name: p, steps: [{notify: [nobody]}]}\n",
            'escalation_policies[0].steps[0].notify[0]: unknown channel "nobody"',
        ),
        (
            "escalation_policies:\n  - {name: p, steps: []}\n",
            "escalation_policies[0].steps: must not be empty",
        ),
        (
            "escalation_policies:\n  - {name: p, steps: [{after: 10m, notify: [ops]},"
            " {after: 1m, notify: [ops]}]}\n",
            "steps must be in order of `after`",
        ),
        ("routes:\n  - {team: web, policy: nope}\n", 'routes[0].policy: unknown escalation policy "nope"'),
        ("routes:\n  - {severity: urgent, policy: p}\n", "expected one of critical, warning, info"),
        (
            "maintenance:\n  - {name: m, cron: 'every night', duration: 1h}\n",
            "maintenance[0].cron: expected a five-field cron expression",
        ),
        (
            "maintenance:\n  - {name: m, cron: '0 3 * * *', duration: 1h, timezone: Mars/Olympus}\n",
            "maintenance[0].timezone: expected an IANA time zone",
        ),
        ("maintenance:\n  - {name: m, cron: '0 3 * * *'}\n", "needs a duration"),
        (
            "maintenance:\n  - {name: m, checks: [nope], start: '2025-01-01T00:00:00Z',"
            " end: '2025-01-01T01:00:00Z'}\n",
            'maintenance[0].checks[0]: unknown check "nope"',
        ),
        (
            "maintenance:\n  - {name: m, start: '2025-01-01T02:00:00Z', end: '2025-01-01T01:00:00Z'}\n",
            "the window must end after it starts",
        ),
        ("canaries: [nope]\n", 'canaries[0]: unknown check "nope"'),
    ],
)
def test_problems_are_reported_with_their_place(extra: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + extra)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert all(":" in p.split(" ")[0] for p in caught.value.problems)  # <string>:LINE:COL: ...


def test_a_bad_severity_on_a_check_is_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE.replace("severity: warning", "severity: sev1"))
    assert any(
        "checks[0].severity: expected one of critical, warning, info" in p for p in caught.value.problems
    )
