"""The DNS probe against a local responder built with dnspython on a trio UDP socket (the real clock)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import trio

from engine.probes import probe_dns
from engine.probes.dns import parse_target
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check
from tests.engine.helpers import bounded
from tests.engine.probe_targets import dns_responder
from tests.engine.targets import closed_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from pulsewatch.domain.monitoring import ProbeResult

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def resolver() -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        yield await nursery.start(dns_responder)
        nursery.cancel_scope.cancel()


async def ask(port: int, query: str, *conditions: str, limit: float = 5.0) -> ProbeResult:
    check = Check(
        name="resolver",
        url=f"dns://127.0.0.1:{port}/{query}",
        kind="dns",
        timeout=limit,
        id=9,
        conditions=tuple(parse_condition(c) for c in conditions),
    )
    return await probe_dns(check, now)


class TestAnswers:
    @bounded(10)
    async def test_a_records_give_body_ip_and_rcode(self) -> None:
        async with resolver() as port:
            result = await ask(
                port,
                "ok.test?type=A",
                "[DNS_RCODE] == NOERROR",
                '[BODY] == "192.0.2.1, 192.0.2.2"',
                "[IP] == 192.0.2.1",
                "[RESPONSE_TIME] < 5000",
            )
        assert result.ok, result.message
        assert [o.passed for o in result.outcomes] == [True, True, True, True]

    @pytest.mark.parametrize(
        ("query", "body"),
        [
            ("ok.test?type=MX", "10 mail.ok.test"),
            ("ok.test?type=TXT", "v=spf1 -all"),
            ("ok.test?type=NS", "ns1.ok.test"),
            ("www.ok.test?type=CNAME", "ok.test"),
            ("_sip._udp.ok.test?type=SRV", "10 5 5060 sip.ok.test"),
            ("v6.ok.test?type=AAAA", "2001:db8::1"),
            ("www.ok.test", "192.0.2.1, 192.0.2.2"),  # type A by default; the CNAME is followed
        ],
    )
    @bounded(10)
    async def test_every_record_type_reads_as_text(self, query: str, body: str) -> None:
        async with resolver() as port:
            result = await ask(port, query, f'[BODY] == "{body}"')
        assert result.ok, result.message

    @bounded(10)
    async def test_without_conditions_noerror_with_answers_is_success(self) -> None:
        async with resolver() as port:
            result = await ask(port, "ok.test")
        assert (result.ok, result.outcomes) == (True, ())

    @bounded(10)
    async def test_noerror_without_answers_of_the_type_fails_without_conditions(self) -> None:
        async with resolver() as port:
            result = await ask(port, "ok.test?type=AAAA")
        assert (result.ok, result.error, result.message) == (False, "dns", "no AAAA record for ok.test")


class TestFailures:
    @bounded(10)
    async def test_nxdomain_is_the_reason(self) -> None:
        async with resolver() as port:
            result = await ask(port, "missing.test", '[BODY] == "192.0.2.1"')
        assert (result.ok, result.error, result.message) == (False, "dns", "NXDOMAIN")

    @bounded(10)
    async def test_servfail_is_the_reason(self) -> None:
        async with resolver() as port:
            result = await ask(port, "broken.test?type=A")
        assert (result.ok, result.error, result.message) == (False, "dns", "SERVFAIL")

    @bounded(10)
    async def test_a_condition_on_the_rcode_judges_it_itself(self) -> None:
        async with resolver() as port:
            gone = await ask(port, "missing.test", "[DNS_RCODE] == NXDOMAIN")
            there = await ask(port, "ok.test", "[DNS_RCODE] == NXDOMAIN")
        assert gone.ok, gone.message
        assert there.message == "expected [DNS_RCODE] == NXDOMAIN, got NOERROR"

    @bounded(10)
    async def test_a_resolver_that_never_answers_times_out(self) -> None:
        async with resolver() as port:
            result = await ask(port, "silent.test", limit=0.5)
        assert (result.ok, result.error, result.message) == (False, "timeout", "timeout after 500ms")

    @bounded(10)
    async def test_a_closed_resolver_port_is_connection_refused(self) -> None:
        result = await ask(closed_port(), "ok.test", limit=2.0)
        assert (result.ok, result.error, result.message) == (False, "refused", "connection refused")


async def test_targets_are_read_once_and_checked() -> None:
    target = parse_target("dns://[::1]:5353/example.com?type=mx")
    assert (target.resolver, target.port, target.name, target.record_type) == (
        "::1",
        5353,
        "example.com",
        "MX",
    )
    assert parse_target("dns://1.1.1.1/example.com").record_type == "A"
    with pytest.raises(ValueError, match="unknown DNS record type 'AAA'"):
        parse_target("dns://1.1.1.1/example.com?type=AAA")
