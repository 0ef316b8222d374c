"""Roles in `pulsewatch incident|silence|channel --as EMAIL`: each organization sees and handles only its
own incidents and silences, a team's member only that team's, channels from the YAML belong to every
organization, and every change lands in the audit log under the person's name."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.storage.alerting_store import AlertStore
from engine.storage.store import open_store
from pulsewatch.cli import main
from pulsewatch.domain.alerting import Severity
from pulsewatch.domain.monitoring import Flip, Status

CONFIG = """\
database:
  url: sqlite:///roles.db
channels:
  - name: dead
    urls: ["json://127.0.0.1:1/nothing-listens-here"]
organizations:
  - slug: acme
    name: Acme Inc
    members:
      - {email: ana@acme.test, role: owner}
      - {email: mo@acme.test, role: member}
      - {email: vi@acme.test, role: viewer}
    teams: [{name: web, members: [{email: tw@acme.test, role: member}]}]
  - slug: beta
    name: Beta
    members: [{email: bea@beta.test, role: owner}]
checks:
  - {name: api, org: acme, url: "http://127.0.0.1:9/api", tags: [prod]}
  - {name: site, org: acme, team: web, url: "http://127.0.0.1:9/site", tags: [front]}
  - {name: api, org: beta, url: "http://127.0.0.1:9/beta", tags: [prod]}
