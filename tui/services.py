"""What the console needs of the people-facing services, as Protocols the composition root fills.

The console must not import engine.storage (import-linter), so the CLI builds the real services
(pulsewatch.services.alerting_access.AlertingAccess over the SqlStore) and hands them over typed as
these Protocols; tests hand over fakes. Every method blocks on the store: screens call them from
Textual thread workers, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain.accounts import Actor

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.accounts import MemberView, Organization, Role, User
    from pulsewatch.domain.alerting import Incident, Silence, TimelineEntry
    from pulsewatch.domain.audit import AuditEntry
    from pulsewatch.domain.engines import EngineRoster
    from pulsewatch.domain.notifications import Notification
    from pulsewatch.domain.rollups import Level, Rollup
    from pulsewatch.domain.uptime import UptimeTally
    from pulsewatch.services.alerting import ChannelView
    from pulsewatch.services.billing import BillingOverview


class IncidentDesk(Protocol):
    """Incidents as a person handles them, checked against the actor's roles (AlertingAccess)."""

    def incidents(self, actor: Actor, *, open_only: bool = False, limit: int = 100) -> list[Incident]: ...
    def incident(self, actor: Actor, incident_id: int) -> tuple[Incident, list[TimelineEntry]]: ...
    def acknowledge(self, actor: Actor, incident_id: int, note: str, now: datetime) -> Incident: ...
    def resolve(self, actor: Actor, incident_id: int, now: datetime) -> Incident: ...
    def note(self, actor: Actor, incident_id: int, text: str, now: datetime) -> None: ...
    def add_silence(
        self,
        actor: Actor,
        *,
        check: str | None,
        tag: str | None,
        duration: float,
        reason: str,
        now: datetime,
        org: str | None = None,
    ) -> Silence:
        """Silence one check or tag for `duration` seconds; raises PermissionDenied when refused."""
        ...


class TeamDesk(Protocol):
    """Organizations and their members, checked against the actor's roles (services.accounts.Accounts)."""

    def organizations(self, actor: Actor) -> list[Organization]: ...
    def members(self, actor: Actor, org: str) -> list[MemberView]: ...
    def invite(
        self, actor: Actor, org: str, email: str, role: Role, *, now: datetime, team: str | None = None
    ) -> User: ...
    def change_role(
        self, actor: Actor, org: str, email: str, role: Role, *, now: datetime, team: str | None = None
    ) -> None: ...
    def remove_member(
        self, actor: Actor, org: str, email: str, *, now: datetime, team: str | None = None
    ) -> None: ...


class AuditDesk(Protocol):
    """The audit log as a person reads it (services.accounts.Accounts): viewing it needs admin."""

    def audit_log(
        self, actor: Actor, *, org: str | None = None, since: datetime | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """Entries newest first; raises PermissionDenied when the actor may not view the log."""
        ...


class ChannelDesk(Protocol):
    """Channels with their health, and the delivery log (services.console_channels.ChannelBoard)."""

    def views(self, actor: Actor) -> list[ChannelView]: ...
    def deliveries(self, actor: Actor, *, limit: int = 100) -> list[Notification]: ...


class BillingDesk(Protocol):
    """One organization's plan, usage, projected and past invoices (services.billing.Billing)."""

    def overview(self, actor: Actor, org: str, now: datetime) -> BillingOverview:
        """Raises PermissionDenied unless the actor may manage billing there (owners)."""
        ...


class EngineDesk(Protocol):
    """The engines sharing the database (engine.storage.cluster_store.ClusterStore.roster).

    No actor: engines belong to the installation, not to an organization, and their names, regions
    and load tell nothing about any tenant's checks.
    """

    def roster(self) -> EngineRoster:
        """Every engine known to the database, read now on the database's clock."""
        ...


class RollupDesk(Protocol):
    """Stored uptime and latency from the rollups (engine.storage.uptime_store.UptimeStore).

    No actor: the grid and the detail ask only for checks the board already shows the person
    (`tui.visibility` filtered them), and the tally is counts by check id, nothing more.
    """

    def uptime(self, now: datetime) -> UptimeTally:
        """Every check's stored probes in the grid's 24h and 7d windows, up to `now`'s minute."""
        ...

    def latency_buckets(self, check_id: int, level: Level, since: datetime, until: datetime) -> list[Rollup]:
        """One check's buckets over [since, until), oldest first, mostly of `level`."""
        ...


class SignInDesk(Protocol):
    """Signing in with a password (pulsewatch.services.signin.SignIn)."""

    def authenticate(self, email: str, password: str, now: datetime) -> Actor:
        """The signed-in actor; raises LockedOut or AuthenticationFailed (PulseWatchErrors)."""
        ...


CONSOLE_ACTOR = Actor.for_system("console")
"""Who acts when the database has no accounts: everything is allowed, as before accounts existed."""


@dataclass
class ConsoleServices:
    """The stored-data services the console's screens use, and who is acting through them.

    Mutable on purpose: `actor` is who the console acts as, for permission checks and the audit log;
    the login screen replaces it with the signed-in person.
    """

    incidents: IncidentDesk
    actor: Actor = field(default=CONSOLE_ACTOR)
    teams: TeamDesk | None = None
    """Members and roles (None: the Teams screen says it has no database)."""
    channels: ChannelDesk | None = None
    """Alert channels and deliveries (None: the Channels screen says it has no database)."""
    audit: AuditDesk | None = None
    """Who changed what (None: the Audit screen says it has no database)."""
    billing: BillingDesk | None = None
    """The organization's plan and invoices (None: no plans configured, nothing is billed)."""
    engines: EngineDesk | None = None
    """The engines on the database, their leases and load (None: the Engines screen says why)."""
    rollups: RollupDesk | None = None
    """Stored uptime and latency (None: the grid and the detail count what the console has seen)."""
    signin: SignInDesk | None = None
    """Set when accounts exist (someone can sign in): the console asks who you are before showing
    anything. None: no accounts, no login, everything allowed."""
