"""`pulsewatch user|org|team|audit` and `--as EMAIL` (config apply and status: `config_accounts.py`).

Who is acting:
  * `--as EMAIL` acts as that user: every change is checked against their roles and recorded under
    their name. It names a user, it does not prove who you are — whoever can run commands against
    the database is trusted that far; the console's sign-in is the authenticated path.
  * Without `--as`, changes are allowed only while nobody can sign in yet (the bootstrap): the first
    user added to an empty database must be an owner. After that, name the acting user.
  * `config apply` without `--as` acts as the system actor `config`; reads without `--as` show all.
Passwords are read from a prompt (getpass, asked twice) or, with `--password-stdin`, from the first
line of standard input — never from the command line, where `ps` and shell history would keep them.
"""

from __future__ import annotations

import getpass
import json
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.cli import EXIT_OK, EXIT_USAGE, add_config_option, wiring
from pulsewatch.cli.config_accounts import signin_for
from pulsewatch.domain.accounts import AccountError, Actor, Role, normalize_email

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Sequence

    from pulsewatch.domain.audit import AuditEntry
    from pulsewatch.services.accounts import Accounts
    from pulsewatch.services.signin import SignIn

ROLE_NAMES = [r.value for r in reversed(Role)]
_SINCE = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_as_option(parser: argparse.ArgumentParser) -> None:
    """`--as EMAIL`: act as that user (their roles are checked, the audit log names them)."""
    parser.add_argument("--as", dest="as_user", metavar="EMAIL", help="act as this user (roles are checked)")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The account commands: user, org, team, audit."""
    user = commands.add_parser(
        "user", help="users and their roles: add, passwd, disable, enable, role, remove, list"
    )
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    add = add_acting_command(
        actions, "add", "give a person a role in an organization or team (new account?)", run_add
    )
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--org", required=True, metavar="SLUG", help="the organization")
    add.add_argument("--role", required=True, choices=ROLE_NAMES, help="the role to grant")
    add.add_argument("--team", metavar="TEAM", help="a team of the organization (default: organization-wide)")
    add.add_argument("--name", metavar="NAME", default="", help="display name of a new user")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    passwd = add_acting_command(
        actions, "passwd", "set a user's password (prompted, or --password-stdin)", run_passwd
    )
    passwd.add_argument("email", metavar="EMAIL")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    for name, text in (("disable", "stop a user from signing in and acting"), ("enable", "undo disable")):
        add_acting_command(actions, name, text, run_disable).add_argument("email", metavar="EMAIL")

    role = add_acting_command(actions, "role", "change a member's role", run_role)
    role.add_argument("email", metavar="EMAIL")
    role.add_argument("--org", required=True, metavar="SLUG")
    role.add_argument("--role", required=True, choices=ROLE_NAMES)
    role.add_argument("--team", metavar="TEAM")

    remove = add_acting_command(
        actions, "remove", "remove a member from a team, or from the organization", run_remove
    )
    remove.add_argument("email", metavar="EMAIL")
    remove.add_argument("--org", required=True, metavar="SLUG")
    remove.add_argument("--team", metavar="TEAM")

    add_acting_command(
        actions, "list", "users and their roles", run_user_list).add_argument("--org", metavar="SLUG"
    )

    org = commands.add_parser("org", help="organizations")
    org_actions = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    add_acting_command(org_actions, "list", "the organizations (with --as: yours)", run_org_list)

    team = commands.add_parser("team", help="teams")
    team_actions = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    add_acting_command(team_actions, "list", "the teams of an organization", run_team_list).add_argument(
        "--org", required=True, metavar="SLUG"
    )

    audit = commands.add_parser("audit", help="who changed what, when: the audit log, newest first")
    add_config_option(audit)
    add_as_option(audit)
    audit.add_argument("--org", metavar="SLUG", help="only this organization")
    audit.add_argument("--since", metavar="WHEN", help="ISO date/time (UTC) or an age: 30m, 24h, 7d, 2w")
    audit.add_argument("--limit", type=int, default=200, metavar="N", help="at most N entries (default 200)")
    audit.add_argument("--json", action="store_true", help="print a JSON list (for scripts)")
    audit.set_defaults(handler=run_audit)


def add_acting_command(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str, handler: object
) -> argparse.ArgumentParser:
    """A subcommand that acts on someone's behalf: `-c FILE`, `--as EMAIL` and its handler.

    Shared by the account, billing and alerting commands, so every one of them reads the config and
    names its actor the same way.
    """
    parser = actions.add_parser(name, help=text)
    add_config_option(parser)
    add_as_option(parser)
    parser.set_defaults(handler=handler)
    return parser


# -- handlers ----------------------------------------------------------------------------------


def run_add(args: argparse.Namespace) -> int:
    """`user add EMAIL --org SLUG --role ROLE [--team T] [--name NAME] [--password-stdin]`."""
    email = _email_or_none(args.email)
    if email is None:
        return EXIT_USAGE
    with _session(args) as s:
        actor = s.acting()
        new = s.accounts.find_user(email) is None
        password = _read_new_password(args.password_stdin) if new else None
        s.accounts.add_user(
            actor, email, org=args.org, role=Role(args.role), team=args.team,
            display_name=args.name, password=password, now=_now(),
        )
    where = f"team {args.org}/{args.team}" if args.team else f"organization {args.org}"
    print(f"{email} is now {args.role} in {where}" + ("" if new else " (existing account)"))
    return EXIT_OK


def run_passwd(args: argparse.Namespace) -> int:
    """`user passwd EMAIL [--password-stdin]`."""
    email = _email_or_none(args.email)
    if email is None:
        return EXIT_USAGE
    with _session(args) as s:
        actor = s.acting()
        s.accounts.set_password(actor, email, _read_new_password(args.password_stdin), _now())
    print(f"password set for {email}")
    return EXIT_OK


def run_disable(args: argparse.Namespace) -> int:
    """`user disable|enable EMAIL`."""
    email = _email_or_none(args.email)
    if email is None:
        return EXIT_USAGE
    disabled = args.user_command == "disable"
    with _session(args) as s:
        s.accounts.set_disabled(s.acting(), email, disabled, _now())
    print(f"{email} is {'disabled' if disabled else 'enabled'}")
    return EXIT_OK


def run_role(args: argparse.Namespace) -> int:
    """`user role EMAIL --org SLUG --role ROLE [--team T]`."""
    with _session(args) as s:
        s.accounts.change_role(
            s.acting(), args.org, args.email, Role(args.role), team=args.team, now=_now()
        )
    print(f"{normalize_email(args.email)} is now {args.role}")
    return EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    """`user remove EMAIL --org SLUG [--team T]`."""
    with _session(args) as s:
        s.accounts.remove_member(s.acting(), args.org, args.email, team=args.team, now=_now())
    where = f"team {args.org}/{args.team}" if args.team else f"organization {args.org}"
    print(f"{normalize_email(args.email)} removed from {where}")
    return EXIT_OK


def run_user_list(args: argparse.Namespace) -> int:
    """`user list [--org SLUG]`: email, name, state and roles."""
    with _session(args) as s:
        listings = s.accounts.list_users(s.reading(), args.org)
    rows = [("EMAIL", "NAME", "STATE", "ROLES")]
    for item in listings:
        user = item.user
        state = "disabled" if user.disabled else "active" if user.password_hash else "invited"
        roles = ", ".join(
            f"{m.org}{'/' + m.team if m.team else ''}: {m.role.value}" for m in item.memberships
        )
        rows.append((user.email, user.display_name or "-", state, roles or "-"))
    print(_table(rows) if listings else "no users")
    return EXIT_OK


def run_org_list(args: argparse.Namespace) -> int:
    """`org list`: slug, name, plan."""
    with _session(args) as s:
        orgs = s.accounts.organizations(s.reading())
    rows = [("SLUG", "NAME", "PLAN")] + [(o.slug, o.name, o.plan or "-") for o in orgs]
    print(_table(rows) if orgs else "no organizations (run `pulsewatch config apply`)")
    return EXIT_OK


def run_team_list(args: argparse.Namespace) -> int:
    """`team list --org SLUG`: each team with its members and their roles."""
    with _session(args) as s:
        actor = s.reading()
        teams = s.accounts.teams(actor, args.org)
        members = s.accounts.members(actor, args.org)
    rows = [("TEAM", "MEMBERS")]
    for team in teams:
        names = [f"{m.email} ({m.role.value})" for m in members if m.team == team.name]
        rows.append((team.name, ", ".join(names) or "-"))
    print(_table(rows) if teams else f"no teams in organization {args.org}")
    return EXIT_OK


def run_audit(args: argparse.Namespace) -> int:
    """`audit [--org SLUG] [--since WHEN] [--limit N] [--json]`."""
    now = _now()
    since = None
    if args.since:
        since = parse_since(args.since, now)
        if since is None:
            print(f"pulsewatch: --since {args.since!r}: expected an ISO date/time like 2025-03-04 or "
                  "2025-03-04T10:00, or an age like 30m, 24h, 7d", file=sys.stderr)
            return EXIT_USAGE
    with _session(args) as s:
        entries = s.accounts.audit_log(s.reading(), org=args.org, since=since, limit=args.limit)
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2, ensure_ascii=False))
    elif not entries:
        print("no audit entries")
    else:
        rows = [("AT", "WHO", "ACTION", "ORG", "TARGET", "CHANGES")]
        rows += [
            (_when(e.at), e.actor, e.action, e.org or "-", e.target, describe(e)) for e in entries
        ]
        print(_table(rows))
    return EXIT_OK


# -- helpers -----------------------------------------------------------------------------------


def parse_since(text: str, now: datetime) -> datetime | None:
    """`--since`: an ISO date or date-time (UTC unless it says otherwise), or an age like `24h`."""
    if match := _SINCE.fullmatch(text.strip()):
        return now - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def describe(entry: AuditEntry) -> str:
    """An entry's change in a few words: `role: viewer → admin`, `created`, `removed`."""
    if entry.before is None and entry.after is not None:
        return "created" if not entry.after else "created: " + _short(entry.after)
    if entry.after is None:
        return "removed" if entry.before is None else "removed: " + _short(entry.before)
    return _cut(", ".join(f"{k}: {_value(a)} → {_value(b)}" for k, a, b in entry.changes()) or "no change")


