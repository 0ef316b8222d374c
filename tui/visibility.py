"""What a signed-in person may see and do in the console: their organizations' checks only, and
the actions their role allows (the refusal text says why not).

Pure functions over the board and the Actor, so the app applies them to every batch and tests
check them without a screen. The system actor (no accounts in the database) sees and may do all.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.events import RunNow, SetPaused

if TYPE_CHECKING:
    from pulsewatch.domain.accounts import Actor
    from pulsewatch.domain.events import EngineCommand
    from pulsewatch.domain.monitoring import Check
    from tui.model import Board, BoardChange


def may_see(actor: Actor, check: Check) -> bool:
    """True when the check belongs to the actor's organization (and team, for team-only members)."""
    return actor.can(Permission.VIEW, check.org, check.team)


def visible_board(board: Board, actor: Actor) -> Board:
    """The board without the checks `actor` may not see (the same board for the system actor)."""
    if actor.system:
        return board
    keep = {cid for cid, view in board.views.items() if may_see(actor, view.check)}
    if len(keep) == len(board.views):
        return board
    return replace(
        board,
        views=MappingProxyType({cid: v for cid, v in board.views.items() if cid in keep}),
        histories=MappingProxyType({cid: h for cid, h in board.histories.items() if cid in keep}),
        trends=MappingProxyType({cid: t for cid, t in board.trends.items() if cid in keep}),
    )


def visible_change(change: BoardChange, actor: Actor) -> BoardChange:
    """`change` as `actor` may see it: hidden checks leave the board and the changed sets."""
    board = visible_board(change.board, actor)
    if board is change.board:
        return change
    return replace(
        change,
        board=board,
        changed=frozenset(cid for cid in change.changed if cid in board.views),
        histories=frozenset(cid for cid in change.histories if cid in board.views),
    )


COMMAND_PERMISSIONS: dict[type, Permission] = {
    RunNow: Permission.RUN_CHECKS,
    SetPaused: Permission.PAUSE_CHECKS,
}
"""The engine commands a role may forbid, and the permission each needs."""


def command_refusal(actor: Actor, command: EngineCommand, board: Board) -> str | None:
    """Why `actor` may not send `command` (None when they may, or when it needs no permission)."""
    permission = COMMAND_PERMISSIONS.get(type(command))
    check_id = getattr(command, "check_id", None)
    view = board.views.get(check_id) if isinstance(check_id, int) else None
    if permission is None or view is None:
        return None
    return actor.refusal(permission, view.check.org, view.check.team)
