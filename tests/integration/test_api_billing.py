"""Plan limits through the REST API of a real headless engine, on SQLite and on MariaDB: a check beyond the
plan, or an interval below its minimum, is refused with 402 naming the plan and the limit, and nothing is
written (no check, no audit entry); within the plan the same requests pass; a past-due organization may
not create, change or delete checks until its invoice is marked paid, but may still pause them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from engine.storage.billing_store import SqlBillingStore
from engine.storage.store import open_store
from pulsewatch.domain.billing import PeriodChange, Subscription, SubscriptionStatus, next_anchor
from tests.integration.api_engine import RunningEngine, create_key, pulsewatch, running_engine
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx

pytestmark = pytest.mark.slow

CONFIG = """
database:
  url: {url}
engine:
  name: billing-api
  listen: 127.0.0.1:0
api: {{rate: 1000, burst: 1000}}
plans:
  - name: free
    limits: {{checks: 3, min_interval: 60s}}
  - name: team
    price: 49.00 USD
    limits: {{checks: 50, min_interval: 10s}}
organizations:
  - slug: acme
    plan: free
    members: [{{email: ana@acme.test, role: owner}}]
  - slug: globex
    plan: team
    members: [{{email: gus@globex.test, role: owner}}]
  - slug: initech
    plan: team
    members: [{{email: pam@initech.test, role: owner}}]
checks:
  - {{name: web, org: acme, url: "http://127.0.0.1:9/web", interval: 60s}}
  - {{name: api, org: acme, url: "http://127.0.0.1:9/api", interval: 5m}}
  - {{name: gx, org: globex, url: "http://127.0.0.1:9/gx", interval: 60s}}
  - {{name: it, org: initech, url: "http://127.0.0.1:9/it", interval: 60s}}
