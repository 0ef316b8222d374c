"""The Teams screen: the members of the signed-in person's organizations, their teams and roles,
and (for those whose role allows it) invite, change a role, remove.

Everything goes through the `TeamDesk` (services.accounts.Accounts in production), which checks the
acting person's role and audits each change. Keys the role forbids still answer, with the reason
(Actor.refusal), so nobody wonders why nothing happened. Store calls run in thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label
from textual.worker import Worker, WorkerState

from pulsewatch.domain.accounts import Permission
from pulsewatch.errors import PulseWatchError
from tui.render import next_org, orgs_hint
from tui.screens.member_dialogs import ConfirmDialog, InviteDialog, RoleDialog

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.accounts import MemberView, Role
    from tui.navigation import ConsoleContext
    from tui.screens.member_dialogs import Invitation
    from tui.services import ConsoleServices, TeamDesk

NO_STORE = "No members here: the console runs without a database."


class MembersLoaded(Message):
    """A reload finished: the actor's organizations, the one shown, and its members."""

    def __init__(self, orgs: Sequence[str], org: str | None, members: Sequence[MemberView]) -> None:
        super().__init__()
        self.orgs = tuple(orgs)
        self.org = org
        self.members = tuple(members)


class MemberChangeFinished(Message):
    """A change ran: `error` is None when it succeeded, else what was refused or failed."""

    def __init__(self, done: str, error: PulseWatchError | None = None) -> None:
        super().__init__()
        self.done = done
        self.error = error


def member_key(member: MemberView) -> str:
    """The row key of one membership: a person may be in the organization and in several teams."""
    return f"{member.email}\t{member.team or ''}"


class TeamsScreen(Screen[None]):
    """Members of one organization at a time (`o` shows the next); invite, role, remove.

    Args:
        context: the console's clock and services (`services.teams`, `services.actor`).
    """

    HELP_SCOPE = "Teams"
    DEFAULT_CSS = """
    TeamsScreen #teams-org { text-style: bold; padding: 0 1; }
    TeamsScreen #members { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "invite", "Invite", tooltip="Invite someone to this organization (or a team).",
                id="pw.member-invite"),
        Binding("e", "change_role", "Change role", tooltip="Give the selected member another role.",
                id="pw.member-role"),
        Binding("x", "remove", "Remove", tooltip="Remove the selected membership.", id="pw.member-remove"),
        Binding("o", "next_org", "Next organization", tooltip="Show the members of your next organization.",
                id="pw.member-next-org"),
        Binding("f5", "reload", "Reload", show=False, tooltip="Read the members again now.",
                id="pw.member-reload"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="teams")
        self._pw = context
        self._orgs: tuple[str, ...] = ()
        self._org: str | None = None
        self._members: dict[str, MemberView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(NO_STORE if self._desk() is None else "Organization: …", id="teams-org", markup=False)
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#members", DataTable).add_columns("Email", "Name", "Scope", "Role", "Sign-in")
        self.query_one("#members", DataTable).focus()
        self.action_reload()

    def _services(self) -> ConsoleServices | None:
        return self._pw.services

    def _desk(self) -> TeamDesk | None:
        services = self._pw.services
        return services.teams if services is not None else None

    @property
    def org(self) -> str | None:
        """The organization shown."""
        return self._org

    @property
    def selected(self) -> MemberView | None:
        """The membership under the cursor (None when the list is empty)."""
        table = self.query_one("#members", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._members.get(key) if key is not None else None

    # -- loading ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="teams-reload")
    def _read(self, wanted: str | None) -> None:
        services, desk = self._services(), self._desk()
        if services is None or desk is None:
            return
        orgs = [o.slug for o in desk.organizations(services.actor)]
        org = wanted if wanted in orgs else (orgs[0] if orgs else None)
        members = desk.members(services.actor, org) if org is not None else []
        self.post_message(MembersLoaded(orgs, org, members))

    def on_members_loaded(self, message: MembersLoaded) -> None:
        self._orgs, self._org = message.orgs, message.org
        self._members = {member_key(m): m for m in message.members}
        table = self.query_one("#members", DataTable)
        kept = self.selected
        table.clear()
        for member in message.members:
            sign_in = "disabled" if member.disabled else ("yes" if member.can_sign_in else "invited")
            table.add_row(member.email, member.display_name, member.team or "(organization)",
                          member.role.value, sign_in, key=member_key(member))
        keys = [member_key(m) for m in message.members]
        if kept is not None and member_key(kept) in keys:
            table.move_cursor(row=keys.index(member_key(kept)), animate=False)
        label = "You belong to no organization."
        if self._org:
            label = f"Organization: {self._org} · {len(message.members)} memberships"
            label += orgs_hint(self._orgs)
        self.query_one("#teams-org", Label).update(label)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title="Could not read or change members", severity="error",
                        markup=False)

    # -- changes ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="teams-change")
    def _act(self, change: Callable[[], object], done: str) -> None:
        try:
            change()
        except PulseWatchError as error:  # refusals, last owner, unknown member: the person's to fix
            self.post_message(MemberChangeFinished(done, error))
            return
        self.post_message(MemberChangeFinished(done))

    def on_member_change_finished(self, message: MemberChangeFinished) -> None:
        if message.error is not None:
            self.notify(message.error.message, title=message.error.title, severity="error", markup=False)
        else:
            self.notify(message.done, timeout=3, markup=False)
        self.action_reload()

    def _allowed(self, team: str | None = None) -> tuple[ConsoleServices, TeamDesk, str] | None:
        """The services and organization when the actor may manage members there; else says why."""
        services, desk, org = self._services(), self._desk(), self._org
        if services is None or desk is None:
            self.notify(NO_STORE, severity="warning")
            return None
        if org is None:
            self.notify("You belong to no organization.", severity="warning")
            return None
        refusal = services.actor.refusal(Permission.MANAGE_MEMBERS, org, team)
        if refusal is not None:
            self.notify(refusal, title="Not allowed", severity="warning", markup=False)
            return None
        return services, desk, org

    def action_invite(self) -> None:
        """Ask who to invite, with which role and team, then invite them."""
        allowed = self._allowed()
        if allowed is None:
            return
        services, desk, org = allowed

        def invite(answer: Invitation | None) -> None:
            if answer is None:
                return
            now = self._pw.clock()
            self._act(lambda: desk.invite(services.actor, org, answer.email, answer.role, now=now,
                                          team=answer.team),
                      f"{answer.email} invited to {org} as {answer.role.value}")

        self.app.push_screen(InviteDialog(org), invite)

    def action_change_role(self) -> None:
        """Ask for the selected member's new role, then change it."""
        member = self.selected
        if member is None:
            self.notify("No member selected.", severity="warning")
            return
        allowed = self._allowed(member.team)
        if allowed is None:
            return
        services, desk, org = allowed

        def change(role: Role | None) -> None:
            if role is None:
                return
            now = self._pw.clock()
            self._act(lambda: desk.change_role(services.actor, org, member.email, role, now=now,
                                               team=member.team),
                      f"{member.email} is now {role.value}")

        self.app.push_screen(RoleDialog(member.email, member.role), change)

    def action_remove(self) -> None:
        """Ask, then remove the selected membership (the organization one removes every team's too)."""
        member = self.selected
        if member is None:
            self.notify("No member selected.", severity="warning")
            return
        allowed = self._allowed(member.team)
        if allowed is None:
            return
        services, desk, org = allowed
        scope = f"team {member.team} of {org}" if member.team else org

        def remove(yes: bool | None) -> None:
            if not yes:
                return
            now = self._pw.clock()
            self._act(lambda: desk.remove_member(services.actor, org, member.email, now=now,
                                                 team=member.team),
                      f"{member.email} removed from {scope}")

        self.app.push_screen(ConfirmDialog(f"Remove {member.email} from {scope}?"), remove)

    def action_next_org(self) -> None:
        """Show the next organization's members."""
        following = next_org(self._orgs, self._org)
        if following is not None:
            self._org = following
            self.action_reload()

    def action_reload(self) -> None:
        """Read the organizations and members again."""
        if self._desk() is not None:
            self._read(self._org)
