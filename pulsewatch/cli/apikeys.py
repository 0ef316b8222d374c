"""`pulsewatch apikey create|list|revoke`: REST API keys of an organization, each with a role.

`create` prints the key once, on standard output alone (so `KEY=$(pulsewatch apikey create ...)`
works); only its SHA-256 is stored, so a lost key is revoked and replaced, never recovered. Who acts
follows the account commands: `--as EMAIL`, else the bootstrap actor while nobody can sign in.
"""

from __future__ import annotations

import json
import secrets
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pulsewatch.cli import EXIT_OK, add_config_option, wiring
from pulsewatch.cli.accounts import ROLE_NAMES, add_as_option
from pulsewatch.cli.config_accounts import signin_for
from pulsewatch.domain.accounts import Actor, Role
from pulsewatch.domain.api_keys import KEY_PREFIX

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.apikey_store import SqlApiKeyStore
    from pulsewatch.domain.api_keys import ApiKey


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `apikey` command group."""
    apikey = commands.add_parser("apikey", help="REST API keys: create (shown once), list, revoke")
    actions = apikey.add_subparsers(dest="apikey_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="make a key for an organization with a role; prints it once")
    create.add_argument("--org", required=True, metavar="SLUG", help="the organization the key reaches")
    create.add_argument("--role", required=True, choices=ROLE_NAMES, help="what the key may do there")
    create.add_argument("--name", default="", metavar="NAME", help="a label, like ci-deploy")
    create.set_defaults(handler=run_create)

    listing = actions.add_parser("list", help="keys with their role and state (never the keys themselves)")
    listing.add_argument("--org", metavar="SLUG", help="only this organization")
    listing.add_argument("--json", action="store_true", help="print a JSON list (for scripts)")
    listing.set_defaults(handler=run_list)

    revoke = actions.add_parser("revoke", help="revoke a key now: requests with it get 401")
    revoke.add_argument("id", type=int, metavar="ID")
    revoke.set_defaults(handler=run_revoke)

    for parser in (create, listing, revoke):
        add_config_option(parser)
        add_as_option(parser)


def run_create(args: argparse.Namespace) -> int:
    """`apikey create --org SLUG --role ROLE [--name N]`: the key on stdout, the details on stderr."""
    from pulsewatch.services.api_keys import create_api_key

    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with _stores(args) as (keys, accounts):
        actor = _acting(accounts, args.as_user)
        key = create_api_key(
            keys,
            accounts,
            actor,
            secret=secret,
            org=args.org,
            role=Role(args.role),
            name=args.name,
            now=datetime.now(UTC),
        )
    print(secret)
    print(
        f"API key {key.id} ({key.prefix}…) for organization {key.org} with role {key.role.value}: "
        "store it now, it is not shown again",
        file=sys.stderr,
    )
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    """`apikey list [--org SLUG] [--json]`."""
    from pulsewatch.services.api_keys import list_api_keys

    with _stores(args) as (keys, accounts):
        actor = signin_for(accounts).actor(args.as_user) if args.as_user else Actor.for_system("cli")
        found = list_api_keys(keys, accounts, actor, args.org)
    if args.json:
        print(json.dumps([key_json(k) for k in found], indent=2))
        return EXIT_OK
    if not found:
        print("no API keys")
        return EXIT_OK
    rows = [("ID", "ORG", "ROLE", "NAME", "KEY", "CREATED", "BY", "STATE")]
    for k in found:
        state = "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d %H:%M}"
        rows.append(
            (
                str(k.id),
                k.org,
                k.role.value,
                k.name or "-",
                f"{k.prefix}…",
                f"{k.created_at:%Y-%m-%d %H:%M}",
                k.created_by,
                state,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    """`apikey revoke ID`."""
    from pulsewatch.services.api_keys import revoke_api_key

    with _stores(args) as (keys, accounts):
        key = revoke_api_key(keys, accounts, _acting(accounts, args.as_user), args.id, datetime.now(UTC))
    print(f"API key {key.id} ({key.prefix}…) of organization {key.org} is revoked")
    return EXIT_OK


def key_json(key: ApiKey) -> dict[str, object]:
    """One key in `apikey list --json`: never the key or its hash."""
    return {
        "id": key.id,
        "org": key.org,
        "role": key.role.value,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "created_by": key.created_by,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def _acting(accounts: SqlAccountsStore, as_user: str | None) -> Actor:
    signin = signin_for(accounts)
    return signin.actor(as_user) if as_user else signin.bootstrap_actor()


@contextmanager
def _stores(args: argparse.Namespace) -> Iterator[tuple[SqlApiKeyStore, SqlAccountsStore]]:
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.apikey_store import SqlApiKeyStore

    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        yield SqlApiKeyStore(store), SqlAccountsStore(store)
    finally:
        store.close()