def _short(data: dict[str, object]) -> str:
    return _cut(", ".join(f"{k}={_value(v)}" for k, v in data.items() if v not in (None, [], "")))


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)


def _cut(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in rows
    ).rstrip()


@dataclass(frozen=True)
class _Session:
    """The account services of one command, and who acts in it."""

    accounts: Accounts
    signin: SignIn
    as_user: str | None

    def acting(self) -> Actor:
        """For changes: the `--as` user, else the bootstrap actor (refused once someone can sign in)."""
        return self.signin.actor(self.as_user) if self.as_user else self.signin.bootstrap_actor()

    def reading(self) -> Actor:
        """For reads: the `--as` user (sees their organizations), else everything."""
        return self.signin.actor(self.as_user) if self.as_user else Actor.for_system("cli")


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[_Session]:
    from engine.storage.accounts_store import SqlAccountsStore
    from pulsewatch.cli import billing_wiring
    from pulsewatch.services.accounts import Accounts
    from pulsewatch.services.passwords import Argon2Hasher

    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        accounts_store = SqlAccountsStore(store)
        seats = billing_wiring.billing_gates(config, store).admit_member  # plan seats, past due
        accounts = Accounts(accounts_store, Argon2Hasher(), seat_gate=seats)
        yield _Session(accounts, signin_for(accounts_store), args.as_user)
    finally:
        store.close()


def _email_or_none(text: str) -> str | None:
    try:
        return normalize_email(text)
    except AccountError as error:
        print(f"pulsewatch: {error.message}", file=sys.stderr)
        return None


def _read_new_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a prompt that does not echo.

    Raises:
        AccountError: nothing on stdin, or the two typed passwords differ.
    """
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AccountError("no password on standard input (--password-stdin reads its first line)")
        return password
    password = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise AccountError("the two passwords differ; nothing was changed")
    return password


def _now() -> datetime:
    return datetime.now(UTC)
