"""The REST API's pure core: API keys and who may make them, config sync keeping API-owned checks, the
`status_pages:` / `api:` config sections."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pulsewatch.config import parse_config
from pulsewatch.domain.accounts import (
    Actor,
    Membership,
    Organization,
    Permission,
    PermissionDenied,
    Role,
    User,
)
from pulsewatch.domain.api_keys import ApiKey, hash_key, looks_like_key, new_api_key
from pulsewatch.domain.monitoring import API_ORIGIN, Check
from pulsewatch.errors import ConfigError, NotFoundError
from pulsewatch.services.api_keys import authenticate, create_api_key, list_api_keys, revoke_api_key
from pulsewatch.services.check_sync import plan_check_sync
from tests.unit.accounts_fakes import MemoryAccountsStore

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = "pwk_" + "a" * 43


class MemoryKeys:
    """ApiKeyPort in a dict."""

    def __init__(self) -> None:
        self.keys: dict[int, ApiKey] = {}

    def add_key(self, key: ApiKey) -> ApiKey:
        stored = replace(key, id=len(self.keys) + 1)
        self.keys[stored.id or 0] = stored
        return stored

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.key_hash == key_hash), None)

    def key_by_id(self, key_id: int) -> ApiKey:
        if key_id not in self.keys:
            raise NotFoundError(f"no API key with id {key_id}")
        return self.keys[key_id]

    def list_keys(self, orgs: object) -> list[ApiKey]:
        return [k for k in self.keys.values() if orgs is None or k.org in orgs]  # type: ignore[operator]

    def revoke_key(self, key_id: int, now: datetime) -> ApiKey:
        self.keys[key_id] = replace(self.keys[key_id], revoked_at=now)
        return self.keys[key_id]


def accounts_with(*memberships: Membership) -> MemoryAccountsStore:
    store = MemoryAccountsStore()
    for slug in ("acme", "globex"):
        store.save_organization(Organization(slug, slug))
    for m in memberships:
        store.save_user(User(m.email))
        store.save_membership(m)
    return store


class TestKeys:
    def test_a_key_is_stored_as_its_hash_and_acts_with_its_role_in_its_organization_only(self) -> None:
        key = new_api_key(KEY, org="acme", role=Role.MEMBER, name=" ci ", created_by="ana@acme.test", now=NOW)
        assert (key.key_hash, key.prefix, key.name) == (hash_key(KEY), KEY[:12], "ci")
        assert KEY not in repr(key)
        assert key.key_hash not in repr(key)
        actor = replace(key, id=7).actor()
        assert actor.name == "apikey:7 (ci)"
        assert actor.can(Permission.EDIT_CHECKS, "acme")
        assert not actor.can(Permission.DELETE_CHECKS, "acme")
        assert not actor.can(Permission.VIEW, "globex")
        assert actor.visible_orgs() == {"acme"}

    @pytest.mark.parametrize(
        ("text", "ok"), [(KEY, True), ("pwk_short", False), ("Bearer " + KEY, False), ("x" * 47, False)]
    )
    def test_only_the_shape_of_a_key_is_looked_up(self, text: str, ok: bool) -> None:
        assert looks_like_key(text) is ok

    def test_create_needs_manage_api_keys_and_no_role_above_ones_own(self) -> None:
        keys = MemoryKeys()
        accounts = accounts_with(
            Membership("ad@acme.test", "acme", Role.ADMIN), Membership("me@acme.test", "acme", Role.MEMBER)
        )
        admin, member = Actor("ad@acme.test"), Actor("me@acme.test")
        made = create_api_key(
            keys, accounts, admin, secret=KEY, org="acme", role=Role.ADMIN, name="ci", now=NOW
        )
        assert made.created_by == "ad@acme.test"
        assert [e.action for e in accounts.audit] == ["apikey.create"]
        with pytest.raises(PermissionDenied, match="may not create a key with the owner role"):
            create_api_key(
                keys, accounts, admin, secret=KEY + "b", org="acme", role=Role.OWNER, name="", now=NOW
            )
        with pytest.raises(PermissionDenied, match="may not manage API keys") as refused:
            create_api_key(
                keys, accounts, member, secret=KEY + "c", org="acme", role=Role.VIEWER, name="", now=NOW
            )
        assert refused.value.permission == Permission.MANAGE_API_KEYS
        with pytest.raises(NotFoundError, match="config apply"):
            create_api_key(
                keys,
                accounts,
                Actor.for_system("cli"),
                secret=KEY,
                org="nope",
                role=Role.VIEWER,
                name="",
                now=NOW,
            )
        assert (len(keys.keys), len(accounts.audit)) == (1, 1)

    def test_list_revoke_and_authenticate(self) -> None:
        keys = MemoryKeys()
        accounts = accounts_with(Membership("ad@acme.test", "acme", Role.ADMIN))
        system = Actor.for_system("cli")
        acme = create_api_key(
            keys, accounts, system, secret=KEY, org="acme", role=Role.VIEWER, name="", now=NOW
        )
        globex_key = "pwk_" + "g" * 43
        globex = create_api_key(
            keys, accounts, system, secret=globex_key, org="globex", role=Role.VIEWER, name="", now=NOW
        )
        admin = Actor("ad@acme.test")
        assert [k.org for k in list_api_keys(keys, accounts, admin)] == ["acme"]
        assert authenticate(keys, KEY) == acme
        assert authenticate(keys, "pwk_" + "z" * 43) is None
        with pytest.raises(NotFoundError):  # another organization's key is not even admitted to exist
            revoke_api_key(keys, accounts, admin, globex.id or 0, NOW)
        revoke_api_key(keys, accounts, admin, acme.id or 0, NOW)
        assert authenticate(keys, KEY) is None
        assert authenticate(keys, globex_key) == globex
        assert accounts.audit[-1].action == "apikey.revoke"


def check(name: str, check_id: int, **fields: object) -> Check:
    return Check(name=name, url=f"https://{name}.test", kind="https", id=check_id, **fields)  # type: ignore[arg-type]


class TestOwnership:
    def test_config_sync_removes_only_checks_the_config_owns(self) -> None:
        stored = [check("yaml", 1), check("made", 2, origin=API_ORIGIN), check("gone", 3)]
        plan = plan_check_sync([replace(stored[0], id=None)], stored)
        assert [c.name for c in plan.removed] == ["gone"]
        assert [c.name for c in plan.kept] == ["made"]
        assert [c.name for c in plan.unchanged] == ["yaml"]

    def test_the_origin_is_part_of_the_fingerprint_only_when_it_is_the_api(self) -> None:
        plain = check("a", 1)
        assert plain.fingerprint() == replace(plain, origin="config").fingerprint()
        assert plain.fingerprint() != replace(plain, origin=API_ORIGIN).fingerprint()


class TestStatusPageConfig:
    def test_pages_groups_and_api_limits(self) -> None:
        config = parse_config("""
