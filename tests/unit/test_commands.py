"""The commands vocabulary: what a valid command is, how it reads to a person, when it is overdue, and
who it acts as (pure core; an in-memory accounts store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulsewatch.domain.accounts import Membership, PermissionDenied, Role, User
from pulsewatch.domain.commands import (
    CLAIM_TIMEOUT,
    RUN_TIMEOUT,
    Command,
    CommandAction,
    CommandError,
    CommandOutcome,
    CommandSettled,
    describe,
    new_command,
    nobody_took_it,
    stuck,
    unclaimed_for_too_long,
)
from pulsewatch.domain.monitoring import Check
from pulsewatch.services.commands import check_command_refusal, command_actor
from tests.unit.accounts_fakes import MemoryAccountsStore

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def make(action: str, check_id: int | None = None, **args: Any) -> Command:
    return new_command(action, org="acme", requested_by="ana@acme.test", now=NOW, check_id=check_id,
                       args=args)


class TestValidation:
    @pytest.mark.parametrize(
        ("action", "check_id", "args"),
        [
            ("run_now", 3, {}),
            ("pause", 3, {}),
            ("resume", 3, {}),
            ("ack", None, {"incident_id": 12}),
            ("ack", 3, {"incident_id": 12, "note": "looking"}),
            ("resolve", 3, {"incident_id": 12}),
            ("silence", None, {"check": "api", "duration": 3600, "reason": "deploy"}),
            ("silence", None, {"tag": "prod", "duration": 90.5, "reason": "maintenance"}),
        ],
    )
    def test_valid_commands(self, action: str, check_id: int | None, args: dict[str, Any]) -> None:
        command = make(action, check_id, **args)
        assert command.action is CommandAction(action)
        assert command.waiting
        assert command.args.get("note", "") == args.get("note", "")

    @pytest.mark.parametrize(
        ("action", "check_id", "args", "says"),
        [
            ("reboot", 3, {}, "unknown command 'reboot'"),
            ("pause", None, {}, "check_id must be a positive integer"),
            ("pause", 0, {}, "check_id must be a positive integer"),
            ("pause", True, {}, "check_id must be a positive integer"),
            ("run_now", 3, {"now": True}, "run_now takes no arguments"),
            ("ack", None, {}, "ack needs incident_id"),
            ("ack", None, {"incident_id": "12"}, "incident_id must be a positive integer"),
            ("ack", None, {"incident_id": 1, "note": 5}, "note must be text"),
            ("ack", None, {"incident_id": 1, "note": "x" * 2001}, "at most 2000"),
            ("resolve", None, {"incident_id": 1, "note": "x"}, "resolve does not take note"),
            ("silence", None, {"duration": 60, "reason": "r"}, "either `check` or `tag`"),
            ("silence", None, {"check": "a", "tag": "b", "duration": 60, "reason": "r"}, "either `check`"),
            ("silence", None, {"check": "a", "duration": 0, "reason": "r"}, "positive number of seconds"),
            ("silence", None, {"check": "a", "duration": "1h", "reason": "r"}, "positive number of seconds"),
            ("silence", None, {"check": "a", "duration": 60, "reason": " "}, "reason must be non-empty"),
            ("silence", None, {"check": "a", "duration": 60}, "silence needs reason"),
        ],
    )
    def test_bad_commands_say_which_field(
        self, action: str, check_id: Any, args: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(CommandError) as error:
            make(action, check_id, **args)
        assert says in error.value.message

    def test_org_and_requester_are_required(self) -> None:
        with pytest.raises(CommandError, match="org must be non-empty"):
            new_command("pause", org="", requested_by="console", now=NOW, check_id=1)
        with pytest.raises(CommandError, match="requested_by is longer"):
            new_command("pause", org="acme", requested_by="x" * 201, now=NOW, check_id=1)


class TestLifecycle:
    def test_unclaimed_past_the_timeout_is_overdue(self) -> None:
        command = make("pause", 3)
        assert not unclaimed_for_too_long(command, NOW + timedelta(seconds=CLAIM_TIMEOUT))
        assert unclaimed_for_too_long(command, NOW + timedelta(seconds=CLAIM_TIMEOUT + 1))
        claimed = replace(command, claimed_by="e1", claimed_at=NOW)
        assert not unclaimed_for_too_long(claimed, NOW + timedelta(hours=1))
        assert not stuck(claimed, NOW + timedelta(seconds=RUN_TIMEOUT))
        assert stuck(claimed, NOW + timedelta(seconds=RUN_TIMEOUT + 1))
        assert not stuck(replace(claimed, done_at=NOW), NOW + timedelta(hours=1))

    @pytest.mark.parametrize(
        ("live", "action", "says"),
        [
            (0, "pause", "no engine is running"),
            (2, "pause", "no engine owns api"),
            (2, "resolve", "do not execute console commands"),
        ],
    )
    def test_why_nobody_took_it(self, live: int, action: str, says: str) -> None:
        command = make(action, 3) if action == "pause" else make(action, None, incident_id=4)
        assert says in nobody_took_it(command, live_engines=live, check_name="api")

    def test_how_a_person_reads_commands_and_outcomes(self) -> None:
        assert describe(make("run_now", 3), "api") == "run now api"
        assert describe(make("ack", None, incident_id=12)) == "ack incident #12"
        silence = make("silence", None, tag="prod", duration=7200, reason="r")
        assert describe(silence) == "silence tag prod for 2h"
        done = replace(make("pause", 3), claimed_by="e1", done_at=NOW, outcome=CommandOutcome.OK)
        assert CommandSettled(done, "api").text == "pause api: sent → done by engine e1"
        refused = replace(done, outcome=CommandOutcome.REFUSED, message="viewer may not")
        assert CommandSettled(refused, "api").text == "pause api: sent → refused by engine e1: viewer may not"
        failed = replace(done, claimed_by=None, outcome=CommandOutcome.FAILED, message="no engine")
        assert CommandSettled(failed, "api").text == "pause api: sent → failed: no engine"


class TestActingAs:
    def accounts(self, *, password: bool) -> MemoryAccountsStore:
        store = MemoryAccountsStore()
        store.save_user(User("ana@acme.test", password_hash="hash" if password else None))
        store.save_user(User("vic@acme.test", password_hash="hash" if password else None))
        store.save_user(User("gone@acme.test", disabled=True))
        store.save_membership(Membership("ana@acme.test", "acme", Role.MEMBER))
        store.save_membership(Membership("vic@acme.test", "acme", Role.VIEWER))
        return store

    def test_the_console_acts_as_the_system_only_while_nobody_can_sign_in(self) -> None:
        assert command_actor(self.accounts(password=False), "console").system
        with pytest.raises(PermissionDenied, match="sign in to the console"):
            command_actor(self.accounts(password=True), "console")

    def test_a_user_acts_with_the_roles_held_now(self) -> None:
        accounts = self.accounts(password=True)
        api = Check(name="api", url="http://x", kind="http", org="acme", id=3)
        ana = command_actor(accounts, "ana@acme.test")
        vic = command_actor(accounts, "vic@acme.test")
        assert check_command_refusal(ana, make("pause", 3), api) is None
        refusal = check_command_refusal(vic, make("pause", 3), api)
        assert refusal is not None
        assert "may not pause" in refusal
        assert "check acme/api" in refusal
        with pytest.raises(PermissionDenied, match="disabled"):
            command_actor(accounts, "gone@acme.test")
        with pytest.raises(PermissionDenied):
            command_actor(accounts, "nobody@acme.test")
