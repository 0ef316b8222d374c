"""One function per `pulsewatch` command; each returns the process exit code."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pulsewatch.cli import accounts as accounts_cli
from pulsewatch.cli import add_config_option, config_accounts, wiring
from pulsewatch.cli import config_billing as billing_cli

if TYPE_CHECKING:
    import argparse

    from pulsewatch.domain.monitoring import Check, CheckState

EXIT_OK = 0
EXIT_FAILURE = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The monitoring commands: demo, console, engine, status, config, db."""
    demo = commands.add_parser("demo", help="local demo targets + the console, on SQLite; no config needed")
    demo.add_argument("--headless", action="store_true", help="run the demo engine without the console")
    demo.add_argument("--database", metavar="URL", help="database URL (default: demo.db in the data dir)")
    demo.set_defaults(handler=run_demo)

    console = commands.add_parser("console", help="the live console, with the engine running inside it")
    add_config_option(console)
    console.add_argument("--attach", action="store_true", help="watch engines running elsewhere (no probes)")
    console.set_defaults(handler=run_console)

    engine = commands.add_parser("engine", help="the headless engine: JSON logs on stderr, SIGTERM stops")
    add_config_option(engine)
    engine.add_argument("--name", help="engine name in logs and results (default: HOST-PID)")
    engine.set_defaults(handler=run_engine)

    status = commands.add_parser("status", help="every check's state from the database")
    add_config_option(status)
    status.add_argument("--json", action="store_true", help="print a JSON list (for scripts)")
    accounts_cli.add_as_option(status)  # only that user's organizations' checks
    status.set_defaults(handler=show_status)

    config = commands.add_parser("config", help="validate, plan or apply the configuration")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    for name, text in (
        ("validate", "check the file; print OK or every problem with file:line:column"),
        ("plan", "show what applying the file would add, change and remove in the database"),
        ("apply", "make the database match the file (running engines keep unchanged checks' state)"),
    ):
        sub = config_commands.add_parser(name, help=text)
        sub.add_argument("file", nargs="?", metavar="FILE", help="configuration file (same as -c)")
        add_config_option(sub)
        if name == "apply":
            accounts_cli.add_as_option(sub)  # changes checked against that user's roles and audited
        sub.set_defaults(handler=run_config)

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or upgrade the schema to this version")
    add_config_option(upgrade)
    upgrade.set_defaults(handler=run_db)


def run_engine(args: argparse.Namespace) -> int:
    """`pulsewatch engine`: probe headless until SIGINT/SIGTERM, then flush and exit 0."""
    from engine.logs import configure_logging
    from pulsewatch.cli.headless import run_until_signalled
    from pulsewatch.cli.import_diet import slim_imports

    slim_imports()  # before the config and the engine import httpx, peewee and pymysql
    config = wiring.load(args.config)
    configure_logging()
    store = wiring.open_store(wiring.database_url(config))
    try:
        engine = wiring.make_engine_factory(config, store, args.name)(lambda event: None)
        run_until_signalled(engine)
    finally:
        store.close()
    return EXIT_OK


def run_console(args: argparse.Namespace) -> int:
    """`pulsewatch console`: the live console with the engine in its own thread (`--attach`: without one)."""
    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        if args.attach:  # no engine here: follow the database that headless engines write
            from pulsewatch.cli.attach_wiring import run_attached_console

            return run_attached_console(config, store)
        return _run_app(config, store, wiring.make_engine_factory(config, store))
    finally:
        store.close()


def _run_app(config: object, store: object, make_engine: object) -> int:
    from tui.app import PulseWatchApp
    from tui.bridge import EmbeddedEngine
    from tui.preferences import Preferences

    theme = getattr(getattr(config, "console", None), "theme", "pulsewatch-dark")
    keymap = getattr(getattr(config, "console", None), "keymap", None)
    from pulsewatch.cli.console_services import console_services

    app = PulseWatchApp(EmbeddedEngine(make_engine), theme=theme, keymap=keymap,  # type: ignore[arg-type]
                        preferences=Preferences.default(),
                        services=console_services(store, config))  # type: ignore[arg-type]
    app.run()
    return app.return_code or EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    """`pulsewatch demo`: local targets that are healthy, slow, failing and flapping, and the console."""
    from engine.demo_targets import demo_config_text, serve_demo_targets
    from pulsewatch.config import parse_config

    with serve_demo_targets() as base_url:
        config = parse_config(demo_config_text(base_url), source="<demo>")
        url = args.database or f"sqlite:///{wiring.data_dir() / 'demo.db'}"
        store = wiring.open_store(url)
        try:
            make_engine = wiring.make_engine_factory(config, store, "demo")
            if args.headless:
                from engine.logs import configure_logging
                from pulsewatch.cli.headless import run_until_signalled

                configure_logging()
                run_until_signalled(make_engine(lambda event: None))
                return EXIT_OK
            return _run_app(config, store, make_engine)
        finally:
            store.close()


