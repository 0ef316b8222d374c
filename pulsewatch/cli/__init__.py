"""The `pulsewatch` command: argument parsing and dispatch; the composition root of the program.

Commands import the engine and the console lazily, so `pulsewatch config validate` or `status` never
pay for Textual, and the headless engine never loads it at all.

Exit codes (the public contract, DESIGN.md §7): 0 success, 2 bad usage or bad config, 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pulsewatch.errors import ConfigError, PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", metavar="FILE",
        help="configuration file (default: $PULSEWATCH_CONFIG or ./pulsewatch.yaml)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, as documented in the README."""
    parser = argparse.ArgumentParser(
        prog="pulsewatch", description="Uptime and health-check monitoring: engine, console, config as code."
    )
    from pulsewatch import __version__

    parser.add_argument("--version", action="version", version=f"pulsewatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="local demo targets + the console, on SQLite; no config needed")
    demo.add_argument("--headless", action="store_true", help="run the demo engine without the console")
    demo.add_argument("--database", metavar="URL", help="database URL (default: demo.db in the data dir)")

    console = commands.add_parser("console", help="the live console, with the engine running inside it")
    _add_config_option(console)
    console.add_argument("--attach", action="store_true", help="watch engines running elsewhere (no probes)")

    engine = commands.add_parser("engine", help="the headless engine: JSON logs on stderr, SIGTERM stops")
    _add_config_option(engine)
    engine.add_argument("--name", help="engine name in logs and results (default: HOST-PID)")

    status = commands.add_parser("status", help="every check's state from the database")
    _add_config_option(status)
    status.add_argument("--json", action="store_true", help="print a JSON list (for scripts)")

    config = commands.add_parser("config", help="validate, plan or apply the configuration")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    for name, text in (
        ("validate", "check the file; print OK or every problem with file:line:column"),
        ("plan", "show what applying the file would add, change and remove in the database"),
        ("apply", "make the database match the file (running engines keep unchanged checks' state)"),
    ):
        sub = config_commands.add_parser(name, help=text)
        sub.add_argument("file", nargs="?", metavar="FILE", help="configuration file (same as -c)")
        _add_config_option(sub)

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or upgrade the schema to this version")
    _add_config_option(upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `pulsewatch` command and return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on bad usage and 0 for --help/--version
        return int(exit_.code or 0)
    from pulsewatch.cli import commands

    handler = {
        "demo": commands.run_demo,
        "console": commands.run_console,
        "engine": commands.run_engine,
        "status": commands.show_status,
        "config": commands.run_config,
        "db": commands.run_db,
    }[args.command]
    try:
        return handler(args)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except PulseWatchError as error:
        print(f"pulsewatch: {error.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE
