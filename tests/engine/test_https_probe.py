"""HTTP(S) probe extras against real local servers: certificates, client certificates, auth, proxy, IPv6,
keywords and soft conditions. Checks are built from YAML where the config is what is being proven."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from engine.probes import HttpClientPool, probe_http
from pulsewatch.config import parse_config
from pulsewatch.domain.monitoring import HttpOptions, TlsOptions
from tests.engine.helpers import bounded, http_check
from tests.engine.probe_targets import (
    Pki,
    days,
    has_ipv6_loopback,
    resolves_to_ipv6,
    serve,
    serve_proxy,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from pulsewatch.domain.monitoring import Check, ProbeResult

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(params=["lean", "httpx"])
async def pool(request: pytest.FixtureRequest) -> AsyncIterator[HttpClientPool]:
    """Each test runs on the lean h11 client and on the httpx fallback: both must say the same."""
    pool = HttpClientPool(lean=request.param == "lean")
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki.create(tmp_path)


def configured(yaml: str) -> Check:
    """The one check of a config snippet, as the engine would get it (with an id)."""
    (check,) = parse_config(textwrap.dedent(yaml).lstrip("\n"), environ={}).checks
    return replace(check, id=1)


async def probe(pool: HttpClientPool, check: Check) -> ProbeResult:
    return await probe_http(pool.client_for(check), check, now)


def https(url: str, *conditions: str, ca_file: Path | None = None) -> Check:
    tls = TlsOptions(ca_file=None if ca_file is None else str(ca_file))
    return replace(http_check("web", url=url, conditions=conditions, id=1), kind="https", tls=tls)


class TestCertificates:
    @bounded(10)
    async def test_a_private_ca_is_trusted_through_ca_file(self, pool: HttpClientPool, pki: Pki) -> None:
        with serve(cert=pki.leaf("localhost", not_after=days(200))) as port:
            result = await probe(
                pool,
                https(
                    f"https://localhost:{port}/ok",
                    "[STATUS] == 200",
                    "[CERTIFICATE_EXPIRATION] > 14d",
                    ca_file=pki.ca_file,
                ),
            )
        assert result.ok, result.message

    @bounded(10)
    async def test_an_expired_certificate_reads_as_on_a_tls_check(
        self, pool: HttpClientPool, pki: Pki
    ) -> None:
        cert = pki.leaf("localhost", not_before=days(-30), not_after=days(-3) - timedelta(hours=2))
        with serve(cert=cert) as port:
            result = await probe(pool, https(f"https://localhost:{port}/ok", ca_file=pki.ca_file))
        assert (result.ok, result.error, result.message) == (
            False,
            "tls",
            "TLS certificate expired 3 days ago",
        )

    @bounded(10)
    async def test_a_hostname_mismatch_names_the_certificates_names(
        self, pool: HttpClientPool, pki: Pki
    ) -> None:
        with serve(cert=pki.leaf("other.test")) as port:
            result = await probe(pool, https(f"https://localhost:{port}/ok", ca_file=pki.ca_file))
        assert result.message == "certificate is for other.test, not localhost"

    @bounded(10)
    async def test_an_incomplete_chain(self, pool: HttpClientPool, pki: Pki) -> None:
        with serve(cert=pki.leaf("localhost", intermediate=True, send_chain=False)) as port:
            result = await probe(pool, https(f"https://localhost:{port}/ok", ca_file=pki.ca_file))
        assert result.message == "incomplete certificate chain"

    @bounded(10)
    async def test_a_client_certificate_is_presented_when_the_server_asks(
        self, pool: HttpClientPool, pki: Pki
    ) -> None:
        cert_file, key_file = pki.client_files()
        with serve(cert=pki.leaf("localhost"), client_ca=pki.ca_file) as port:
            url = f"https://localhost:{port}/ok"
            without = await probe(pool, https(url, "[STATUS] == 200", ca_file=pki.ca_file))
            mutual = TlsOptions(
                ca_file=str(pki.ca_file), client_cert=str(cert_file), client_key=str(key_file)
            )
            check = replace(https(url, "[STATUS] == 200"), tls=mutual, id=2)
            with_cert = await probe(pool, check)
        assert not without.ok
        # TLS 1.3 refuses after the handshake: the alert arrives, or the connection is just gone first.
        assert without.message in (
            "TLS error: tlsv13 alert certificate required",
            "the connection broke while reading the response",
        )
        assert with_cert.ok, with_cert.message


class TestAuthentication:
    @bounded(10)
    async def test_basic_auth_from_the_config_opens_the_door(self, pool: HttpClientPool) -> None:
        with serve() as port:
            allowed = await probe(
                pool,
                configured(
                    f"""
                    checks:
                      - name: private
                        url: http://127.0.0.1:{port}/private
                        auth: {{basic: {{username: ana, password: s3cret}}}}
                        conditions: ["[STATUS] == 200"]
                    """
                ),
            )
            refused = await probe(
                pool,
                http_check(
                    "p", url=f"http://127.0.0.1:{port}/private", conditions=("[STATUS] == 200",), id=2
                ),
            )
        assert allowed.ok, allowed.message
        assert refused.message == "expected [STATUS] == 200, got 401"

    @bounded(10)
    async def test_a_bearer_token_is_sent_as_the_authorization_header(self, pool: HttpClientPool) -> None:
        with serve() as port:
            result = await probe(
                pool,
                configured(
                    f"""
                    checks:
                      - name: api
                        url: http://127.0.0.1:{port}/ok
                        auth: {{bearer: t0k3n}}
                        conditions: ['[BODY].authorization == "Bearer t0k3n"']
                    """
                ),
            )
        assert result.ok, result.message


class TestProxy:
    @bounded(10)
    async def test_requests_go_through_the_proxy(self, pool: HttpClientPool) -> None:
        with serve_proxy() as port:
            check = http_check(
                "via",
                url="http://target.invalid/ok",
                conditions=('[BODY].proxied == "http://target.invalid/ok"',),
                http=HttpOptions(proxy=f"http://127.0.0.1:{port}"),
                id=1,
            )
            result = await probe(pool, check)
        assert result.ok, result.message


class TestKeywords:
    @bounded(10)
    async def test_a_keyword_present_and_one_absent(self, pool: HttpClientPool) -> None:
        with serve() as port:
            url = f"http://127.0.0.1:{port}/ok"
            good = await probe(
                pool,
                http_check("k", url=url, conditions=("[BODY] == pat(*ok*)", "[BODY] != pat(*error*)"), id=1),
            )
            bad = await probe(pool, http_check("k", url=url, conditions=("[BODY] != pat(*ok*)",), id=2))
        assert good.ok, good.message
        assert bad.message.startswith('expected [BODY] != pat(*ok*), got "{')


class TestAddressFamilies:
    @bounded(10)
    async def test_ipv4_only_reaches_localhost_over_ipv4(self, pool: HttpClientPool) -> None:
        with serve() as port:
            result = await probe(
                pool,
                http_check(
                    "v4",
                    url=f"http://localhost:{port}/ok",
                    conditions=("[IP] == 127.0.0.1",),
                    ip_version=4,
                    id=1,
                ),
            )
        assert result.ok, result.message

    @bounded(10)
    async def test_ipv6_only_on_a_name_without_ipv6_says_so(self, pool: HttpClientPool) -> None:
        if resolves_to_ipv6("localhost"):
            pytest.skip("localhost has an IPv6 address here")
        with serve() as port:
            result = await probe(
                pool, http_check("v6", url=f"http://localhost:{port}/ok", ip_version=6, id=1)
            )
        assert (result.ok, result.error, result.message) == (False, "dns", "localhost has no IPv6 address")

    @bounded(10)
    async def test_an_ipv6_target(self, pool: HttpClientPool) -> None:
        if not has_ipv6_loopback():
            pytest.skip("this machine cannot listen on ::1")
        with serve(ipv6=True) as port:
            result = await probe(
                pool,
                http_check(
                    "v6",
                    url=f"http://[::1]:{port}/ok",
                    conditions=("[IP] == ::1", "[STATUS] == 200"),
                    ip_version=6,
                    id=1,
                ),
            )
        assert result.ok, result.message


class TestSoftConditions:
    @bounded(10)
    async def test_a_failing_soft_condition_makes_the_result_degraded_not_failed(
        self, pool: HttpClientPool
    ) -> None:
        with serve() as port:
            check = configured(
                f"""
                checks:
                  - name: api
                    url: http://127.0.0.1:{port}/ok
                    conditions: ["[STATUS] == 200"]
                    soft_conditions: ["[BODY].status == fast", "[RESPONSE_TIME] < 5000"]
                """
            )
            result = await probe(pool, check)
        assert (result.ok, result.degraded, result.error) == (True, True, "degraded")
        assert result.message == 'expected [BODY].status == fast, got "ok"'
        assert [o.passed for o in result.outcomes] == [True, False, True]

    @bounded(10)
    async def test_a_hard_failure_is_not_also_degraded(self, pool: HttpClientPool) -> None:
        with serve() as port:
            check = http_check(
                "api", url=f"http://127.0.0.1:{port}/private", conditions=("[STATUS] == 200",), id=1
            )
            soft = configured(
                f"checks: [{{name: x, url: 'http://127.0.0.1:{port}/', soft_conditions: ['[BODY].a == b']}}]"
            ).soft_conditions
            check = replace(check, soft_conditions=soft)
            result = await probe(pool, check)
        assert (result.ok, result.degraded, result.error) == (False, False, "condition")


class TestPoolSharing:
    @bounded(10)
    async def test_settings_that_change_the_connection_get_their_own_client(
        self, pool: HttpClientPool, pki: Pki
    ) -> None:
        base = https("https://127.0.0.1:8443/x")
        variants = [
            replace(base, http=HttpOptions(proxy="http://127.0.0.1:3128"), id=2),
            replace(base, ip_version=4, id=3),
            replace(base, tls=TlsOptions(ca_file=str(pki.ca_file)), id=4),
        ]
        clients = [pool.client_for(c) for c in (base, *variants)]
        assert len({id(c) for c in clients}) == 4
        assert pool.client_for(replace(base, id=9)) is clients[0]
        assert pool.client_for(base) is clients[0]
        assert len(pool.contexts) == 2
