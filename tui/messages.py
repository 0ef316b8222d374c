"""Messages that cross the console's screens: engine wake-ups going down, commands going up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from pulsewatch.domain.events import EngineCommand


class EventsPending(Message):
    """The engine inbox went from empty to non-empty: drain it.

    Posted from the engine thread (`post_message` is thread-safe). At most one is outstanding per
    drain, and `can_replace` lets a busy queue fold any duplicate into one (toolong's pattern).
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EventsPending)


@dataclass
class CommandRequested(Message):
    """A screen asks the app to send a command to the engine (run now, pause, load history)."""

    command: EngineCommand
    describe: str = ""
    """What to tell the person once the engine accepted it ("Probing api now"); empty for nothing."""