"""


class World:
    """The running engine, its config, database and one admin key per organization."""

    def __init__(self, engine: RunningEngine, config: Path, url: str, keys: dict[str, str]) -> None:
        self.engine = engine
        self.config = config
        self.url = url
        self.keys = keys

    def client(self, org: str) -> httpx.Client:
        return self.engine.client(self.keys[org])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"api-billing-{request.param}")
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        url = MYSQL_URL
    else:
        url = f"sqlite:///{folder / 'billing.db'}"
    config = folder / "pulsewatch.yaml"
    config.write_text(CONFIG.format(url=url))
    pulsewatch(config, "config", "apply")
    keys = {org: create_key(config, org, "admin", "ci") for org in ("acme", "globex", "initech")}
    with running_engine(config) as engine:
        yield World(engine, config, url, keys)


def new_check(name: str, interval: int = 60) -> dict[str, Any]:
    return {"name": name, "url": f"http://127.0.0.1:9/{name}", "interval_s": interval, "timeout_s": 1}


def names(client: httpx.Client) -> list[str]:
    return sorted(c["name"] for c in client.get("/api/v1/checks").json()["items"])


def audited(client: httpx.Client, target: str) -> list[str]:
    return [e["action"] for e in client.get("/api/v1/audit").json() if e["target"] == target]


class TestChecksLimit:
    def test_a_check_beyond_the_plan_is_refused_and_nothing_is_written(self, world: World) -> None:
        with world.client("acme") as acme:
            third = acme.post("/api/v1/checks", json=new_check("third"))
            assert third.status_code == 201, third.text  # 3 of 3: within the plan
            refused = acme.post("/api/v1/checks", json=new_check("fourth"))
            assert refused.status_code == 402, refused.text
            assert refused.json() == {"detail": "plan free allows 3 checks; acme would have 4"}
            assert names(acme) == ["api", "third", "web"]
            assert audited(acme, "acme/fourth") == []
            assert audited(acme, "acme/third") == ["check.create"]
            # Deleting makes room again: the limit counts what exists, not what was ever created.
            assert acme.delete(f"/api/v1/checks/{third.json()['id']}").status_code == 204
            again = acme.post("/api/v1/checks", json=new_check("fourth"))
            assert again.status_code == 201, again.text
            assert acme.delete(f"/api/v1/checks/{again.json()['id']}").status_code == 204

    def test_another_organization_within_its_plan_is_not_affected(self, world: World) -> None:
        with world.client("globex") as globex:
            created = [globex.post("/api/v1/checks", json=new_check(f"g{i}", 10)) for i in range(4)]
            assert [r.status_code for r in created] == [201] * 4, [r.text for r in created]
            assert names(globex) == ["g0", "g1", "g2", "g3", "gx"]
            for response in created:
                deleted = globex.delete(f"/api/v1/checks/{response.json()['id']}")
                assert deleted.status_code == 204, deleted.text


class TestIntervalLimit:
    def test_an_interval_below_the_plan_minimum_is_refused(self, world: World) -> None:
        with world.client("acme") as acme:
            too_fast = acme.post("/api/v1/checks", json=new_check("fast", 30))
            assert too_fast.status_code == 402
            assert too_fast.json()["detail"] == "plan free allows intervals of 1m or longer; fast has 30s"
            assert "fast" not in names(acme)

            slow = acme.post("/api/v1/checks", json=new_check("slow", 120))
            assert slow.status_code == 201, slow.text
            url = f"/api/v1/checks/{slow.json()['id']}"
            refused = acme.patch(url, json={"interval_s": 30})
            assert refused.status_code == 402
            assert refused.json()["detail"] == "plan free allows intervals of 1m or longer; slow has 30s"
            assert acme.get(url).json()["interval_s"] == 120
            assert audited(acme, "acme/slow") == ["check.create"]

            allowed = acme.patch(url, json={"interval_s": 60})
            assert allowed.status_code == 200, allowed.text
            assert allowed.json()["interval_s"] == 60
            assert audited(acme, "acme/slow") == ["check.update", "check.create"]
            assert acme.delete(url).status_code == 204


class TestPastDue:
    def test_a_past_due_organization_may_not_edit_checks_until_paid(self, world: World) -> None:
        with world.client("initech") as initech:
            made = initech.post("/api/v1/checks", json=new_check("kept"))
            assert made.status_code == 201, made.text
            url = f"/api/v1/checks/{made.json()['id']}"
            backdate(world.url, "initech", days=70)
            closed = pulsewatch(world.config, "billing", "close-period", "--org", "initech", "--as",
                                "pam@initech.test")  # fmt: skip
            issued = sorted(set(re.findall(r"INV-initech-\d{4}", closed.stdout)))
            assert issued[0] == "INV-initech-0001", closed.stdout

            for refused in (
                initech.post("/api/v1/checks", json=new_check("more")),
                initech.patch(url, json={"interval_s": 120}),
                initech.delete(url),
            ):
                assert refused.status_code == 402, refused.text
                assert refused.json()["detail"].startswith(
                    "organization initech is past due: invoice INV-initech-0001"
                )
            assert initech.post(f"{url}/pause").status_code == 200  # operating is not editing
            assert names(initech) == ["it", "kept"]

            for number in issued:
                pulsewatch(world.config, "billing", "mark-paid", number, "--as", "pam@initech.test")
            assert initech.delete(url).status_code == 204
            assert audited(initech, "initech/kept") == ["check.delete", "check.pause", "check.create"]


def backdate(url: str, org: str, days: int) -> None:
    """Make `org`'s subscription (team plan, one seat) start `days` ago, as if it had run since."""
    start = datetime.now(UTC).date() - timedelta(days=days)
    store = open_store(url)
    try:
        SqlBillingStore(store).save_subscription(
            Subscription(
                org,
                SubscriptionStatus.ACTIVE,
                start,
                next_anchor(start, start.day),
                start.day,
                (PeriodChange(start, "team", 1),),
            )
        )
    finally:
        store.close()
