"""The alerting sections of the config — `escalation_policies:`, `routes:`, `maintenance:`, `canaries:`
and a check's `severity:` — and how they become a domain `AlertingConfig`.

```yaml
escalation_policies:
  - name: web-oncall
    steps:
      - {after: 0s, notify: [ops]}          # at once
      - {after: 15m, notify: [pager]}       # still unacknowledged after 15 minutes
    repeat: 30m                             # reminders while down and unacknowledged
    flapping: {flips: 5, window: 10m, stable: 15m}
routes:                                     # the first route that matches picks the policy
  - {team: web, tags: [prod], severity: [critical], policy: web-oncall}
maintenance:
  - {name: db-upgrade, checks: [db], start: "2025-05-01T22:00:00+02:00", end: "2025-05-01T23:00:00+02:00"}
  - {name: nightly, tags: [batch], cron: "0 3 * * *", duration: 30m, timezone: Europe/Paris}
canaries: [internet-1, internet-2]          # all failing = the engine is cut off: hold alerts
```

A check's own `notify: [channel]` keeps working on its own: immediate notice plus recovery.
Like `config_retention`, this module imports only pydantic at the top — `config_schema` imports the
sections from here — and reaches the shared value parsers lazily.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel
from pydantic_core import PydanticCustomError

from pulsewatch.domain.alerting import (
    AlertingConfig,
    Channel,
    EscalationPolicy,
    EscalationStep,
    FlapPolicy,
    MaintenanceWindow,
    Route,
    Scope,
    Severity,
)

if TYPE_CHECKING:
    from pulsewatch.config_build import Validated
    from pulsewatch.config_types import ChannelConfig
    from pulsewatch.config_yaml import Loc, Report
    from pulsewatch.domain.monitoring import Check

SEVERITIES = tuple(s.value for s in Severity)


def _duration(value: object) -> float:
    from pulsewatch.config_schema import parse_duration  # config_schema imports this module

    return parse_duration(value)


def _delay(value: object) -> float:
    """A step's `after`: a duration, where zero (`0`, `0s`, `0m`) means at once."""
    if value in (0, "0") or (isinstance(value, str) and value.strip() in ("0s", "0m", "0ms", "0h")):
        return 0.0
    return _duration(value)


def _name(value: str) -> str:
    from pulsewatch.config_schema import _name as check_name  # the one rule for names

    return check_name(value)


def _severity(value: str) -> str:
    if value not in SEVERITIES:
        raise PydanticCustomError("severity", "expected one of " + ", ".join(SEVERITIES))
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError("timezone", "expected an IANA time zone like UTC or Europe/Paris") from None
    return value


def _cron(value: str) -> str:
    from croniter import croniter

    if len(value.split()) != 5 or not croniter.is_valid(value):
        raise PydanticCustomError("cron", 'expected a five-field cron expression like "0 3 * * *"')
    return value


