"""The engine as `pulsewatch engine` builds it (`wiring.make_engine_factory`), on a real SQLite file: its
first maintenance pass prunes each organization's raw results by its plan's retention (and the others'
by `retention.raw`), and records each organization's seats for the day."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import trio

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.billing_store import SqlBillingStore
from engine.storage.store import open_store
from pulsewatch.cli import wiring
from pulsewatch.config import parse_config
from pulsewatch.config_billing import billing_config
from pulsewatch.domain.accounts import Membership, Organization, Role, User
from pulsewatch.domain.billing import Subscription
from tests.engine.helpers import EventLog, bounded
from tests.storage.backends import raw_sql
from tests.storage.rollup_data import result

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = pytest.mark.trio

CONFIG = """
plans:
  - {name: short, price: 9.00 USD, limits: {retention: 1d}}
organizations:
  - {slug: acme, plan: short}
  - {slug: beta}
retention: {raw: 2d, interval: 1h}
checks:
  - {name: a, org: acme, url: "http://127.0.0.1:9/a", interval: 1h}
  - {name: b, org: beta, url: "http://127.0.0.1:9/b", interval: 1h}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'engine.db'}")
    yield opened
    opened.close()


@bounded(60)
async def test_the_first_pass_prunes_by_plan_and_meters_seats(store: SqlStore) -> None:
    loaded = parse_config(textwrap.dedent(CONFIG).lstrip("\n"), "pulsewatch.yaml", environ={})
    ids = {c.org: c.id or 0 for c in store.sync_checks(wiring.desired_checks(loaded, store)).added}
    now = datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=36)
    store.record(
        [result(i, start + timedelta(hours=h), 5.0) for h in range(36) for i in ids.values()], [], []
    )
    accounts = SqlAccountsStore(store)
    for slug, people in (("acme", ("ana", "bo")), ("beta", ("cy",))):
        accounts.save_organization(Organization(slug, slug.title(), "short" if slug == "acme" else None))
        for person in people:
            accounts.save_user(User(f"{person}@{slug}.test"))
            accounts.save_membership(Membership(f"{person}@{slug}.test", slug, Role.MEMBER))
    billing = SqlBillingStore(store)
    billing.save_subscription(
        Subscription.start("acme", billing_config(loaded).plans["short"], 2, now.date())
    )

    engine = wiring.make_engine_factory(loaded, store, "upkeep-1")(EventLog())
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        assert engine.maintenance is not None
        while engine.maintenance.stats.passes == 0:  # noqa: ASYNC110 - polls state nothing signals
            await trio.sleep(0.05)
        engine.stop()

    oldest = dict(raw_sql(store, "SELECT check_id, MIN(started_at) FROM results GROUP BY check_id"))
    hours_kept = {org: (now - _instant(oldest[i])) / timedelta(hours=1) for org, i in ids.items()}
    assert hours_kept["acme"] <= 24  # the plan's day
    assert hours_kept["beta"] > 35  # retention.raw (2 days) keeps all 36 hours
    seats = billing.usage("acme", now.date(), now.date() + timedelta(days=1))["seats"]
    assert (seats, billing.usage("beta", now.date(), now.date() + timedelta(days=1))["seats"]) == (2, 1)


def _instant(micros: object) -> datetime:
    from engine.storage.fields import from_micros

    return from_micros(int(str(micros)))
