"""The lean client's request plans (engine.probes.lean_exchange) are small: checks share what they can.

At 10,000 checks the plans were the engine's largest per-check structure (bench.engine_memory); these
tests hold the sharing in place and show the shared plans still send each check's own request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from engine.probes import HttpClientPool, probe_http
from engine.probes.lean_http import LeanClient
from pulsewatch.domain.monitoring import HttpOptions
from tests.engine.helpers import bounded, http_check
from tests.engine.lean_targets import serve_lean_target

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.trio


@pytest.fixture
async def lean() -> AsyncIterator[HttpClientPool]:
    pool = HttpClientPool()
    try:
        yield pool
    finally:
        await pool.aclose()


def now() -> datetime:
    return datetime.now(UTC)


@bounded(10)
async def test_checks_of_one_origin_share_header_lines_and_send_their_own_path(lean: HttpClientPool) -> None:
    options = HttpOptions(headers=(("Authorization", "Bearer s3cret"),))
    with serve_lean_target() as (url, seen):
        checks = [http_check(f"c{i}", url=f"{url}/{path}", id=i, http=options)
                  for i, path in ((1, "ok"), (2, "echo"))]
        clients = [lean.client_for(check) for check in checks]
        results = [await probe_http(client, check, now)
                   for client, check in zip(clients, checks, strict=True)]
    assert all(r.ok for r in results), [r.message for r in results]
    assert [path for _, _, path in seen.requests] == ["/ok", "/echo"]
    first, second = clients
    assert isinstance(first, LeanClient)
    assert first is second
    heads = [first.plans[check.id][1].head for check in checks if check.id is not None]  # type: ignore[attr-defined]
    assert [h.target for h in heads] == [b"/ok", b"/echo"]
    lines = [list(h.headers._full_items) for h in heads]
    assert len(lines[0]) == len(lines[1]) >= 5  # Host, Accept, Accept-Encoding, Connection, User-Agent…
    assert all(a is b for a, b in zip(*lines, strict=True))
    assert (b"Authorization", b"authorization", b"Bearer s3cret") in lines[0]


@bounded(10)
async def test_a_plan_keeps_no_httpx_request(lean: HttpClientPool) -> None:
    check = http_check("c", url="http://127.0.0.1:9/x", id=1)
    client = lean.client_for(check)
    assert isinstance(client, LeanClient)
    lean.prepare([check])
    plan = client.plans[1][1]
    assert not hasattr(plan, "request")
    assert plan.head.target == b"/x"  # type: ignore[attr-defined]