def show_status(args: argparse.Namespace) -> int:
    """`pulsewatch status`: every stored check's state, as a table or (with --json) for scripts."""
    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        rows = config_accounts.status_rows_as(store, args.as_user) if args.as_user else store.status_rows()
    finally:
        store.close()
    if args.json:
        listen = config.engine.listen
        print(json.dumps([status_json(check, state, listen=listen) for check, state in rows], indent=2))
    else:
        print(status_table(rows))
    return EXIT_OK


def status_json(check: Check, state: CheckState, *, listen: str | None = None) -> dict[str, object]:
    """One check's entry in `status --json` — the fields are a public contract: add, never rename.

    `ping_url` is where a heartbeat check's job pings (on `listen`, the config's engine.listen);
    None for probed checks, and when no listener is configured.
    """
    ping_url = None
    if check.heartbeat is not None and listen is not None:
        ping_url = f"http://{listen}/ping/{check.heartbeat.token}"
    return {
        "name": check.name,
        "org": check.org,
        "kind": check.kind,
        "url": check.url,
        "status": state.status.value,
        "since": state.since.isoformat() if state.since else None,
        "last_checked_at": state.last_checked_at.isoformat() if state.last_checked_at else None,
        "last_latency_ms": round(state.last_latency_ms, 1) if state.last_latency_ms is not None else None,
        "last_error": state.last_error or None,
        "consecutive_failures": state.consecutive_failures,
        "paused": check.paused or state.status.value == "paused",
        "ping_url": ping_url,
    }


def status_table(rows: list[tuple[Check, CheckState]]) -> str:
    """A plain-text table of checks for people at a shell."""
    if not rows:
        return "no checks in the database yet (start `pulsewatch engine` or `pulsewatch config apply`)"
    header = ("NAME", "STATUS", "LATENCY", "LAST CHECKED", "REASON")
    lines = [header]
    for check, state in rows:
        name = check.name if check.org == "default" else f"{check.org}/{check.name}"
        latency = f"{state.last_latency_ms:.0f} ms" if state.last_latency_ms is not None else "-"
        checked = state.last_checked_at.strftime("%Y-%m-%d %H:%M:%S") if state.last_checked_at else "-"
        lines.append((name, state.status.value.upper(), latency, checked, state.last_error or ""))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in lines
    ).rstrip()


def run_config(args: argparse.Namespace) -> int:
    """`pulsewatch config validate|plan|apply [FILE | -c FILE]`."""
    config = wiring.load(args.file or args.config)
    billing_cli.require_within_plans(config)  # validate, plan and apply refuse checks beyond the plans
    if args.config_command == "validate":
        print(f"OK: {config.path} ({len(config.checks)} checks, {len(config.channels)} channels)")
        return EXIT_OK
    from pulsewatch.services.check_sync import plan_check_sync

    store = wiring.open_store(wiring.database_url(config))
    try:
        if args.config_command == "plan":
            plan = plan_check_sync(wiring.desired_checks(config, store), store.load_checks())
            for line in config_accounts.plan_config_accounts(config, store):
                print(line)
            for line in billing_cli.plan_config_plans(config, store):
                print(line)
        else:
            # Organizations, audit, and billing (past-due and seat guard, subscriptions), all or nothing.
            plan = billing_cli.apply_config(config, store, args.as_user)
    finally:
        store.close()
    for sign, checks in (("+", plan.added), ("~", plan.changed), ("-", plan.removed)):
        for check in checks:
            print(f"{sign} check {check.org}/{check.name} ({check.url})")
    verb = "would change" if args.config_command == "plan" else "changed"
    summary = f"{len(plan.added)} to add, {len(plan.changed)} to change, {len(plan.removed)} to remove"
    print("no changes: the database matches the config" if plan.is_empty else f"{verb}: {summary}")
    return EXIT_OK


def run_db(args: argparse.Namespace) -> int:
    """`pulsewatch db upgrade`: create or upgrade the schema and say what was done."""
    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config), upgrade=False)
    try:
        before, after = store.upgrade()
    finally:
        store.close()
    if before == after:
        print(f"database schema is up to date (version {after})")
    else:
        print(f"database schema upgraded from version {before} to {after}")
    return EXIT_OK