Duration = Annotated[float, BeforeValidator(_duration)]
Delay = Annotated[float, BeforeValidator(_delay)]
Name = Annotated[str, AfterValidator(_name)]
SeverityName = Annotated[str, AfterValidator(_severity)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Cron = Annotated[str, AfterValidator(_cron)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class StepSection(_Section):
    """One step of an escalation policy."""

    after: Delay = 0.0
    """How long the incident must stay unacknowledged before this step (0s: at once)."""
    notify: list[Name] = Field(min_length=1)
    """Channels this step notifies."""


class FlappingSection(_Section):
    """Flap detection: `flips` status changes within `window` → one notice, quiet until `stable`."""

    flips: int = Field(default=FlapPolicy.flips, ge=0)
    """Status changes that make a check flapping (0 turns flap detection off)."""
    window: Duration = FlapPolicy.window
    """The window those changes must fall in (default 10m)."""
    stable: Duration = FlapPolicy.stable
    """How long without a change before alerts resume (default 15m)."""


class EscalationPolicySection(_Section):
    """One entry of `escalation_policies:` — who hears about an incident, and when."""

    name: Name
    """What routes name in `policy:`; unique."""
    steps: list[StepSection] = Field(min_length=1)
    """In order of `after`."""
    repeat: Duration | None = None
    """Remind the channels already notified this often while down and unacknowledged (unset: never)."""
    recovery: bool = True
    """Tell the channels that were paged when the check recovers."""
    flapping: FlappingSection | None = None
    """Flap detection thresholds (default: 5 changes in 10m, stable for 15m)."""


class RouteSection(_Section):
    """One entry of `routes:` — checks matching every given matcher get `policy` (first match wins)."""

    policy: Name
    """An escalation policy's name."""
    org: str | None = None
    """Only checks of this organization."""
    team: list[Name] | Name | None = None
    """Only checks of this team (or of one of these teams)."""
    tags: list[Name] = Field(default_factory=list)
    """Only checks with at least one of these tags."""
    severity: list[SeverityName] | SeverityName | None = None
    """Only checks of this severity (or one of these): critical, warning, info."""


class MaintenanceSection(_Section):
    """One entry of `maintenance:` — planned work during which alerts are suppressed (and recorded)."""

    name: Name
    """Shown in the suppressed notifications' reason."""
    org: str | None = None
    """Only checks of this organization."""
    checks: list[Name] = Field(default_factory=list)
    """These checks (with `tags`: either); neither: every check."""
    tags: list[Name] = Field(default_factory=list)
    """Checks with any of these tags."""
    start: datetime | None = None
    """A one-off window's start, like 2025-05-01T22:00:00+02:00 (without an offset: in `timezone`)."""
    end: datetime | None = None
    """A one-off window's end."""
    cron: Cron | None = None
    """A recurring window's start, as a five-field cron expression read in `timezone`."""
    duration: Duration | None = None
    """A recurring window's length."""
    timezone: TimeZone = "UTC"
    """IANA time zone for `cron` and for offset-less `start`/`end`."""


class CanaryName(RootModel[str]):
    """One entry of `canaries:` — a check (`name` or `org/name`) that tests the engine's own network."""

    root: Name


def build_alerting(
    valid: Validated, report: Report, checks: tuple[Check, ...], channels: tuple[ChannelConfig, ...]
) -> AlertingConfig:
    """The alerting config, with every cross-reference checked (problems go to `report`)."""
    channel_names = {c.name for c in channels} | valid.raw_names("channels", "name")
    policies = _policies(valid, report, channel_names)
    policy_names = {p.name for p in policies} | valid.raw_names("escalation_policies", "name")
    return AlertingConfig(
        channels=tuple(Channel(c.name, tuple(u.get_secret_value() for u in c.urls)) for c in channels),
        policies=policies,
        routes=_routes(valid, report, policy_names),
        maintenance=_maintenance(valid, report, checks),
        canaries=_canaries(valid, report, checks),
        severities=_severities(valid, checks),
    )


def _policies(valid: Validated, report: Report, channel_names: set[str]) -> tuple[EscalationPolicy, ...]:
    from pulsewatch.config_yaml import first_seen, listing, suggest

    seen: dict[str, Loc] = {}
    result = []
    for i, section in valid.list_items("escalation_policies", EscalationPolicySection):
        base: Loc = ("escalation_policies", i)
        if not first_seen(report, seen, section.name, (*base, "name"), f'policy name "{section.name}"'):
            continue
        for s, step in enumerate(section.steps):
            if s and step.after < section.steps[s - 1].after:
                report.add((*base, "steps", s, "after"), "steps must be in order of `after`")
            for j, channel in enumerate(step.notify):
                if channel not in channel_names:
                    report.add(
                        (*base, "steps", s, "notify", j),
                        f'unknown channel "{channel}"; {listing("channels", channel_names)}'
                        + suggest(channel, channel_names),
                    )
        flap = section.flapping or FlappingSection()
        result.append(
            EscalationPolicy(
                name=section.name,
                steps=tuple(
                    EscalationStep(st.after, tuple(dict.fromkeys(st.notify))) for st in section.steps
                ),
                repeat=section.repeat,
                recovery=section.recovery,
                flapping=FlapPolicy(flips=flap.flips, window=flap.window, stable=flap.stable),
            )
        )
    return tuple(result)


def _routes(valid: Validated, report: Report, policy_names: set[str]) -> tuple[Route, ...]:
    from pulsewatch.config_yaml import listing, suggest

    org_slugs = valid.raw_names("organizations", "slug")
    result = []
    for i, section in valid.list_items("routes", RouteSection):
        base: Loc = ("routes", i)
        if section.policy not in policy_names:
            report.add(
                (*base, "policy"),
                f'unknown escalation policy "{section.policy}"; '
                + listing("escalation policies", policy_names)
                + suggest(section.policy, policy_names),
            )
        if section.org is not None and section.org not in (org_slugs or {"default"}):
            report.add((*base, "org"), f'unknown organization "{section.org}"')
        result.append(
            Route(
                policy=section.policy,
                org=section.org,
                teams=_listed(section.team),
                tags=tuple(section.tags),
                severities=tuple(Severity(s) for s in _listed(section.severity)),
            )
        )
    return tuple(result)


def _maintenance(
    valid: Validated, report: Report, checks: tuple[Check, ...]
) -> tuple[MaintenanceWindow, ...]:
    names = {c.name for c in checks} | valid.raw_names("checks", "name")
    result = []
    for i, section in valid.list_items("maintenance", MaintenanceSection):
        base: Loc = ("maintenance", i)
        for j, name in enumerate(section.checks):
            if name not in names:
                report.add((*base, "checks", j), f'unknown check "{name}"')
        zone = ZoneInfo(section.timezone)
        scope = Scope(org=section.org, checks=tuple(section.checks), tags=tuple(section.tags))
        if section.cron is not None:
            if section.start is not None or section.end is not None:
                report.add(
                    base, "give either cron and duration (recurring) or start and end (one-off), not both"
                )
            if section.duration is None:
                report.add(base, "a recurring window (cron) needs a duration, like 30m")
            result.append(
                MaintenanceWindow(
                    section.name,
                    scope,
                    cron=section.cron,
                    duration=section.duration or 0.0,
                    timezone=section.timezone,
                )
            )
            continue
        if section.start is None or section.end is None:
            report.add(base, "give start and end (a one-off window) or cron and duration (a recurring one)")
            continue
        start, end = (t if t.tzinfo else t.replace(tzinfo=zone) for t in (section.start, section.end))
        if end <= start:
            report.add((*base, "end"), "the window must end after it starts")
        result.append(MaintenanceWindow(section.name, scope, start=start, end=end, timezone=section.timezone))
    return tuple(result)


def _canaries(valid: Validated, report: Report, checks: tuple[Check, ...]) -> tuple[tuple[str, str], ...]:
    result = []
    for i, canary in valid.list_items("canaries", CanaryName):
        org, _, name = canary.root.rpartition("/")
        found = [c.key for c in checks if c.name == name and (not org or c.org == org)]
        if len(found) == 1:
            result.append(found[0])
        elif not found:
            if name not in valid.raw_names("checks", "name"):
                report.add(("canaries", i), f'unknown check "{canary.root}"')
        else:
            report.add(
                ("canaries", i), f'several organizations have a check "{name}": write it as ORG/{name}'
            )
    return tuple(result)


def _severities(valid: Validated, checks: tuple[Check, ...]) -> dict[tuple[str, str], Severity]:
    from pulsewatch.config_schema import CheckSection

    result: dict[tuple[str, str], Severity] = {}
    for _, section in valid.list_items("checks", CheckSection):
        value = getattr(section, "severity", None)
        if value is None:
            continue
        for check in checks:
            if check.name == section.name and (section.org is None or section.org == check.org):
                result[check.key] = Severity(value)
    return result


def _listed(value: list[str] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
