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


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The `-c FILE` option every command that reads the config accepts."""
    parser.add_argument(
        "-c", "--config", metavar="FILE",
        help="configuration file (default: $PULSEWATCH_CONFIG or ./pulsewatch.yaml)",
    )


COMMAND_MODULES = (
    "pulsewatch.cli.commands",
    "pulsewatch.cli.accounts",
    "pulsewatch.cli.reports",
    "pulsewatch.cli.alerting",
    "pulsewatch.cli.apikeys",
    "pulsewatch.cli.billing",
)
"""Modules whose `register(commands)` adds their subcommands; each sets `handler=` on its parsers.

A new command group is a new module here, so command groups never edit each other's code."""


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, as documented in the README."""
    import importlib

    from pulsewatch import __version__

    parser = argparse.ArgumentParser(
        prog="pulsewatch", description="Uptime and health-check monitoring: engine, console, config as code."
    )
    parser.add_argument("--version", action="version", version=f"pulsewatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `pulsewatch` command and return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on bad usage and 0 for --help/--version
        return int(exit_.code or 0)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except PulseWatchError as error:
        print(f"pulsewatch: {error.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE
