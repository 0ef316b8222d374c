"""A viewer can change nothing, through any command: each mutating command run `--as` a viewer exits 1,
says which permission is missing, prints nothing on stdout, and leaves every row of the database as it
was (a full dump of the SQLite file is compared before and after).

A guard test walks the command line: every command that takes `--as` is either a read listed in READS
or has a row in MUTATING, so a new mutating command cannot arrive without being held to this.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.storage.alerting_store import AlertStore
from engine.storage.store import open_store
from pulsewatch.cli import build_parser, main
from pulsewatch.cli.billing_wiring import billing_service
from pulsewatch.config import load_config
from pulsewatch.domain.accounts import Actor, Permission
from pulsewatch.domain.alerting import Severity
from pulsewatch.domain.monitoring import Flip, Status

CONFIG = """\
database:
  url: sqlite:///viewer.db
engine:
  listen: 127.0.0.1:8787
channels:
  - name: ops
    urls: ["json://127.0.0.1:9/hook"]
plans:
  - {name: starter, price: 19.00 USD, limits: {checks: 50}}
organizations:
  - slug: acme
    name: Acme Inc
    plan: starter
    members: [{email: ana@acme.test, role: owner}, {email: vi@acme.test, role: viewer}]
    teams: [{name: web, members: [{email: tw@acme.test, role: member}]}]
  - slug: beta
    name: Beta
    members: [{email: bea@beta.test, role: owner}]
checks:
  - name: api
    org: acme
    url: http://127.0.0.1:9/health
    tags: [prod]
  - name: site
    org: acme
    team: web
    url: http://127.0.0.1:9/site
  - name: nightly
    org: acme
    heartbeat: {period: 1d}
  - name: db
    org: beta
    url: tcp://127.0.0.1:9
