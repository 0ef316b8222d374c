"""The Teams screen's dialogs: invite someone, pick a new role, confirm a removal.

Each is a small modal that dismisses with the answer, or None on escape (nothing happens then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from pulsewatch.domain.accounts import Role

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 64; height: auto; padding: 1 2; background: $panel; border: tall $accent; }}
{name} .dialog-title {{ text-style: bold; margin-bottom: 1; }}
{name} .dialog-hint {{ color: $text-muted; margin-top: 1; }}
"""
ROLE_CHOICES = [(role.value, role) for role in Role]


@dataclass(frozen=True)
class Invitation:
    """What the invite dialog asks: who, with which role, and in which team (None: the organization)."""

    email: str
    role: Role
    team: str | None


class InviteDialog(ModalScreen[Invitation | None]):
    """Ask for an email, a role and, optionally, a team."""

    DEFAULT_CSS = DIALOG_CSS.format(name="InviteDialog")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="pw.dialog-cancel")]

    def __init__(self, org: str) -> None:
        super().__init__()
        self._org = org

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Invite someone to {self._org}", classes="dialog-title", markup=False)
            yield Input(placeholder="email", id="invite-email")
            yield Select(ROLE_CHOICES, value=Role.MEMBER, allow_blank=False, id="invite-role")
            yield Input(placeholder="team (empty: the whole organization)", id="invite-team")
            yield Label("enter: invite · escape: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#invite-email", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        email = self.query_one("#invite-email", Input).value.strip()
        if not email:
            self.query_one("#invite-email", Input).focus()
            return
        role = self.query_one("#invite-role", Select).value
        team = self.query_one("#invite-team", Input).value.strip() or None
        self.dismiss(Invitation(email, role if isinstance(role, Role) else Role.MEMBER, team))

    def action_cancel(self) -> None:
        """Close without inviting."""
        self.dismiss(None)


class RoleDialog(ModalScreen[Role | None]):
    """Pick a new role for one membership; enter on the list (or changing it) answers."""

    DEFAULT_CSS = DIALOG_CSS.format(name="RoleDialog")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="pw.dialog-cancel")]

    def __init__(self, who: str, current: Role) -> None:
        super().__init__()
        self._who = who
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"New role for {self._who}", classes="dialog-title", markup=False)
            yield Select(ROLE_CHOICES, value=self._current, allow_blank=False, id="role-choice")
            yield Label("pick a role to change it · escape: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Select).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, Role) and event.value is not self._current:
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: y answers True, n or escape False."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="pw.confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="pw.confirm-no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question, classes="dialog-title", markup=False)
            yield Label("y: yes · n or escape: no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)
