"""`pulsewatch apikey create|list|revoke` as a person runs them: the key printed once on stdout alone, only
its hash stored, roles checked with --as, revocation recorded."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from pulsewatch.domain.api_keys import hash_key
from tests.integration.api_engine import pulsewatch

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def test_create_list_revoke(tmp_path: Path) -> None:
    config = tmp_path / "pulsewatch.yaml"
    config.write_text("""
database: {url: "sqlite:///keys.db"}
organizations:
  - slug: acme
    members: [{email: ana@acme.test, role: admin}, {email: bo@acme.test, role: member}]
checks: []
""")
    pulsewatch(config, "config", "apply")
    made = pulsewatch(config, "apikey", "create", "--org", "acme", "--role", "member", "--name", "ci")
    key = made.stdout.strip()
    assert made.stdout == key + "\n"
    assert key.startswith("pwk_")
    assert "not shown again" in made.stderr
    rows = sqlite3.connect(tmp_path / "keys.db").execute("SELECT key_hash, prefix FROM api_keys").fetchall()
    assert rows == [(hash_key(key), key[:12])]
    assert key not in (tmp_path / "keys.db").read_bytes().decode("latin-1")

    refused = pulsewatch(
        config, "apikey", "create", "--org", "acme", "--role", "viewer", "--as", "bo@acme.test", check=False
    )
    assert refused.returncode == 1
    assert "may not manage API keys" in refused.stderr
    too_high = pulsewatch(
        config, "apikey", "create", "--org", "acme", "--role", "owner", "--as", "ana@acme.test", check=False
    )
    assert (too_high.returncode, "may not create a key with the owner role" in too_high.stderr) == (1, True)
    bad_role = pulsewatch(config, "apikey", "create", "--org", "acme", "--role", "boss", check=False)
    assert bad_role.returncode == 2

    listed = json.loads(pulsewatch(config, "apikey", "list", "--json").stdout)
    assert [(k["org"], k["role"], k["name"], k["revoked_at"]) for k in listed] == [
        ("acme", "member", "ci", None)
    ]
    assert key not in json.dumps(listed)
    assert "ci" in pulsewatch(config, "apikey", "list").stdout
    revoked = pulsewatch(config, "apikey", "revoke", str(listed[0]["id"]), "--as", "ana@acme.test")
    assert "is revoked" in revoked.stdout
    assert json.loads(pulsewatch(config, "apikey", "list", "--json").stdout)[0]["revoked_at"] is not None
    audit = json.loads(pulsewatch(config, "audit", "--json").stdout)
    assert [e["action"] for e in audit[:2]] == ["apikey.revoke", "apikey.create"]
    assert audit[0]["actor"] == "ana@acme.test"
