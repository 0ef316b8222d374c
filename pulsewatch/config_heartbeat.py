"""Building heartbeat (push) checks from the config: schedule, grace, token, and what they cannot have.

`config_checks` hands a check with a `heartbeat:` mapping to `heartbeat_check`; once every check is
built, `check_heartbeat_tokens` makes sure each ping URL leads to one check and that there is a
listener to receive it. Every problem goes to the shared Report with the field it is about.

A check without `token:` gets GENERATE_TOKEN here: its token is an HMAC keyed with the installation's
secret, which lives in the database, so the composition fills it in (`wiring.desired_checks`) before
the checks reach a store or an engine.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from croniter import CroniterError, croniter

from pulsewatch.config_schema import EngineSection
from pulsewatch.config_yaml import Loc, Report, quote, suggest
from pulsewatch.domain.heartbeats import (
    DEFAULT_GRACE,
    GENERATE_TOKEN,
    HEARTBEAT_KIND,
    HeartbeatSpec,
    next_cron_fire,
)
from pulsewatch.domain.monitoring import Check

if TYPE_CHECKING:
    from pulsewatch.config_build import Validated
    from pulsewatch.config_schema import CheckSection, HeartbeatSection

TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")
"""URL-safe, and long enough to be hard to guess: the token is all that authenticates a ping."""
CHECK_FIELDS = frozenset({"name", "org", "team", "heartbeat", "notify", "tags", "depends_on", "paused"})
"""What a heartbeat check may set; everything else describes how to probe, and nothing probes it."""
_REFERENCE = datetime(2001, 1, 1, tzinfo=UTC)
_CRON_ALIASES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})


def heartbeat_check(
    report: Report, base: Loc, c: CheckSection, *, org: str, team: str | None, notify: list[str]
) -> Check | None:
    """The heartbeat Check for checks[i] (`base`), or None when it cannot be built (problems reported).

    `c.heartbeat` is None when the mapping failed validation: the other fields are still checked.

    `defaults:` do not apply: intervals, timeouts, conditions and thresholds describe probing. A
    heartbeat check goes DOWN on the first missed or failed run and UP on the next success, as in
    Healthchecks.io.
    """
    for name in sorted(c.model_fields_set - CHECK_FIELDS):
        report.add(
            (*base, name),
            f"heartbeat checks are pinged, not probed: remove {name}"
            " (the heartbeat's period or cron says when pings are due)",
            at_key=True,
        )
    if c.heartbeat is None:  # the mapping itself was invalid (already reported)
        return None
    spec = heartbeat_spec(report, (*base, "heartbeat"), c.heartbeat, org=org, name=c.name)
    if spec is None:
        return None
    return Check(
        name=c.name,
        url=f"/ping/{spec.token}",
        kind=HEARTBEAT_KIND,
        # Nothing is probed: interval and timeout only describe the check to people (console, status).
        interval=spec.typical_interval(),
        timeout=spec.grace,
        org=org,
        team=team,
        tags=tuple(dict.fromkeys(c.tags)),
        depends_on=tuple(dict.fromkeys(c.depends_on)),
        notify=tuple(dict.fromkeys(notify)),
        paused=c.paused,
        heartbeat=spec,
    )


def heartbeat_spec(
    report: Report, loc: Loc, h: HeartbeatSection, *, org: str, name: str
) -> HeartbeatSpec | None:
    """The schedule of one `heartbeat:` mapping, or None (reported) when it is unusable."""
    timezone = h.timezone or "UTC"
    checks = [_check_token(report, loc, h.token), _check_timezone(report, loc, h)]
    if (h.period is None) == (h.cron is None):
        both = h.period is not None
        report.add(
            loc,
            ("give either period or cron, not both" if both else "a heartbeat needs a schedule")
            + ': period: 1d (a ping at most a day apart) or cron: "0 3 * * *" (when the job runs)',
            at_key=True,
        )
        checks.append(False)
    if h.cron is not None:
        checks.append(_check_cron(report, loc, h.cron, timezone if timezone in _zones() else "UTC"))
    if not all(checks):
        return None
    return HeartbeatSpec(
        token=h.token or GENERATE_TOKEN,
        grace=h.grace if h.grace is not None else DEFAULT_GRACE,
        period=h.period,
        cron=None if h.cron is None else h.cron.strip(),
        timezone=timezone,
    )


def check_heartbeat_tokens(valid: Validated, report: Report, built: list[tuple[int, Check]]) -> None:
    """Each ping token leads to one check, and a listener exists to receive pings at all."""
    seen: dict[str, int] = {}
    pinged = [i for i, check in built if check.heartbeat is not None]
    for i, check in built:
        if check.heartbeat is None or check.heartbeat.token == GENERATE_TOKEN:  # distinct by construction
            continue
        first = seen.setdefault(check.heartbeat.token, i)
        if first != i:
            other = next(c for j, c in built if j == first)
            report.add(
                ("checks", i, "heartbeat", "token"),
                f'the same ping token is already used by check "{other.name}"'
                f' in organization "{other.org}": each heartbeat check needs its own',
            )
    engine = valid.section("engine", EngineSection)
    listening = engine is not None and engine.listen is not None
    if pinged and not listening and "listen" not in valid.dropped.get(("engine",), ()):
        report.add(
            ("checks", min(pinged), "heartbeat"),
            "heartbeat checks need engine.listen (HOST:PORT, like 127.0.0.1:8787) so their pings"
            " can reach the engine",
            at_key=True,
        )


def _check_token(report: Report, loc: Loc, token: str | None) -> bool:
    if token is None or TOKEN.fullmatch(token):
        return True
    # The value is secret: never echoed.
    report.add(
        (*loc, "token"),
        "expected 8 to 128 letters, digits, dashes or underscores (the token is the secret part of the"
        " ping URL; leave it out to have one derived from the check)",
    )
    return False


def _check_timezone(report: Report, loc: Loc, h: HeartbeatSection) -> bool:
    if h.timezone is None:
        return True
    if h.cron is None:
        report.add(
            (*loc, "timezone"),
            "a timezone only applies to a cron schedule (a period is the same in every time zone)",
            at_key=True,
        )
        return False
    if h.timezone in _zones():
        return True
    report.add(
        (*loc, "timezone"),
        f"unknown time zone {quote(h.timezone)}: expected an IANA name like Europe/Berlin or UTC"
        + suggest(h.timezone, set(_zones())),
    )
    return False


def _check_cron(report: Report, loc: Loc, expression: str, timezone: str) -> bool:
    text = expression.strip()
    fields = text.split()
    if text.lower() not in _CRON_ALIASES and (len(fields) != 5 or not croniter.is_valid(text)):
        report.add(
            (*loc, "cron"),
            f"invalid cron expression {quote(expression)}: expected five fields, minute hour"
            ' day-of-month month day-of-week, like "0 3 * * *" (03:00 every day)',
        )
        return False
    try:
        next_cron_fire(text, timezone, _REFERENCE)
    except CroniterError:
        report.add((*loc, "cron"), f"cron expression {quote(expression)} never fires (no such date)")
        return False
    return True


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}