"""

VIEWER = "vi@acme.test"
OWNER = "ana@acme.test"


@dataclass
class World:
    """The database after setup: the incident, silence, API key and invoice a viewer will try to touch."""

    path: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    incident: int = 0
    silence: int = 0
    api_key: int = 0
    invoice: str = ""

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([*argv, "-c", str(self.path)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def dump(self) -> list[str]:
        """Every row of every table (and the schema), in SQL: the whole database as text."""
        with sqlite3.connect(self.path.parent / "viewer.db") as db:
            return list(db.iterdump())


@pytest.fixture
def world(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> World:
    """CONFIG applied, ana given a password (so `--as` is required from now on), an incident open for
    acme/api, a silence on it, an API key and an invoice — all made by people allowed to (the invoice
    by the billing service, 45 days on: the command line only closes periods that have ended)."""
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(CONFIG)
    w = World(path, capsys, monkeypatch)
    assert w("config", "apply")[0] == 0
    assert w("user", "passwd", OWNER, "--password-stdin", stdin="ana's password\n")[0] == 0

    store = open_store(f"sqlite:///{tmp_path / 'viewer.db'}")
    try:
        api = next(c for c in store.load_checks() if (c.org, c.name) == ("acme", "api"))
        flip = Flip(api.id or 0, datetime.now(UTC), Status.UP, Status.DOWN, reason="HTTP 503")
        incident = AlertStore(store).apply_flip(flip, api, Severity.CRITICAL)
        assert incident is not None
        w.incident = incident.id or 0
    finally:
        store.close()

    code, out, _ = w("silence", "add", "--check", "api", "--for", "2h", "--reason", "deploy", "--as", OWNER)
    assert code == 0
    w.silence = int(out.split(":")[0].removeprefix("silence #"))
    assert w("apikey", "create", "--org", "acme", "--role", "viewer", "--as", OWNER)[0] == 0
    [key] = json.loads(w("apikey", "list", "--json", "--as", OWNER)[1])
    w.api_key = key["id"]

    store = open_store(f"sqlite:///{tmp_path / 'viewer.db'}")
    try:
        later = datetime.now(UTC) + timedelta(days=45)
        billing = billing_service(load_config(path), store)
        w.invoice = billing.close_period(Actor.for_system("test"), "acme", later)[0].number
    finally:
        store.close()
    return w


MUTATING: dict[str, tuple[Permission, tuple[str, ...]]] = {
    "user add": (Permission.MANAGE_MEMBERS,
                 ("user", "add", "x@acme.test", "--org", "acme", "--role", "viewer", "--password-stdin")),
    "user passwd": (Permission.MANAGE_MEMBERS, ("user", "passwd", OWNER, "--password-stdin")),
    "user disable": (Permission.MANAGE_MEMBERS, ("user", "disable", "tw@acme.test")),
    "user enable": (Permission.MANAGE_MEMBERS, ("user", "enable", "tw@acme.test")),
    "user role": (Permission.MANAGE_MEMBERS, ("user", "role", VIEWER, "--org", "acme", "--role", "owner")),
    "user remove": (Permission.MANAGE_MEMBERS,
                    ("user", "remove", "tw@acme.test", "--org", "acme", "--team", "web")),
    "config apply": (Permission.CREATE_CHECKS, ("config", "apply")),
    "incident ack": (Permission.ACK_INCIDENTS, ("incident", "ack", "{incident}", "--note", "mine")),
    "incident resolve": (Permission.ACK_INCIDENTS, ("incident", "resolve", "{incident}")),
    "incident note": (Permission.ACK_INCIDENTS, ("incident", "note", "{incident}", "looked at it")),
    "silence add": (Permission.SILENCE_ALERTS,
                    ("silence", "add", "--tag", "prod", "--for", "1h", "--reason", "r")),
    "silence remove": (Permission.SILENCE_ALERTS, ("silence", "remove", "{silence}")),
    "channel test": (Permission.MANAGE_CHANNELS, ("channel", "test", "ops")),
    "apikey create": (Permission.MANAGE_API_KEYS, ("apikey", "create", "--org", "acme", "--role", "admin")),
    "apikey revoke": (Permission.MANAGE_API_KEYS, ("apikey", "revoke", "{api_key}")),
    "billing close-period": (Permission.MANAGE_BILLING, ("billing", "close-period", "--org", "acme")),
    "billing mark-paid": (Permission.MANAGE_BILLING, ("billing", "mark-paid", "{invoice}")),
    "billing change-plan": (Permission.MANAGE_BILLING,
                            ("billing", "change-plan", "--org", "acme", "--plan", "none")),
}
"""Every command that changes something, what it needs, and its arguments (ids filled in from World)."""

READS = frozenset({
    "status", "user list", "org list", "team list", "audit", "incident list", "incident show",
    "channel list", "silence list", "apikey list", "billing show", "billing invoices",
})
"""The commands with `--as` that only read."""


@pytest.mark.parametrize("command", MUTATING)
def test_a_viewer_changes_nothing(world: World, command: str) -> None:
    permission, template = MUTATING[command]
    ids = {k: getattr(world, k) for k in ("incident", "silence", "api_key", "invoice")}
    argv = [a.format(**ids) for a in template]
    if command == "config apply":  # something to apply: a new check in the viewer's organization
        world.path.write_text(CONFIG.replace("  - name: site\n", "  - name: new\n    org: acme\n"
                                             "    url: http://127.0.0.1:9/new\n  - name: site\n"))
    before = world.dump()

    code, out, err = world(*argv, "--as", VIEWER, stdin="a fine password\n")

    assert (code, out) == (1, "")
    where = "(organization acme|team acme/web)"  # a team's member is managed in the team
    refusal = f"pulsewatch: {re.escape(VIEWER)} is a viewer in {where} and may not {permission.value} "
    assert re.match(refusal, err)
    assert world.dump() == before


def test_the_owner_can_do_what_the_viewer_could_not(world: World) -> None:
    """The refusals above are the roles at work, not broken commands: the same incident, as ana."""
    assert world("incident", "ack", str(world.incident), "--as", OWNER)[0] == 0
    assert world("silence", "remove", str(world.silence), "--as", OWNER)[0] == 0
    assert world("apikey", "revoke", str(world.api_key), "--as", OWNER)[0] == 0
    assert world("billing", "mark-paid", world.invoice, "--as", OWNER)[0] == 0


def test_every_command_with_as_is_a_read_or_held_to_the_viewer_test() -> None:
    with_as = set()

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*words, name])
                return
        if any("--as" in a.option_strings for a in parser._actions):
            with_as.add(" ".join(words))

    walk(build_parser(), [])
    assert with_as - READS == set(MUTATING), "a mutating command needs a row in MUTATING (or READS)"
