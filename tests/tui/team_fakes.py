"""A FakeTeamDesk: the console's TeamDesk over canned memberships, recording every change.

It refuses as the real Accounts does where the screen shows it (an actor without MANAGE_MEMBERS gets
PermissionDenied; the last owner cannot be removed) without a database.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import (
    AccountError,
    Actor,
    MemberView,
    Organization,
    Permission,
    PermissionDenied,
    Role,
    User,
)
from pulsewatch.errors import NotFoundError

if TYPE_CHECKING:
    from datetime import datetime


def canned_members() -> list[MemberView]:
    """The shop: one owner, one admin, a member, a viewer and an invited team member."""
    return [
        MemberView("olga@example.com", "Olga Owner", "shop", None, Role.OWNER, can_sign_in=True),
        MemberView("ada@example.com", "Ada Admin", "shop", None, Role.ADMIN, can_sign_in=True),
        MemberView("mo@example.com", "Mo Member", "shop", None, Role.MEMBER, can_sign_in=True),
        MemberView("vic@example.com", "Vic Viewer", "shop", None, Role.VIEWER, can_sign_in=True),
        MemberView("tess@example.com", "", "shop", "web", Role.MEMBER),
    ]


class FakeTeamDesk:
    """Organizations 'shop' and 'lab'; `calls` lists the changes asked for."""

    def __init__(self) -> None:
        self.members_by_org: dict[str, list[MemberView]] = {
            "shop": canned_members(),
            "lab": [MemberView("ada@example.com", "Ada Admin", "lab", None, Role.OWNER, can_sign_in=True)],
        }
        self.calls: list[tuple[str, ...]] = []

    def organizations(self, actor: Actor) -> list[Organization]:
        return [Organization(slug, slug.title()) for slug in self.members_by_org
                if actor.system or actor.role_in(slug) is not None]

    def members(self, actor: Actor, org: str) -> list[MemberView]:
        return list(self.members_by_org[org])

    def _require(self, actor: Actor, org: str, team: str | None) -> None:
        refusal = actor.refusal(Permission.MANAGE_MEMBERS, org, team)
        if refusal is not None:
            raise PermissionDenied(refusal, permission=Permission.MANAGE_MEMBERS,
                                   role=actor.role_in(org, team))

    def _find(self, org: str, email: str, team: str | None) -> MemberView:
        for member in self.members_by_org[org]:
            if member.email == email and member.team == team:
                return member
        raise NotFoundError(f"{email} is not a member of {org}")

    def invite(
        self, actor: Actor, org: str, email: str, role: Role, *, now: datetime, team: str | None = None
    ) -> User:
        self.calls.append(("invite", org, email, role.value, team or ""))
        self._require(actor, org, team)
        self.members_by_org[org].append(MemberView(email, "", org, team, role))
        return User(email)

    def change_role(
        self, actor: Actor, org: str, email: str, role: Role, *, now: datetime, team: str | None = None
    ) -> None:
        self.calls.append(("role", org, email, role.value))
        self._require(actor, org, team)
        member = self._find(org, email, team)
        members = self.members_by_org[org]
        members[members.index(member)] = replace(member, role=role)

    def remove_member(
        self, actor: Actor, org: str, email: str, *, now: datetime, team: str | None = None
    ) -> None:
        self.calls.append(("remove", org, email))
        self._require(actor, org, team)
        member = self._find(org, email, team)
        owners = [m for m in self.members_by_org[org] if m.role is Role.OWNER and m.team is None]
        if member.role is Role.OWNER and len(owners) == 1:
            raise AccountError(f"{org} would have no owner left")
        self.members_by_org[org].remove(member)