organizations: [{slug: acme, name: Acme Inc}]
checks:
  - {name: web, org: acme, url: "https://web.test"}
status_pages:
  - org: acme
    groups: [{name: Site, checks: [web]}, {name: Tagged, tags: [public]}]
api: {rate: 5, burst: 9}
""")
        page = config.status_pages[0]
        assert (page.org, page.title, [g.name for g in page.groups]) == (
            "acme",
            "Acme Inc",
            ["Site", "Tagged"],
        )
        assert page.groups[1].includes(Check(name="x", url="u", kind="https", org="acme", tags=("public",)))
        assert (config.api.rate, config.api.burst) == (5, 9)
        assert parse_config("checks: []").api.rate == 10

    def test_every_problem_is_reported(self) -> None:
        with pytest.raises(ConfigError) as error:
            parse_config("""
organizations: [{slug: acme}]
checks: [{name: web, org: acme, url: "https://web.test"}]
status_pages:
  - {org: acme, groups: [{name: Site, checks: [web, wbe]}]}
  - {org: acme, groups: [{name: Again}]}
  - {org: nope, groups: [{name: X}]}
  - {groups: []}
api: {rate: 0}
""")
        text = "\n".join(error.value.problems)
        assert 'no check "wbe" in organization acme; did you mean "web"?' in text
        assert 'duplicate status page of organization "acme"' in text
        assert 'unknown organization "nope"' in text
        assert "status_pages[3].groups" in text
        assert "api.rate: must be greater than 0" in text
