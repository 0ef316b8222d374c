"""The lean HTTP client (engine.probes.lean_http) against a real local server: connection reuse and its
limits, and the cases where HTTP clients differ, judged the same on the lean path and the httpx fallback."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio

from engine.probes import HttpClientPool, probe_http
from engine.probes.lean_http import KEEPALIVE_EXPIRY, LeanClient
from pulsewatch.domain.monitoring import HttpOptions
from tests.engine.helpers import bounded, http_check
from tests.engine.lean_targets import serve_lean_target

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from pulsewatch.domain.monitoring import ProbeResult
    from tests.engine.lean_targets import Seen

pytestmark = pytest.mark.trio


@pytest.fixture
def target() -> Iterator[tuple[str, Seen]]:
    with serve_lean_target() as served:
        yield served


@pytest.fixture
async def lean() -> AsyncIterator[HttpClientPool]:
    pool = HttpClientPool()
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.fixture(params=["lean", "httpx"])
async def either(request: pytest.FixtureRequest) -> AsyncIterator[HttpClientPool]:
    pool = HttpClientPool(lean=request.param == "lean")
    try:
        yield pool
    finally:
        await pool.aclose()


async def probe(pool: HttpClientPool, url: str, *conditions: str, **fields: Any) -> ProbeResult:
    check = http_check("target", url=url, conditions=conditions, id=fields.pop("id", 1), **fields)
    return await probe_http(pool.client_for(check), check, now)


def now() -> datetime:
    return datetime.now(UTC)


def lean_client(pool: HttpClientPool, url: str) -> LeanClient:
    client = pool.client_for(http_check("target", url=url, id=1))
    assert isinstance(client, LeanClient)
    return client


class TestReuse:
    @bounded(10)
    async def test_a_connection_is_reused_after_a_complete_answer(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, seen = target
        results = [await probe(lean, f"{url}/ok", "[STATUS] == 200") for _ in range(3)]
        assert all(r.ok for r in results), [r.message for r in results]
        assert seen.connections == 1
        assert lean_client(lean, f"{url}/ok").idle == 1

    @bounded(10)
    async def test_checks_of_one_origin_share_connections(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, seen = target
        for check_id in (1, 2, 3):
            assert (await probe(lean, f"{url}/ok", id=check_id)).ok
        assert seen.connections == 1

    @bounded(10)
    async def test_connection_close_is_honoured(self, lean: HttpClientPool, target: tuple[str, Seen]) -> None:
        url, seen = target
        for _ in range(2):
            assert (await probe(lean, f"{url}/close", "[BODY].status == ok")).ok
        assert seen.connections == 2
        assert lean_client(lean, f"{url}/close").idle == 0

    @bounded(10)
    async def test_a_body_cut_at_the_cap_closes_its_connection(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, seen = target
        capped = await probe(lean, f"{url}/big", "len([BODY]) == 100", http=HttpOptions(max_body_bytes=100))
        after = await probe(lean, f"{url}/ok")
        assert capped.ok, capped.message
        assert after.ok
        assert seen.connections == 2

    @bounded(10)
    async def test_a_timed_out_exchange_is_never_reused(self, lean: HttpClientPool) -> None:
        async def silent(stream: trio.SocketStream) -> None:
            await stream.receive_some(65536)
            await trio.sleep_forever()

        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(functools.partial(trio.serve_tcp, silent, 0, host="127.0.0.1"))
            url = f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}/"
            result = await probe(lean, url, timeout=0.2)
            assert (result.ok, result.message) == (False, "timeout after 200ms")
            assert lean_client(lean, url).idle == 0
            nursery.cancel_scope.cancel()

    @bounded(10)
    async def test_a_connection_the_server_closed_while_idle_is_replaced(self, lean: HttpClientPool) -> None:
        with serve_lean_target(idle_timeout=0.2) as (url, seen):
            assert (await probe(lean, f"{url}/ok")).ok
            await trio.sleep(0.6)  # the server hangs up the idle connection
            again = await probe(lean, f"{url}/ok")
        assert again.ok, again.message
        assert seen.connections == 2

    @bounded(10)
    async def test_a_request_the_server_drops_on_a_reused_connection_is_sent_once_more(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, seen = target
        first = await probe(lean, f"{url}/drop-second")
        second = await probe(lean, f"{url}/drop-second")  # reused; closed unanswered; retried afresh
        assert first.ok
        assert second.ok, second.message
        assert seen.connections == 2
        assert [c for c, _, _ in seen.requests] == [1, 1, 2]

    @bounded(10)
    async def test_a_post_never_goes_out_on_a_reused_connection(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        """A stale reused connection would make us send a non-idempotent request twice."""
        url, seen = target
        post = HttpOptions(method="POST", body="{}")
        results = [await probe(lean, f"{url}/ok", http=post) for _ in range(2)]
        assert all(r.ok for r in results), [r.message for r in results]
        assert seen.connections == 2
        assert [c for c, _, _ in seen.requests] == [1, 2]

    @bounded(10)
    async def test_idle_connections_expire(self, lean: HttpClientPool, target: tuple[str, Seen]) -> None:
        url, _ = target
        assert (await probe(lean, f"{url}/ok")).ok
        client = lean_client(lean, f"{url}/ok")
        assert client.idle == 1
        lean.lean.maybe_sweep(trio.current_time() + KEEPALIVE_EXPIRY + 1)
        assert client.idle == 0


class TestSameVerdictOnBothPaths:
    @bounded(10)
    async def test_gzip_and_deflate_bodies_are_decoded(
        self, either: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        zipped = await probe(either, f"{url}/gzip", "[BODY].status == zipped")
        deflated = await probe(either, f"{url}/deflate", "[BODY].status == deflated")
        assert zipped.ok, zipped.message
        assert deflated.ok, deflated.message

    @bounded(10)
    async def test_the_charset_of_the_content_type_is_used(
        self, either: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        result = await probe(either, f"{url}/latin1", "[BODY] == café")
        assert result.ok, result.message

    @bounded(10)
    async def test_a_303_turns_a_post_into_a_get_and_a_307_keeps_it(
        self, either: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        post = HttpOptions(method="POST", body="payload")
        see_other = await probe(either, f"{url}/see-other", "[BODY].method == GET", '[BODY].body == ""',
                                http=post)
        temporary = await probe(either, f"{url}/temporary", "[BODY].method == POST",
                                "[BODY].body == payload", http=post)
        assert see_other.ok, see_other.message
        assert temporary.ok, temporary.message

    @bounded(10)
    async def test_cookies_set_along_a_redirect_chain_are_sent_along_it(
        self, either: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        result = await probe(either, f"{url}/login", "[STATUS] == 200", "[BODY].cookie == yes")
        assert result.ok, result.message

    @bounded(10)
    async def test_credentials_are_not_sent_to_another_origin(
        self, either: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        options = HttpOptions(headers=(("Authorization", "Bearer s3cret"),))
        result = await probe(either, f"{url}/elsewhere", "[BODY].authorization == null", http=options)
        same_origin = await probe(either, f"{url}/echo", '[BODY].authorization == "Bearer s3cret"',
                                  http=options, id=2)
        assert result.ok, result.message
        assert same_origin.ok, same_origin.message

    @bounded(10)
    async def test_a_head_request_has_no_body(self, either: HttpClientPool, target: tuple[str, Seen]) -> None:
        url, _ = target
        result = await probe(either, f"{url}/ok", "[STATUS] == 200", "len([BODY]) == 0",
                             http=HttpOptions(method="HEAD"))
        assert result.ok, result.message

    @bounded(10)
    async def test_a_server_that_hangs_up_without_answering(
        self, either: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        result = await probe(either, f"{url}/hangup")
        assert (result.ok, result.error) == (False, "network")
        assert result.message == "network error: Server disconnected without sending a response."

    @bounded(10)
    async def test_an_answer_that_is_not_http(self, either: HttpClientPool, target: tuple[str, Seen]) -> None:
        url, _ = target
        result = await probe(either, f"{url}/garbage")
        assert (result.ok, result.error) == (False, "network")
        assert result.message.startswith("network error: ")


class TestWhereTheLeanPathIsSafer:
    """Cases httpx turns into an engine crash (an exception no probe expects) and the lean path words."""

    @bounded(10)
    async def test_a_corrupt_gzip_body_is_a_failure_not_a_crash(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        result = await probe(lean, f"{url}/bad-gzip")
        assert (result.ok, result.error) == (False, "network")
        assert result.message.startswith("network error: cannot decode the gzip body: ")

    @bounded(10)
    async def test_an_unknown_charset_reads_as_utf_8(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        result = await probe(lean, f"{url}/odd-charset", "[BODY] == café")
        assert result.ok, result.message

    @bounded(10)
    async def test_cookies_never_outlive_the_probe(
        self, lean: HttpClientPool, target: tuple[str, Seen]
    ) -> None:
        url, _ = target
        assert (await probe(lean, f"{url}/login", "[STATUS] == 200")).ok
        later = await probe(lean, f"{url}/needs-cookie", "[STATUS] == 401", id=2)
        assert later.ok, later.message


class TestWhatFallsBackToHttpx:
    @bounded(10)
    async def test_a_proxy_or_an_injected_transport(self, lean: HttpClientPool) -> None:
        proxied = http_check("p", url="http://x.test/", http=HttpOptions(proxy="http://127.0.0.1:3128"), id=1)
        plain = http_check("q", url="http://x.test/", id=2)
        assert isinstance(lean.client_for(proxied), httpx.AsyncClient)
        assert isinstance(lean.client_for(plain), LeanClient)
        mocked = HttpClientPool(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
        try:
            assert isinstance(mocked.client_for(plain), httpx.AsyncClient)
        finally:
            await mocked.aclose()
