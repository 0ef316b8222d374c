"""The board as a feed: the app publishes each applied batch, every screen that shows it listens.

Screens live in several stacks at once (one per navigation mode, see tui/navigation.py), so the app
cannot reach them all through `screen_stack`. Instead each screen subscribes on mount and
unsubscribes on unmount. A listener that raises is a bug and propagates, as anywhere else in the
console: nothing here swallows errors (unlike Textual's Signal, which logs and carries on).
"""

from __future__ import annotations

from collections.abc import Callable

from tui.model import Board, BoardChange

Listener = Callable[[BoardChange], None]


class BoardFeed:
    """The latest board, and who wants to hear about the next one."""

    def __init__(self) -> None:
        self.board = Board()
        """Everything known about the engine, as of the last published batch."""
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every published change, until `unsubscribe(listener)`."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener`; harmless when it was not subscribed."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, change: BoardChange) -> None:
        """Make `change.board` the current board and tell every listener, in subscription order."""
        self.board = change.board
        for listener in list(self._listeners):
            listener(change)
