"""Peewee records of the `commands` table: actions an attached console leaves for the engines.

A row is inserted waiting (claimed_by NULL, done_at NULL), claimed by exactly one engine with a
conditional UPDATE, and finished with an outcome (see pulsewatch.domain.commands). The index on
`done_at` serves the three hot questions — what is still open (done_at IS NULL), and what finished
long enough ago to prune — while the table holds at most a day of history.
"""

from __future__ import annotations

import json

from peewee import BigAutoField, CharField, IntegerField, TextField

from engine.storage.fields import InstantField
from engine.storage.records import WORD_LIMIT, BaseRecord, _cut
from pulsewatch.domain.commands import MAX_MESSAGE, MAX_NAME, MAX_ORG, Command, CommandAction, CommandOutcome


class CommandRecord(BaseRecord):
    """One command for the engines, and how it ended."""

    id = BigAutoField()
    org = CharField(max_length=MAX_ORG)
    check_id = IntegerField(null=True)
    action = CharField(max_length=16)
    args = TextField(default="{}")
    requested_by = CharField(max_length=MAX_NAME)
    requested_at = InstantField()
    claimed_by = CharField(max_length=WORD_LIMIT, null=True)
    claimed_at = InstantField(null=True)
    done_at = InstantField(null=True)
    outcome = CharField(max_length=16, null=True)
    message = TextField(default="")

    class Meta:
        table_name = "commands"
        indexes = ((("done_at",), False),)

    def to_domain(self) -> Command:
        return Command(
            action=CommandAction(self.action),
            org=self.org,
            requested_by=self.requested_by,
            requested_at=self.requested_at,
            check_id=self.check_id,
            args=json.loads(self.args or "{}"),
            claimed_by=self.claimed_by,
            claimed_at=self.claimed_at,
            done_at=self.done_at,
            outcome=CommandOutcome(self.outcome) if self.outcome else None,
            message=self.message,
            id=self.id,
        )

    @classmethod
    def from_domain(cls, command: Command) -> CommandRecord:
        return cls(
            id=command.id,
            org=command.org,
            check_id=command.check_id,
            action=command.action.value,
            args=json.dumps(command.args, sort_keys=True, separators=(",", ":")),
            requested_by=command.requested_by,
            requested_at=command.requested_at,
            claimed_by=command.claimed_by,
            claimed_at=command.claimed_at,
            done_at=command.done_at,
            outcome=command.outcome.value if command.outcome else None,
            message=cut_message(command.message),
        )


def cut_message(text: str) -> str:
    """An outcome message as stored: one line of at most MAX_MESSAGE characters."""
    return _cut(" ".join(text.split()), MAX_MESSAGE)


COMMAND_RECORDS = (CommandRecord,)
"""The commands table (see engine.storage.migrations)."""
