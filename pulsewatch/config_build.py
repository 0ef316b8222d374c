"""From validated sections to a LoadedConfig: references and uniqueness across the file.

Each section (and each list item) has already passed its pydantic model on its own; this module
checks what relates them and reports every problem through the shared `Report`, so one run of
`pulsewatch config validate` lists everything that is wrong, not just the first thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from pulsewatch.config_alerting import build_alerting
from pulsewatch.config_billing import check_billing
from pulsewatch.config_checks import build_checks
from pulsewatch.config_retention import RetentionSection, build_retention
from pulsewatch.config_schema import (
    ChannelSection,
    ConsoleSection,
    DatabaseSection,
    EngineSection,
    MemberSection,
    OrganizationSection,
    PlanSection,
)
from pulsewatch.config_status import ApiSection, build_api_settings, build_status_pages
from pulsewatch.config_types import (
    ChannelConfig,
    ConsoleSettings,
    EngineSettings,
    LoadedConfig,
    MemberConfig,
    Money,
    OrganizationConfig,
    PlanConfig,
    PlanLimits,
    TeamConfig,
)
from pulsewatch.config_yaml import Loc, Report, first_seen, listing, suggest

_DATABASE_URL = re.compile(r"(sqlite|mysql)(\+pool)?://.*", re.DOTALL)
_APPRISE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")

M = TypeVar("M", bound=BaseModel)


@dataclass
class Validated:
    """The file after per-section validation: valid models, and the raw data for everything else."""

    raw: dict[str, Any]
    sections: dict[str, BaseModel] = field(default_factory=dict)
    items: dict[str, list[tuple[int, BaseModel]]] = field(default_factory=dict)
    dropped: dict[Loc, frozenset[str]] = field(default_factory=dict)
    """Fields left out of a salvaged model (they had errors): relations using them are not checked."""

    def section(self, name: str, kind: type[M]) -> M | None:
        model = self.sections.get(name)
        return model if isinstance(model, kind) else None

    def list_items(self, name: str, kind: type[M]) -> list[tuple[int, M]]:
        return [(i, m) for i, m in self.items.get(name, []) if isinstance(m, kind)]

    def raw_names(self, name: str, key: str) -> set[str]:
        """Names written in a list section, valid or not: a reference to an item that failed its own
        validation is not reported a second time as unknown."""
        section = self.raw.get(name)
        if not isinstance(section, list):
            return set()
        return {item[key] for item in section if isinstance(item, dict) and isinstance(item.get(key), str)}


def build_config(
    valid: Validated, report: Report, environ: Mapping[str, str], path: Path | None
) -> LoadedConfig:
    """Turn validated sections into a LoadedConfig, reporting every cross-reference problem."""
    database = valid.section("database", DatabaseSection)
    engine = valid.section("engine", EngineSection) or EngineSection()
    console = valid.section("console", ConsoleSection) or ConsoleSection()
    database_url = _database_url(database, report, environ)
    channels = _channels(valid, report)
    plans = _plans(valid, report)
    organizations = _organizations(valid, report)
    checks = build_checks(valid, report, organizations, base_dir=path.parent if path else None)
    quota_problems = check_billing(valid, report, plans, organizations, checks)  # currencies; quotas
    return LoadedConfig(
        quota_problems=quota_problems,
        path=path,
        database_url=database_url,
        engine=EngineSettings(name=engine.name, listen=engine.listen, concurrency=engine.concurrency,
                              region=engine.region or "", lease=engine.lease, quorum=engine.quorum,
                              buffer=engine.buffer, watch=engine.watch),
        console=ConsoleSettings(theme=console.theme, keymap=dict(console.keymap)),
        channels=channels,
        plans=plans,
        organizations=organizations,
        checks=checks,
        retention=build_retention(valid.section("retention", RetentionSection)),
        alerting=build_alerting(valid, report, checks, channels),
        status_pages=build_status_pages(valid, report, checks, organizations),
        api=build_api_settings(valid.section("api", ApiSection)),
    )


def _database_url(database: DatabaseSection | None, report: Report, environ: Mapping[str, str]) -> str | None:
    if database is None or database.url is None:
        return environ.get("PULSEWATCH_DATABASE_URL") or None
    url = database.url.get_secret_value()
    if _DATABASE_URL.fullmatch(url) is None:
        report.add(
            ("database", "url"),
            "expected sqlite:///PATH or mysql://USER:PASSWORD@HOST:3306/DB"
            " (the value is not shown: it may hold a password)",
        )
    return url


def _channels(valid: Validated, report: Report) -> tuple[ChannelConfig, ...]:
    seen: dict[str, Loc] = {}
    result = []
    for i, channel in valid.list_items("channels", ChannelSection):
        if not first_seen(
            report, seen, channel.name, ("channels", i, "name"), f'channel name "{channel.name}"'
        ):
            continue
        for j, url in enumerate(channel.urls):
            if _APPRISE_URL.fullmatch(url.get_secret_value()) is None:
                report.add(
                    ("channels", i, "urls", j),
                    "expected an Apprise URL like json://HOST/PATH or mailto://USER@HOST"
                    " (the value is not shown: it is secret)",
                )
        result.append(ChannelConfig(name=channel.name, urls=tuple(channel.urls)))
    return tuple(result)


def _plans(valid: Validated, report: Report) -> tuple[PlanConfig, ...]:
    seen: dict[str, Loc] = {}
    result = []
    for i, plan in valid.list_items("plans", PlanSection):
        if not first_seen(report, seen, plan.name, ("plans", i, "name"), f'plan name "{plan.name}"'):
            continue
        limits = plan.limits
        result.append(
            PlanConfig(
                name=plan.name,
                price=Money(*plan.price) if plan.price is not None else None,
                limits=PlanLimits(
                    limits.checks, limits.min_interval, limits.seats, limits.retention, limits.sms,
                    limits.channels,
                ),
                overage_sms=Money(*plan.overage.sms) if plan.overage.sms is not None else None,
                overage_seat=Money(*plan.overage.seat) if plan.overage.seat is not None else None,
                trial=plan.trial,
                grace=plan.grace,
            )
        )
    return tuple(result)


def _members(report: Report, members: list[MemberSection], loc: Loc) -> tuple[MemberConfig, ...]:
    seen: dict[str, Loc] = {}
    result = []
    for j, member in enumerate(members):
        if first_seen(report, seen, member.email.lower(), (*loc, j, "email"), f'member "{member.email}"'):
            result.append(MemberConfig(email=member.email, role=member.role))
    return tuple(result)


def _organizations(valid: Validated, report: Report) -> tuple[OrganizationConfig, ...]:
    plan_names = valid.raw_names("plans", "name")
    seen: dict[str, Loc] = {}
    result = []
    for i, org in valid.list_items("organizations", OrganizationSection):
        base: Loc = ("organizations", i)
        if not first_seen(report, seen, org.slug, (*base, "slug"), f'organization slug "{org.slug}"'):
            continue
        if org.plan is not None and org.plan not in plan_names:
            report.add(
                (*base, "plan"),
                f'unknown plan "{org.plan}"; {listing("plans", plan_names)}' + suggest(org.plan, plan_names),
            )
        team_seen: dict[str, Loc] = {}
        teams = []
        for t, team in enumerate(org.teams):
            if first_seen(
                report, team_seen, team.name, (*base, "teams", t, "name"), f'team name "{team.name}"'
            ):
                members = _members(report, team.members, (*base, "teams", t, "members"))
                teams.append(TeamConfig(name=team.name, members=members))
        result.append(
            OrganizationConfig(
                slug=org.slug,
                name=org.name or org.slug,
                plan=org.plan,
                members=_members(report, org.members, (*base, "members")),
                teams=tuple(teams),
            )
        )
    return tuple(result)
