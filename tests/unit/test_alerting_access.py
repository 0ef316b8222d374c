"""Who may act on a channel: one with an organization needs the permission there; one from the YAML (no
organization) belongs to every organization and needs it in at least one of the actor's."""

from __future__ import annotations

import pytest

from pulsewatch.domain.accounts import Actor, Membership, Permission, Role
from pulsewatch.domain.alerting import Channel
from pulsewatch.services.alerting_access import channel_refusal

EVERYONE = Channel("ops", ("json://127.0.0.1:9/hook",))
ACME = Channel("acme-pager", ("json://127.0.0.1:9/pager",), org="acme")


def person(*roles: tuple[str, Role, str | None]) -> Actor:
    return Actor("p@x.test", tuple(Membership("p@x.test", org, role, team) for org, role, team in roles))


@pytest.mark.parametrize(
    ("actor", "channel", "allowed"),
    [
        (Actor.for_system("cli"), EVERYONE, True),
        (person(("acme", Role.ADMIN, None)), EVERYONE, True),
        (person(("acme", Role.VIEWER, None), ("beta", Role.ADMIN, None)), EVERYONE, True),
        (person(("acme", Role.ADMIN, None)), ACME, True),
        (person(("beta", Role.OWNER, None)), ACME, False),
        (person(("acme", Role.MEMBER, None)), EVERYONE, False),
        (person(("acme", Role.ADMIN, "web")), EVERYONE, False),  # a team role is not an organization's
        (person(), EVERYONE, False),
    ],
)
def test_managing_channels(actor: Actor, channel: Channel, allowed: bool) -> None:
    assert (channel_refusal(actor, channel, Permission.MANAGE_CHANNELS) is None) == allowed


def test_the_refusal_names_the_permission_and_the_best_role_held() -> None:
    actor = person(("acme", Role.VIEWER, None), ("beta", Role.MEMBER, None))
    assert channel_refusal(actor, EVERYONE, Permission.MANAGE_CHANNELS) == (
        "p@x.test is a member in organization beta and may not manage channels (needs admin or above)"
        " — channel ops belongs to every organization: that needs it in at least one"
    )
    assert channel_refusal(person(), EVERYONE, Permission.VIEW) == (
        "p@x.test has no role in any organization and may not view (needs viewer or above)"
        " — channel ops belongs to every organization: that needs it in at least one"
    )


def test_anyone_in_some_organization_sees_a_channel_of_every_organization() -> None:
    assert channel_refusal(person(("acme", Role.VIEWER, None)), EVERYONE, Permission.VIEW) is None
    assert channel_refusal(person(("beta", Role.VIEWER, None)), ACME, Permission.VIEW) is not None
