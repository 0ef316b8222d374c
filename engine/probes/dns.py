"""The DNS probe: ask one resolver one question with dnspython (its trio backend) and judge the answer.

`dns://RESOLVER[:PORT]/NAME?type=A|AAAA|CNAME|MX|TXT|NS|SRV`. The facts are `[DNS_RCODE]` ("NOERROR",
"NXDOMAIN"...), `[BODY]` (the answers of the asked type, sorted and joined with ", "; names without
their final dot, TXT strings unquoted), `[IP]` (the first of the A/AAAA answers) and `[RESPONSE_TIME]`.

Unless a condition looks at [DNS_RCODE] itself (e.g. `[DNS_RCODE] == NXDOMAIN` for a name that must
not exist), an answer other than NOERROR fails with the code as its reason ("NXDOMAIN"). Without
conditions, success is NOERROR with at least one answer of the asked type.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import trio

from engine.probes.common import describe_failure, failed, judge, timeout_failure
from engine.probes.net import resolve
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import dns.message

    from pulsewatch.domain.monitoring import Check, ProbeResult

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV")
"""The record types a dns check may ask for."""


@dataclass(frozen=True)
class DnsTarget:
    """What a dns:// URL asks: which resolver, which name, which record type."""

    resolver: str
    port: int
    name: str
    record_type: str


@functools.lru_cache(maxsize=4096)
def parse_target(url: str) -> DnsTarget:
    """Read `dns://RESOLVER[:PORT]/NAME?type=T` (type defaults to A); cached: URLs do not change.

    Raises:
        ValueError: no resolver, no name, or an unknown record type.
    """
    parts = urlsplit(url)
    name = parts.path.strip("/")
    if not parts.hostname or not name:
        raise ValueError(f"{url!r} is not dns://RESOLVER[:PORT]/NAME?type=A")
    record_type = (parse_qs(parts.query).get("type") or ["A"])[0].upper()
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown DNS record type {record_type!r}: expected {', '.join(RECORD_TYPES)}")
    return DnsTarget(parts.hostname, parts.port or 53, name, record_type)


async def probe_dns(check: Check, wall_clock: Callable[[], datetime]) -> ProbeResult:
    """One DNS attempt: one query (UDP, then TCP if the answer was truncated) to the check's resolver.

    Args:
        check: the check to probe (must have an id).
        wall_clock: the engine's clock for `started_at`.

    Returns:
        The ProbeResult of this attempt (its `engine` field is left for the caller to fill).
    """
    # dnspython is imported on the first DNS probe, not with the engine: ~4 MB of RSS that an
    # engine without DNS checks never needs.
    import dns.asyncbackend
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rcode

    started_at = wall_clock()
    start = trio.current_time()
    try:
        target = parse_target(check.url)
    except ValueError as exc:
        return failed(check, ("config", str(exc)), started_at=started_at, duration_ms=0.0)
    failure: tuple[str, str] | None = None
    response: dns.message.Message | None = None
    with trio.move_on_after(check.timeout):
        try:
            family, server = await _server_address(target, check.ip_version)
            query = dns.message.make_query(target.name, target.record_type)
            # A connected socket, so a closed resolver port reads "connection refused" rather than a
            # timeout. The timeout is trio's (the scope above), so a mock clock governs it too.
            backend = dns.asyncbackend.get_backend("trio")
            connect = backend.make_socket(family, socket.SOCK_DGRAM, 0, None, (server, target.port))  # type: ignore[no-untyped-call]  # dnspython's backend API is untyped
            async with await connect as sock:
                response, _ = await dns.asyncquery.udp_with_fallback(
                    query, server, port=target.port, udp_sock=sock, backend=backend
                )
        except dns.exception.DNSException as exc:
            failure = ("dns", f"bad DNS answer from {target.resolver}: {exc}")
        except OSError as exc:
            failure = describe_failure(exc, target.resolver)
    elapsed_ms = (trio.current_time() - start) * 1000
    if response is None:
        return failed(
            check, failure or timeout_failure(check.timeout), started_at=started_at, duration_ms=elapsed_ms
        )
    rcode = dns.rcode.to_text(response.rcode())
    judged_by_conditions = any(
        "[DNS_RCODE]" in c.placeholders for c in (*check.conditions, *check.soft_conditions)
    )
    if rcode != "NOERROR" and not judged_by_conditions:
        return failed(check, ("dns", rcode), started_at=started_at, duration_ms=elapsed_ms)
    answers, ip = _answers(response, target.record_type)
    facts = ProbeFacts(
        response_time_ms=elapsed_ms, body=", ".join(answers), dns_rcode=rcode, ip=ip, connected=True
    )
    return judge(
        check,
        facts,
        started_at=started_at,
        duration_ms=elapsed_ms,
        default_ok=bool(answers),
        default_failure=("dns", f"no {target.record_type} record for {target.name}"),
    )


async def _server_address(target: DnsTarget, ip_version: int) -> tuple[socket.AddressFamily, str]:
    """The resolver's family and IP (dnspython wants an address); a resolver given by name is looked up."""
    try:
        literal = ipaddress.ip_address(target.resolver)
    except ValueError:
        (family, address), *_ = await resolve(target.resolver, target.port, ip_version, socket.SOCK_DGRAM)
        return family, str(address[0])
    return (socket.AF_INET6 if literal.version == 6 else socket.AF_INET), target.resolver


def _answers(response: dns.message.Message, record_type: str) -> tuple[list[str], str | None]:
    """The answers of the asked type as text, sorted, and the first IP among them (a CNAME chain is
    skipped). Sorted: resolvers rotate their answers, and [BODY] must not change with the rotation."""
    import dns.rdatatype  # imported with the first probe (see probe_dns)

    wanted = dns.rdatatype.from_text(record_type)
    texts: list[str] = []
    ip: str | None = None
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue
        for rdata in rrset:
            if wanted == dns.rdatatype.TXT:
                texts.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
                continue
            text = rdata.to_text()
            texts.append(text[:-1] if text.endswith(".") and len(text) > 1 else text)
    texts.sort()
    if texts and wanted in (dns.rdatatype.A, dns.rdatatype.AAAA):
        ip = texts[0]
    return texts, ip
