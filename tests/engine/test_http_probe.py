"""The HTTP probe against a real local server (real sockets, so the real clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from engine.probes import HttpClientPool, Prober, probe_http
from pulsewatch.domain.monitoring import HttpOptions
from tests.engine.helpers import bounded, http_check
from tests.engine.targets import closed_port, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from pulsewatch.domain.monitoring import ProbeResult

pytestmark = pytest.mark.trio


@pytest.fixture
def base_url() -> Iterator[str]:
    with serve() as url:
        yield url


@pytest.fixture(params=["lean", "httpx"])
async def pool(request: pytest.FixtureRequest) -> AsyncIterator[HttpClientPool]:
    """Each test runs on the lean h11 client and on the httpx fallback: both must say the same."""
    pool = HttpClientPool(lean=request.param == "lean")
    try:
        yield pool
    finally:
        await pool.aclose()


async def probe(pool: HttpClientPool, url: str, *conditions: str, **fields: Any) -> ProbeResult:
    check = http_check("target", url=url, conditions=conditions, id=1, **fields)
    return await probe_http(pool.client_for(check), check, trio_now)


def trio_now() -> datetime:
    return datetime.now(UTC)


class TestAnswers:
    @bounded(10)
    async def test_a_200_meeting_its_conditions_is_a_success(
        self, pool: HttpClientPool, base_url: str
    ) -> None:
        result = await probe(pool, f"{base_url}/ok", "[STATUS] == 200", "[RESPONSE_TIME] < 5000")
        assert result.ok, result.message
        assert result.status_code == 200
        assert result.error is None
        assert result.message == ""
        assert [o.passed for o in result.outcomes] == [True, True]
        assert result.duration_ms > 0

    @bounded(10)
    async def test_a_503_fails_with_the_condition_as_the_reason(
        self, pool: HttpClientPool, base_url: str
    ) -> None:
        result = await probe(pool, f"{base_url}/status/503", "[STATUS] == 200")
        assert not result.ok
        assert result.status_code == 503
        assert result.error == "condition"
        assert result.message == "expected [STATUS] == 200, got 503"

    @bounded(10)
    async def test_without_conditions_an_error_status_fails(
        self, pool: HttpClientPool, base_url: str
    ) -> None:
        bad = await probe(pool, f"{base_url}/status/500")
        good = await probe(pool, f"{base_url}/status/204")
        assert (bad.ok, bad.error, bad.message) == (False, "http", "HTTP status 500")
        assert good.ok

    @bounded(10)
    async def test_json_body_conditions(self, pool: HttpClientPool, base_url: str) -> None:
        passing = await probe(
            pool, f"{base_url}/ok", "[BODY].status == ok", "[BODY].nested.count > 2", "len([BODY].items) == 3"
        )
        failing = await probe(pool, f"{base_url}/ok", "[BODY].status == ok", "[BODY].nested.count > 5")
        assert passing.ok, passing.message
        assert not failing.ok
        assert failing.message == failing.outcomes[1].description
        assert "[BODY].nested.count > 5" in failing.message
        assert "3" in failing.message

    @bounded(10)
    async def test_method_headers_and_body_are_sent(self, pool: HttpClientPool, base_url: str) -> None:
        options = HttpOptions(method="POST", headers=(("X-Token", "s3cret"),), body="ping")
        result = await probe(
            pool,
            f"{base_url}/echo",
            "[BODY].method == POST",
            "[BODY].token == s3cret",
            "[BODY].body == ping",
            http=options,
        )
        assert result.ok, result.message


class TestFailures:
    @bounded(10)
    async def test_a_slow_answer_times_out(self, pool: HttpClientPool, base_url: str) -> None:
        result = await probe(pool, f"{base_url}/slow", "[STATUS] == 200", timeout=0.3)
        assert (result.ok, result.error, result.message) == (False, "timeout", "timeout after 300ms")
        assert result.status_code is None

    @bounded(10)
    async def test_a_closed_port_is_connection_refused(self, pool: HttpClientPool) -> None:
        result = await probe(pool, f"http://127.0.0.1:{closed_port()}/", "[STATUS] == 200")
        assert (result.ok, result.error, result.message) == (False, "refused", "connection refused")

    @bounded(20)
    async def test_an_unknown_host_is_a_dns_failure(self, pool: HttpClientPool) -> None:
        result = await probe(pool, "http://no-such-host.invalid/", timeout=15)
        assert (result.ok, result.error) == (False, "dns")
        assert result.message == "DNS lookup failed for no-such-host.invalid"

    @bounded(10)
    async def test_an_endless_body_is_read_only_up_to_the_cap(
        self, pool: HttpClientPool, base_url: str
    ) -> None:
        options = HttpOptions(max_body_bytes=100_000)
        result = await probe(pool, f"{base_url}/huge", "len([BODY]) == 100000", http=options, timeout=5)
        assert result.ok, result.message

    @bounded(10)
    async def test_redirects_are_followed_up_to_the_limit(self, pool: HttpClientPool, base_url: str) -> None:
        followed = await probe(pool, f"{base_url}/redirect/3", "[STATUS] == 200", "[BODY].status == ok")
        looping = await probe(pool, f"{base_url}/loop", "[STATUS] == 200")
        assert followed.ok, followed.message
        assert (looping.ok, looping.error) == (False, "redirects")
        assert looping.message == "too many redirects (max 5)"

    @bounded(10)
    async def test_redirects_are_not_followed_when_disabled(
        self, pool: HttpClientPool, base_url: str
    ) -> None:
        result = await probe(
            pool, f"{base_url}/redirect/1", "[STATUS] == 302", http=HttpOptions(follow_redirects=False)
        )
        assert result.ok, result.message
        assert result.status_code == 302

    @bounded(10)
    async def test_a_lower_redirect_limit_is_honoured(self, pool: HttpClientPool, base_url: str) -> None:
        result = await probe(pool, f"{base_url}/redirect/3", http=HttpOptions(max_redirects=2))
        assert result.message == "too many redirects (max 2)"


class TestTls:
    @bounded(10)
    async def test_a_self_signed_certificate_fails_verification(self, pool: HttpClientPool) -> None:
        with serve(tls=True) as url:
            result = await probe(pool, f"{url}/ok", "[STATUS] == 200")
        assert (result.ok, result.error) == (False, "tls")
        assert result.message == "self-signed certificate"

    @bounded(10)
    async def test_verify_tls_false_accepts_it(self, pool: HttpClientPool) -> None:
        with serve(tls=True) as url:
            result = await probe(pool, f"{url}/ok", "[STATUS] == 200", http=HttpOptions(verify_tls=False))
        assert result.ok, result.message


class TestPool:
    @bounded(10)
    async def test_checks_on_one_target_share_a_client_and_options_split_them(self) -> None:
        pool = HttpClientPool()
        try:
            a = http_check("a", url="http://127.0.0.1:8080/x", id=1)
            b = http_check("b", url="http://127.0.0.1:8080/y", id=2)
            other_port = http_check("c", url="http://127.0.0.1:8081/x", id=3)
            insecure = http_check(
                "d", url="https://127.0.0.1:8080/x", id=4, http=HttpOptions(verify_tls=False)
            )
            assert pool.client_for(a) is pool.client_for(b)
            assert pool.client_for(a) is not pool.client_for(other_port)
            assert pool.client_for(insecure) is not pool.client_for(a)
            assert len(pool) == 3
        finally:
            await pool.aclose()
        assert len(pool) == 0

    @bounded(10)
    async def test_the_prober_stamps_the_engine_on_the_last_attempt(self) -> None:
        pool = HttpClientPool()
        try:
            prober = Prober(engine="probe-test", wall_clock=trio_now, http_pool=pool)
            check = http_check("t", url=f"http://127.0.0.1:{closed_port()}/", id=1, retries=2)
            result = await prober.probe(check)
        finally:
            await pool.aclose()
        assert result.engine == "probe-test"
        assert result.error == "refused"


class TestConnectionClosingServers:
    """HTTP/1.0 servers close the connection after the body; the probe must not ask the closed socket."""

    @bounded(10)
    async def test_an_http_1_0_server_is_judged_on_its_answer(self, pool: HttpClientPool) -> None:
        from engine.demo_targets import serve_demo_targets

        with serve_demo_targets() as url:
            healthy = await probe(pool, f"{url}/healthy", "[STATUS] == 200", "[BODY].status == ok")
            failing = await probe(pool, f"{url}/failing", "[STATUS] == 200")
        assert healthy.ok, healthy.message
        assert healthy.status_code == 200
        assert not failing.ok
        assert failing.message == "expected [STATUS] == 200, got 503"
