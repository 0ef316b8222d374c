"""`pulsewatch user|org|team|audit`, `--as`, and the accounts side of `config apply` and `status`,
through `pulsewatch.cli.main` with passwords on stdin (never in argv)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from pulsewatch.cli import main

ORGS = """\
database:
  url: sqlite:///cli.db
organizations:
  - slug: acme
    name: Acme Inc
    members: [{email: ana@acme.test, role: owner}, {email: vi@acme.test, role: viewer}]
    teams: [{name: web, members: [{email: tw@acme.test, role: member}]}]
  - slug: beta
    name: Beta
    members: [{email: bea@beta.test, role: owner}]
checks:
  - name: api
    org: acme
    url: http://127.0.0.1:9/health
  - name: site
    org: acme
    team: web
    url: http://127.0.0.1:9/site
  - name: db
    org: beta
    url: tcp://127.0.0.1:9
"""

NO_ORGS = """\
database:
  url: sqlite:///solo.db
checks:
  - name: api
    url: http://127.0.0.1:9/health
"""


class Cli:
    def __init__(
        self, path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.path = path
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([*argv, "-c", str(self.path)])
        out, err = self.capsys.readouterr()
        return code, out, err


def make_cli(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> Cli:
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(text)
    return Cli(path, capsys, monkeypatch)


@pytest.fixture
def solo(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(tmp_path, NO_ORGS, capsys, monkeypatch)


@pytest.fixture
def acme(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """ORGS applied by `config`, and ana given a password (the bootstrap), so --as is now required."""
    cli = make_cli(tmp_path, ORGS, capsys, monkeypatch)
    assert cli("config", "apply")[0] == 0
    code, out, err = cli("user", "passwd", "ana@acme.test", "--password-stdin", stdin="ana's password\n")
    assert (code, out, err) == (0, "password set for ana@acme.test\n", "")
    return cli


class TestBootstrap:
    def test_the_first_user_is_added_without_as_then_as_is_required(self, solo: Cli) -> None:
        code, out, _ = solo("user", "add", "Ana@Example.test", "--org", "default", "--role", "owner",
                            "--name", "Ana", "--password-stdin", stdin="first password\n")
        assert code == 0
        assert out == "ana@example.test is now owner in organization default\n"

        code, _, err = solo("user", "add", "bo@example.test", "--org", "default", "--role", "viewer",
                            "--password-stdin", stdin="bo's password\n")
        assert code == 1
        assert "name who is acting (--as EMAIL)" in err

        assert solo("user", "add", "bo@example.test", "--org", "default", "--role", "viewer",
                    "--password-stdin", "--as", "ana@example.test", stdin="bo's password\n")[0] == 0
        _, out, _ = solo("user", "list")
        assert out.splitlines()[1:] == [
            "ana@example.test  Ana   active  default: owner",
            "bo@example.test   -     active  default: viewer",
        ]

    def test_the_first_user_must_be_an_owner(self, solo: Cli) -> None:
        code, _, err = solo("user", "add", "a@example.test", "--org", "default", "--role", "admin",
                            "--password-stdin", stdin="first password\n")
        assert code == 1
        assert "must be its owner" in err


class TestPasswords:
    def test_a_password_is_never_an_argument(self, solo: Cli) -> None:
        argv = ("user", "add", "a@x.test", "--org", "default", "--role", "owner", "--password", "pw")
        assert solo(*argv)[0] == 2

    def test_the_prompt_asks_twice(self, solo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
        answers = iter(["typed password", "typed password"])
        monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
        assert solo("user", "add", "a@x.test", "--org", "default", "--role", "owner")[0] == 0

        answers = iter(["one password", "another one"])
        code, _, err = solo("user", "passwd", "a@x.test", "--as", "a@x.test")
        assert code == 1
        assert "the two passwords differ" in err

    def test_weak_or_missing_passwords_are_refused(self, solo: Cli) -> None:
        base = ("user", "add", "a@x.test", "--org", "default", "--role", "owner", "--password-stdin")
        assert "too short" in solo(*base, stdin="short\n")[2]
        assert "no password on standard input" in solo(*base, stdin="")[2]

    def test_a_bad_email_is_bad_usage(self, solo: Cli) -> None:
        code, _, err = solo("user", "add", "not-an-email", "--org", "default", "--role", "owner")
        assert code == 2
        assert "is not an email address" in err


class TestConfigApply:
    def test_organizations_and_members_are_applied_and_audited(self, acme: Cli) -> None:
        assert acme("org", "list")[1].splitlines() == [
            "SLUG  NAME      PLAN", "acme  Acme Inc  -", "beta  Beta      -"
        ]
        code, out, _ = acme("team", "list", "--org", "acme")
        assert code == 0
        assert out.splitlines()[1] == "web   tw@acme.test (member)"

        _, out, _ = acme("audit", "--json", "--as", "ana@acme.test")
        entries = json.loads(out)
        assert {(e["actor"], e["action"]) for e in entries} >= {
            ("config", "org.create"), ("config", "member.add"), ("config", "check.create"),
            ("bootstrap", "user.password"),
        }
        assert {e["org"] for e in entries} == {"acme"}  # ana's organization only
        assert ("config", "check.create", "acme/api") in {
            (e["actor"], e["action"], e["target"]) for e in entries
        }

    def test_plan_shows_account_changes(self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
        cli = make_cli(tmp_path, ORGS, capsys, monkeypatch)
        _, out, _ = cli("config", "plan")
        assert "+ organization acme (Acme Inc)" in out
        assert "+ member tw@acme.test: member in team acme/web" in out

    def test_apply_as_a_user_is_checked_and_recorded_under_their_name(self, acme: Cli) -> None:
        acme.path.write_text(ORGS.replace("url: http://127.0.0.1:9/health", "url: http://127.0.0.1:9/v2"))
        assert acme("config", "apply", "--as", "ana@acme.test")[0] == 0
        _, out, _ = acme("audit", "--org", "acme", "--since", "1h", "--as", "ana@acme.test")
        update = next(line for line in out.splitlines() if "check.update" in line)
        assert "ana@acme.test" in update
        assert "url: http://127.0.0.1:9/health → http://127.0.0.1:9/v2" in update

    def test_status_as_shows_only_that_users_checks(self, acme: Cli) -> None:
        def names(*who: str) -> list[str]:
            code, out, _ = acme("status", "--json", *who)
            assert code == 0
            return [f"{row['org']}/{row['name']}" for row in json.loads(out)]

        assert names() == ["acme/api", "acme/site", "beta/db"]
        assert names("--as", "ana@acme.test") == ["acme/api", "acme/site"]
        assert names("--as", "bea@beta.test") == ["beta/db"]
        assert names("--as", "tw@acme.test") == ["acme/site"]
        code, _, err = acme("status", "--as", "nobody@acme.test")
        assert code == 1
        assert "no user nobody@acme.test" in err


VIEWER_COMMANDS = {
    "user add": ("user", "add", "x@acme.test", "--org", "acme", "--role", "viewer", "--password-stdin"),
    "user passwd": ("user", "passwd", "ana@acme.test", "--password-stdin"),
    "user disable": ("user", "disable", "tw@acme.test"),
    "user enable": ("user", "enable", "tw@acme.test"),
    "user role": ("user", "role", "vi@acme.test", "--org", "acme", "--role", "owner"),
    "user remove": ("user", "remove", "tw@acme.test", "--org", "acme", "--team", "web"),
    "config apply": ("config", "apply"),
    "audit": ("audit",),
}


@pytest.mark.parametrize("command", VIEWER_COMMANDS)
def test_a_viewer_can_change_nothing_through_the_cli(acme: Cli, command: str) -> None:
    if command == "config apply":
        acme.path.write_text(ORGS.replace("  - name: site", "  - name: new\n    org: acme\n    url: http://x\n"
                                          "  - name: site"))
    _, before, _ = acme("audit", "--json")
    code, out, err = acme(*VIEWER_COMMANDS[command], "--as", "vi@acme.test", stdin="a fine password\n")
    assert code == 1
    assert out == ""
    assert err.startswith("pulsewatch: vi@acme.test is a viewer in")
    assert "may not" in err
    assert acme("audit", "--json")[1] == before


class TestReads:
    def test_org_and_user_lists_follow_as(self, acme: Cli) -> None:
        assert acme("org", "list", "--as", "bea@beta.test")[1].splitlines()[1:] == ["beta  Beta  -"]
        out = acme("user", "list", "--org", "acme", "--as", "vi@acme.test")[1]
        assert out.splitlines()[1:] == [
            "ana@acme.test  -     active   acme: owner",
            "tw@acme.test   -     invited  acme/web: member",
            "vi@acme.test   -     invited  acme: viewer",
        ]
        code, _, err = acme("team", "list", "--org", "beta", "--as", "ana@acme.test")
        assert code == 1
        assert "ana@acme.test has no role in organization beta" in err

    def test_audit_since_must_be_a_time_or_an_age(self, acme: Cli) -> None:
        code, _, err = acme("audit", "--since", "yesterday")
        assert code == 2
        assert "expected an ISO date/time" in err
        assert acme("audit", "--since", "2999-01-01")[1] == "no audit entries\n"

    def test_disable_and_role_changes_show_in_the_log(self, acme: Cli) -> None:
        assert acme("user", "disable", "tw@acme.test", "--as", "ana@acme.test")[0] == 0
        assert acme("user", "role", "vi@acme.test", "--org", "acme", "--role", "admin",
                    "--as", "ana@acme.test")[0] == 0
        assert acme("user", "remove", "vi@acme.test", "--org", "acme", "--as", "ana@acme.test")[0] == 0
        rows = json.loads(acme("audit", "--json", "--limit", "3")[1])
        assert [(r["action"], r["target"], r["actor"]) for r in rows] == [
            ("member.remove", "vi@acme.test", "ana@acme.test"),
            ("member.role", "vi@acme.test", "ana@acme.test"),
            ("user.disable", "tw@acme.test", "ana@acme.test"),
        ]
        code, _, err = acme("status", "--as", "tw@acme.test")
        assert code == 1
        assert "tw@acme.test is disabled" in err
