"""The tls:// probe against real TLS servers with certificates from a test CA: facts and exact reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from engine.probes import SslContexts, probe_tls
from engine.probes.tls import ago
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check, TlsOptions
from tests.engine.helpers import bounded
from tests.engine.probe_targets import Pki, days, serve
from tests.engine.targets import SELF_SIGNED, closed_port

if TYPE_CHECKING:
    from pathlib import Path

    from pulsewatch.domain.monitoring import ProbeResult

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki.create(tmp_path)


def tls_check(url: str, *conditions: str, ca_file: Path | None = None, timeout: float = 5.0) -> Check:
    return Check(
        name="mail",
        url=url,
        kind="tls",
        timeout=timeout,
        id=3,
        conditions=tuple(parse_condition(c) for c in conditions),
        tls=TlsOptions(ca_file=None if ca_file is None else str(ca_file)),
    )


async def probe(check: Check) -> ProbeResult:
    return await probe_tls(check, now, SslContexts())


class TestTrustedCertificates:
    @bounded(10)
    async def test_a_valid_certificate_gives_its_expiry_as_a_fact(self, pki: Pki) -> None:
        cert = pki.leaf("localhost", "127.0.0.1", not_after=days(400))
        with serve(cert=cert) as port:
            result = await probe(
                tls_check(
                    f"tls://localhost:{port}",
                    "[CERTIFICATE_EXPIRATION] > 14d",
                    "[CONNECTED] == true",
                    "[IP] == 127.0.0.1",
                    ca_file=pki.ca_file,
                )
            )
        assert result.ok, result.message
        assert [o.passed for o in result.outcomes] == [True, True, True]

    @bounded(10)
    async def test_a_certificate_expiring_soon_fails_the_condition_with_the_time_left(self, pki: Pki) -> None:
        cert = pki.leaf("localhost", not_after=days(10))
        with serve(cert=cert) as port:
            result = await probe(
                tls_check(f"tls://localhost:{port}", "[CERTIFICATE_EXPIRATION] > 14d", ca_file=pki.ca_file)
            )
        assert (result.ok, result.error) == (False, "condition")
        assert result.message == "expected [CERTIFICATE_EXPIRATION] > 14d, got 9d 23h"

    @bounded(10)
    async def test_without_conditions_a_verified_handshake_is_success(self, pki: Pki) -> None:
        with serve(cert=pki.leaf("127.0.0.1")) as port:
            result = await probe(tls_check(f"tls://127.0.0.1:{port}", ca_file=pki.ca_file))
        assert result.ok, result.message
        assert result.outcomes == ()


class TestRefusedCertificates:
    @bounded(10)
    async def test_an_expired_certificate_says_how_long_ago(self, pki: Pki) -> None:
        cert = pki.leaf("localhost", not_before=days(-90), not_after=days(-3) - timedelta(hours=1))
        with serve(cert=cert) as port:
            result = await probe(tls_check(f"tls://localhost:{port}", ca_file=pki.ca_file))
        assert (result.ok, result.error, result.message) == (
            False,
            "tls",
            "TLS certificate expired 3 days ago",
        )

    @bounded(10)
    async def test_a_certificate_for_another_name_says_which(self, pki: Pki) -> None:
        with serve(cert=pki.leaf("other.test")) as port:
            result = await probe(tls_check(f"tls://localhost:{port}", ca_file=pki.ca_file))
        assert (result.error, result.message) == ("tls", "certificate is for other.test, not localhost")

    @bounded(10)
    async def test_a_certificate_for_many_other_names_lists_a_few(self, pki: Pki) -> None:
        with serve(cert=pki.leaf("a.test", "b.test", "c.test", "d.test", "e.test")) as port:
            result = await probe(tls_check(f"tls://localhost:{port}", ca_file=pki.ca_file))
        assert result.message == "certificate is for a.test, b.test, c.test and 2 more, not localhost"

    @bounded(10)
    async def test_a_self_signed_certificate(self) -> None:
        with serve(cert=(SELF_SIGNED, SELF_SIGNED)) as port:
            result = await probe(tls_check(f"tls://localhost:{port}"))
        assert (result.ok, result.error, result.message) == (False, "tls", "self-signed certificate")

    @bounded(10)
    async def test_a_server_that_leaves_out_its_intermediate_has_an_incomplete_chain(self, pki: Pki) -> None:
        cert = pki.leaf("localhost", intermediate=True, send_chain=False)
        with serve(cert=cert) as port:
            result = await probe(tls_check(f"tls://localhost:{port}", ca_file=pki.ca_file))
        assert (result.error, result.message) == ("tls", "incomplete certificate chain")

    @bounded(10)
    async def test_the_full_chain_through_an_intermediate_verifies(self, pki: Pki) -> None:
        with serve(cert=pki.leaf("localhost", intermediate=True)) as port:
            result = await probe(tls_check(f"tls://localhost:{port}", ca_file=pki.ca_file))
        assert result.ok, result.message

    @bounded(10)
    async def test_a_certificate_from_an_unknown_ca_has_an_incomplete_chain_too(self, pki: Pki) -> None:
        with serve(cert=pki.leaf("localhost")) as port:
            result = await probe(tls_check(f"tls://localhost:{port}"))  # the system's CAs only
        assert result.message == "incomplete certificate chain"

    @bounded(10)
    async def test_conditions_do_not_hide_a_refused_certificate(self, pki: Pki) -> None:
        cert = pki.leaf("localhost", not_before=days(-90), not_after=days(-1) - timedelta(minutes=5))
        with serve(cert=cert) as port:
            result = await probe(
                tls_check(f"tls://localhost:{port}", "[CONNECTED] == true", ca_file=pki.ca_file)
            )
        assert (result.ok, result.message) == (False, "TLS certificate expired 1 day ago")


class TestOtherFailures:
    @bounded(10)
    async def test_a_closed_port_is_connection_refused(self) -> None:
        result = await probe(tls_check(f"tls://127.0.0.1:{closed_port()}"))
        assert (result.ok, result.error, result.message) == (False, "refused", "connection refused")

    @bounded(10)
    async def test_a_missing_ca_file_is_a_config_failure_not_a_crash(self, tmp_path: Path) -> None:
        result = await probe(tls_check("tls://127.0.0.1:1", ca_file=tmp_path / "nope.pem"))
        assert (result.ok, result.error) == (False, "config")
        assert result.message == f"cannot load ca_file {tmp_path / 'nope.pem'}: No such file or directory"


class TestSharedContexts:
    async def test_one_context_per_distinct_trust_setting(self, pki: Pki) -> None:
        contexts = SslContexts()
        a = contexts.get(True, TlsOptions())
        assert contexts.get(True, TlsOptions()) is a
        assert contexts.get(False, TlsOptions()) is not a
        private = contexts.get(True, TlsOptions(ca_file=str(pki.ca_file)))
        assert contexts.get(True, TlsOptions(ca_file=str(pki.ca_file))) is private
        assert len(contexts) == 3


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "just now"),
        (60, "1 minute ago"),
        (7200, "2 hours ago"),
        (86_400, "1 day ago"),
        (3.5 * 86_400, "3 days ago"),
    ],
)
async def test_ages_read_as_a_person_says_them(seconds: float, text: str) -> None:
    assert ago(seconds) == text
