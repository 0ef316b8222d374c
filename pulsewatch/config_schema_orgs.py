"""`plans:` and `organizations:` as pydantic models: tenants, their members and teams, and what plans allow.

Only shapes and single values are checked here; that a plan named by an organization exists, or a
member's email is unique, is checked in `config_build`, and what the limits mean is
`config_billing`'s. Kept apart from `config_schema` (which names them in `ConfigFile`) because
billing and tenancy grow on their own.
"""

from __future__ import annotations

from pydantic import Field

from pulsewatch.config_schema_values import Duration, Email, Money, Name, Role, Section, Slug, Text


class PlanLimitsSection(Section):
    """A plan's `limits:`; an absent limit means unlimited."""

    checks: int | None = Field(default=None, ge=0)
    """Most checks an organization on this plan may have."""
    min_interval: Duration | None = None
    """Shortest interval its checks may use."""
    seats: int | None = Field(default=None, ge=1)
    """Most members (users) in the organization."""
    retention: Duration | None = None
    """How long raw probe results are kept."""
    sms: int | None = Field(default=None, ge=0)
    """SMS notifications included per billing period."""
    channels: int | None = Field(default=None, ge=0)
    """Most distinct alert channels the organization's checks may notify."""


class PlanOverageSection(Section):
    """A plan's `overage:` — prices of use beyond the included amounts (same currency as `price`)."""

    sms: Money | None = None
    """Per SMS beyond `limits.sms`; unset: past the quota, SMS alerts go to the next channel instead."""
    seat: Money | None = None
    """Per member beyond `limits.seats`, per billing period; unset: `seats` is the most members."""


class PlanSection(Section):
    """One entry of `plans:`."""

    name: Name
    """What organizations name in `plan:`; unique."""
    price: Money | None = None
    """Price per billing period with its currency, like `19.00 USD`; unset: free."""
    limits: PlanLimitsSection = PlanLimitsSection()
    """What an organization on this plan may use."""
    overage: PlanOverageSection = PlanOverageSection()
    """What use beyond the limits costs (pulsewatch.config_billing)."""
    trial: Duration | None = None
    """A new subscription's first period is a free trial this long, in whole days like `14d`."""
    grace: Duration | None = None
    """How long an invoice may stay unpaid before edits are blocked (whole days; default 14d)."""


class MemberSection(Section):
    """A member of an organization or a team."""

    email: Email
    """The user's email address (their login)."""
    role: Role = "member"
    """owner, admin, member or viewer."""


class TeamSection(Section):
    """One entry of an organization's `teams:`."""

    name: Name
    """Unique within the organization; checks name it in `team:`."""
    members: list[MemberSection] = Field(default_factory=list)
    """Members of this team (they are members of the organization too)."""


class OrganizationSection(Section):
    """One entry of `organizations:` — a tenant."""

    slug: Slug
    """Short id used by checks (`org:`), URLs (/status/SLUG) and commands; unique."""
    name: Text | None = None
    """Display name (default: the slug)."""
    plan: Name | None = None
    """A plan from `plans:`; unset: not limited."""
    members: list[MemberSection] = Field(default_factory=list)
    """Members of the organization with their role."""
    teams: list[TeamSection] = Field(default_factory=list)
    """Teams inside the organization."""
