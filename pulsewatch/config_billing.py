"""The billing side of the config: plans become domain `Plan`s, and quotas are checked at load.

A plan that cannot be billed (two currencies, a trial of 36 hours) is a configuration error like any
other. Checks and members beyond their plan are located while the file is read and kept on the
loaded config (`quota_problems`); every path that applies the file refuses them the same way with
`require_within_plans` — `config validate|plan|apply`, the engine's start-up sync and its reloads all
exit 2 (or keep the running config) listing each violation at the line of the offending check or
member: "plan starter allows 50 checks; acme would have 51". Loading alone does not refuse them, so
tools that only read a file (and the documented examples) keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.config_schema import CheckSection, OrganizationSection
from pulsewatch.config_yaml import Report
from pulsewatch.domain.billing import DEFAULT_GRACE_DAYS, OveragePrices, Plan, PlanLimits
from pulsewatch.domain.money import BillingError, Money
from pulsewatch.domain.monitoring import DEFAULT_ORG
from pulsewatch.domain.quotas import check_violations, seat_refusal
from pulsewatch.errors import ConfigError

if TYPE_CHECKING:
    from pulsewatch.config_build import Validated
    from pulsewatch.config_types import LoadedConfig, OrganizationConfig, PlanConfig
    from pulsewatch.config_yaml import Loc, Problem
    from pulsewatch.domain.monitoring import Check

DEFAULT_CURRENCY = "USD"
"""The currency of free plans when no plan has a price."""
_DAY = 86400.0


@dataclass(frozen=True)
class BillingConfig:
    """The config's plans as domain objects, and the one currency they share."""

    plans: dict[str, Plan]
    currency: str


def billing_config(config: LoadedConfig) -> BillingConfig:
    """The loaded config's plans (a loaded config has passed `check_billing`: they all convert)."""
    currency = plans_currency(config.plans)
    return BillingConfig({p.name: plan_from_config(p, currency) for p in config.plans}, currency)


def plans_currency(plans: tuple[PlanConfig, ...]) -> str:
    """The currency of the first priced plan (the config requires every plan to use it)."""
    for plan in plans:
        for money in (plan.price, plan.overage_sms, plan.overage_seat):
            if money is not None:
                return money.currency
    return DEFAULT_CURRENCY


def plan_from_config(plan: PlanConfig, currency: str) -> Plan:
    """A config plan as a domain `Plan`; no price means free in `currency`.

    Raises:
        BillingError: the plan breaks a domain rule (currencies, a price that is not whole cents).
    """
    limits = plan.limits
    return Plan(
        name=plan.name,
        price=plan.price if plan.price is not None else Money.zero(currency),
        limits=PlanLimits(
            checks=limits.checks,
            min_interval=limits.min_interval,
            seats=limits.seats,
            channels=limits.channels,
            sms_per_month=limits.sms,
            retention_days=None if limits.retention is None else int(limits.retention // _DAY),
        ),
        overage=OveragePrices(sms=plan.overage_sms, seat=plan.overage_seat),
        trial_days=int((plan.trial or 0) // _DAY),
        grace_days=DEFAULT_GRACE_DAYS if plan.grace is None else int(plan.grace // _DAY),
    )


def check_billing(
    valid: Validated,
    report: Report,
    plans: tuple[PlanConfig, ...],
    organizations: tuple[OrganizationConfig, ...],
    checks: tuple[Check, ...],
) -> tuple[Problem, ...]:
    """Report plans that cannot be billed; return where organizations go beyond their plan's limits."""
    currency = plans_currency(plans)
    indexes = {name: i for i, name in _plan_names(valid)}
    domain: dict[str, Plan] = {}
    for plan in plans:
        base: Loc = ("plans", indexes.get(plan.name, 0))
        if _plan_problems(report, base, plan, currency):
            continue
        try:
            domain[plan.name] = plan_from_config(plan, currency)
        except BillingError as error:
            report.add(base, error.message)
    quotas = Report(report.smap)
    check_index = _check_indexes(valid)
    org_index = {org.slug: i for i, org in valid.list_items("organizations", OrganizationSection)}
    for org in organizations:
        plan_obj = domain.get(org.plan or "")
        if plan_obj is None:
            continue
        mine = [c for c in checks if c.org == org.slug]
        for violation in check_violations(plan_obj, org.slug, mine):
            i = check_index.get(violation.check) if violation.check else None
            loc: Loc = ("organizations", org_index.get(org.slug, 0), "plan")
            if i is not None:
                loc = ("checks", i, violation.field)
                if violation.field == "notify":
                    loc = (*loc, violation.index)
            quotas.add(loc, violation.message)
        _seat_problems(quotas, plan_obj, org, org_index.get(org.slug, 0))
    return tuple(sorted(quotas.problems, key=lambda p: (p.line, p.column)))


def require_within_plans(config: LoadedConfig) -> None:
    """Refuse a config whose checks or members go beyond their organization's plan.

    Raises:
        ConfigError: every violation as `FILE:LINE:COL: field: plan starter allows ...` (exit 2).
    """
    if config.quota_problems:
        source = str(config.path) if config.path is not None else "<string>"
        lines = [p.render(source) for p in config.quota_problems]
        count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
        raise ConfigError(f"{source}: {count} with the plans:\n" + "\n".join(lines), lines)


def _plan_problems(report: Report, base: Loc, plan: PlanConfig, currency: str) -> bool:
    """Report another currency, or a trial, grace or retention that is not whole days; True when
    there was one."""
    found = False
    for field, money in (
        (("price",), plan.price),
        (("overage", "sms"), plan.overage_sms),
        (
            ("overage", "seat"),
            plan.overage_seat,
        ),
    ):
        if money is not None and money.currency != currency:
            report.add(
                (*base, *field),
                f"every plan must use one currency: {money.currency} here, {currency} in the first "
                "priced plan (invoices never mix currencies)",
            )
            found = True
    for name, seconds in (("trial", plan.trial), ("grace", plan.grace)):
        if seconds is not None and seconds % _DAY:
            report.add((*base, name), "expected whole days, like 14d (billing counts days)")
            found = True
    retention = plan.limits.retention
    if retention is not None and retention % _DAY:  # durations are positive: at least 1d
        report.add(
            (*base, "limits", "retention"), "expected whole days, like 30d (raw results are kept by the day)"
        )
        found = True
    return found


def _seat_problems(report: Report, plan: Plan, org: OrganizationConfig, index: int) -> None:
    """Report each declared member beyond the plan's seats, at that member's email."""
    seen: list[str] = []
    places: list[tuple[str, Loc]] = [
        (m.email.lower(), ("organizations", index, "members", j, "email")) for j, m in enumerate(org.members)
    ]
    for t, team in enumerate(org.teams):
        places += [
            (m.email.lower(), ("organizations", index, "teams", t, "members", j, "email"))
            for j, m in enumerate(team.members)
        ]
    total = len({email for email, _ in places})
    for email, loc in places:
        if email in seen:
            continue
        seen.append(email)
        if seat_refusal(plan, org.slug, len(seen)) is not None:
            report.add(loc, seat_refusal(plan, org.slug, total) or "")


def _plan_names(valid: Validated) -> list[tuple[int, str]]:
    raw = valid.raw.get("plans")
    if not isinstance(raw, list):
        return []
    return [
        (i, p["name"]) for i, p in enumerate(raw) if isinstance(p, dict) and isinstance(p.get("name"), str)
    ]


def _check_indexes(valid: Validated) -> dict[tuple[str, str], int]:
    """(org, name) → the check's index in `checks:` (org resolved as the loader does)."""
    slugs = sorted(valid.raw_names("organizations", "slug"))
    found: dict[tuple[str, str], int] = {}
    for i, section in valid.list_items("checks", CheckSection):
        org = section.org or (slugs[0] if len(slugs) == 1 else DEFAULT_ORG)
        found.setdefault((org, section.name), i)
    return found