"""


@dataclass
class Roles:
    path: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    incidents: dict[str, int]
    everyone_silence: int = 0

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([*argv, "-c", str(self.path)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> list[dict[str, object]]:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        found: list[dict[str, object]] = json.loads(out)
        return found

    def incident_checks(self, *who: str) -> list[str]:
        return sorted(f"{i['org']}/{i['check']}" for i in self.json("incident", "list", *who))


@pytest.fixture
def roles(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Roles:
    """CONFIG applied; an incident for every check; a silence for every organization made during the
    bootstrap; then ana gets a password, so changes need `--as` from here on."""
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(CONFIG)
    r = Roles(path, capsys, monkeypatch, {})
    assert r("config", "apply")[0] == 0
    store = open_store(f"sqlite:///{tmp_path / 'roles.db'}")
    try:
        for check in store.load_checks():
            flip = Flip(check.id or 0, datetime.now(UTC), Status.UP, Status.DOWN, reason="HTTP 503")
            incident = AlertStore(store).apply_flip(flip, check, Severity.CRITICAL)
            assert incident is not None
            r.incidents[f"{check.org}/{check.name}"] = incident.id or 0
    finally:
        store.close()
    code, out, _ = r("silence", "add", "--tag", "prod", "--for", "2h", "--reason", "dc move")
    assert code == 0
    r.everyone_silence = int(out.split(":")[0].removeprefix("silence #"))
    assert r("user", "passwd", "ana@acme.test", "--password-stdin", stdin="ana's password\n")[0] == 0
    return r


class TestIncidents:
    def test_each_organization_and_team_sees_its_own(self, roles: Roles) -> None:
        assert roles.incident_checks() == ["acme/api", "acme/site", "beta/api"]
        assert roles.incident_checks("--as", "ana@acme.test") == ["acme/api", "acme/site"]
        assert roles.incident_checks("--as", "vi@acme.test") == ["acme/api", "acme/site"]
        assert roles.incident_checks("--as", "bea@beta.test") == ["beta/api"]
        assert roles.incident_checks("--as", "tw@acme.test") == ["acme/site"]

    def test_another_organizations_incident_does_not_exist_for_you(self, roles: Roles) -> None:
        acme_api = str(roles.incidents["acme/api"])
        commands = (("show", acme_api), ("ack", acme_api), ("resolve", acme_api), ("note", acme_api, "x"))
        for command in commands:
            code, out, err = roles("incident", *command, "--as", "bea@beta.test")
            assert (code, out, err) == (1, "", f"pulsewatch: no incident #{acme_api}\n")
        code, _, err = roles("incident", "ack", acme_api, "--as", "tw@acme.test")  # another team's
        assert (code, err) == (1, f"pulsewatch: no incident #{acme_api}\n")

    def test_members_handle_incidents_and_the_audit_log_says_who(self, roles: Roles) -> None:
        acme_api, site = str(roles.incidents["acme/api"]), str(roles.incidents["acme/site"])
        assert roles("incident", "ack", acme_api, "--note", "on it", "--as", "mo@acme.test")[0] == 0
        assert roles("incident", "note", acme_api, "rolled back", "--as", "mo@acme.test")[0] == 0
        assert roles("incident", "resolve", site, "--as", "tw@acme.test")[0] == 0
        entries = roles.json("audit", "--as", "ana@acme.test")
        assert [(e["actor"], e["action"], e["target"], e["org"]) for e in entries[:3]] == [
            ("tw@acme.test", "incident.resolve", f"incident #{site} (acme/site)", "acme"),
            ("mo@acme.test", "incident.note", f"incident #{acme_api} (acme/api)", "acme"),
            ("mo@acme.test", "incident.ack", f"incident #{acme_api} (acme/api)", "acme"),
        ]
        assert entries[2]["after"] == {"status": "acknowledged", "note": "on it"}
        beta_log = roles.json("audit", "--as", "bea@beta.test")
        assert not any(str(e["action"]).startswith("incident.") for e in beta_log)

    def test_changes_without_as_are_refused_once_someone_can_sign_in(self, roles: Roles) -> None:
        code, _, err = roles("incident", "ack", str(roles.incidents["acme/api"]))
        assert code == 1
        assert "name who is acting (--as EMAIL)" in err
        assert roles("incident", "show", str(roles.incidents["beta/api"]))[0] == 0  # reads still work


class TestSilences:
    def test_a_persons_silence_stays_in_their_organization(self, roles: Roles) -> None:
        code, out, _ = roles("silence", "add", "--check", "site", "--for", "1h", "--reason", "deploy",
                             "--as", "tw@acme.test")
        assert code == 0
        assert "check site in acme" in out
        acme = roles.json("silence", "list", "--as", "ana@acme.test")
        beta = roles.json("silence", "list", "--as", "bea@beta.test")
        assert [(s["org"], s["checks"], s["tags"]) for s in acme] == [
            ("acme", ["site"], []), (None, [], ["prod"])
        ]
        assert [(s["org"], s["tags"]) for s in beta] == [(None, ["prod"])]  # made for every organization

    def test_a_name_in_two_organizations_needs_org(self, roles: Roles) -> None:
        argv = ("silence", "add", "--check", "api", "--for", "1h", "--reason", "r", "--as", "ana@acme.test")
        code, _, err = roles(*argv)
        assert code == 2
        assert err == "pulsewatch: check api is in organizations acme, beta: say which with --org\n"
        assert roles(*argv, "--org", "acme")[0] == 0
        code, _, err = roles(*argv, "--org", "beta")
        assert code == 1
        assert "ana@acme.test has no role in organization beta and may not silence alerts" in err

    def test_a_team_member_silences_only_their_teams_checks(self, roles: Roles) -> None:
        add = ("silence", "add", "--for", "1h", "--reason", "r", "--as", "tw@acme.test")
        assert roles(*add, "--tag", "front")[0] == 0
        code, _, err = roles(*add, "--tag", "prod", "--org", "acme")
        assert code == 1
        assert "tw@acme.test has no role in organization acme and may not silence alerts" in err
        assert err.rstrip().endswith("— check acme/api")

    def test_ending_a_silence_needs_the_permission_on_every_check_it_covers(self, roles: Roles) -> None:
        everyone = str(roles.everyone_silence)
        code, _, err = roles("silence", "remove", everyone, "--as", "bea@beta.test")
        assert code == 1
        assert "bea@beta.test has no role in organization acme and may not silence alerts" in err
        code, out, _ = roles("silence", "add", "--check", "api", "--org", "beta", "--for", "1h",
                             "--reason", "r", "--as", "bea@beta.test")
        beta_own = out.split(":")[0].removeprefix("silence #")
        code, _, err = roles("silence", "remove", beta_own, "--as", "ana@acme.test")
        assert (code, err) == (1, f"pulsewatch: no silence with id {beta_own}\n")
        assert roles("silence", "remove", beta_own, "--as", "bea@beta.test")[0] == 0
        ends = [e for e in roles.json("audit", "--as", "bea@beta.test") if e["action"] == "silence.end"]
        assert [(e["actor"], e["target"], e["org"]) for e in ends] == [
            ("bea@beta.test", f"silence #{beta_own}", "beta")
        ]


class TestChannels:
    def test_a_yaml_channel_belongs_to_every_organization(self, roles: Roles) -> None:
        """Testing it needs `manage channels` in at least one organization: bea (owner of beta) may,
        vi (viewer of acme) may not; both see it."""
        code, _, err = roles("channel", "test", "dead", "--as", "vi@acme.test")
        assert code == 1
        assert err.startswith(
            "pulsewatch: vi@acme.test is a viewer in organization acme and may not manage channels"
        )
        assert "belongs to every organization" in err
        code, _, err = roles("channel", "test", "dead", "--as", "bea@beta.test")
        assert code == 1
        assert "test message to dead failed" in err  # allowed: it got as far as sending
        for who in ("vi@acme.test", "bea@beta.test"):
            assert [c["name"] for c in roles.json("channel", "list", "--as", who)] == ["dead"]

    def test_someone_in_no_organization_sees_no_channel(self, roles: Roles) -> None:
        assert roles("user", "remove", "mo@acme.test", "--org", "acme", "--as", "ana@acme.test")[0] == 0
        assert roles.json("channel", "list", "--as", "mo@acme.test") == []
        code, _, err = roles("channel", "test", "dead", "--as", "mo@acme.test")
        assert code == 1
        assert "mo@acme.test has no role in any organization and may not manage channels" in err
