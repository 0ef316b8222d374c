"""Deferred imports really are deferred: checked in a fresh interpreter, as harlequin does.

The headless engine must never load Textual, and the core must never load the I/O frameworks; the
import-linter contracts check the static arrows, these tests check what actually gets imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize(
    ("code", "forbidden"),
    [
        ("import pulsewatch.domain.monitoring, pulsewatch.domain.conditions, pulsewatch.services.check_sync",
         {"trio", "textual", "peewee", "httpx", "pydantic", "yaml"}),
        ("import pulsewatch.config", {"trio", "textual", "peewee", "httpx"}),
        ("import pulsewatch.cli", {"trio", "textual", "peewee", "httpx", "pydantic"}),
        ("import engine.runtime, engine.storage.store, pulsewatch.cli.commands, pulsewatch.cli.headless",
         {"textual", "tui"}),
        # Apprise (~0.2 s, ~190 plugins) loads only when a notification is actually sent.
        ("import pulsewatch.cli, pulsewatch.cli.alerting, pulsewatch.cli.wiring",
         {"apprise", "trio", "peewee"}),
        ("import engine.runtime, engine.notifier, engine.notify.dispatcher", {"apprise", "textual"}),
        ("import pulsewatch.domain.alerting_plan, pulsewatch.services.alerting",
         {"trio", "peewee", "pydantic", "apprise", "httpx"}),
        # dnspython loads with the first DNS probe, cryptography with the first certificate read.
        ("import engine.probes, engine.probes.tls, engine.probes.dns", {"dns", "cryptography"}),
        # `pulsewatch engine` (pulsewatch.cli.import_diet): no httpx CLI, no MySQL auth until a login.
        ("from pulsewatch.cli.import_diet import slim_imports; slim_imports(); "
         "import engine.runtime, engine.http, engine.storage.store, pulsewatch.config",
         {"rich", "click", "pygments", "cryptography", "dns", "textual"}),
    ],
)
def test_it_does_not_import(code: str, forbidden: set[str]) -> None:
    loaded = modules_after(code)
    assert not {m for m in loaded if m.split(".")[0] in forbidden}
