"""The UDP probe: send one datagram and wait for the reply within the timeout.

UDP has no connection to open, so "reachable" means "answered": a service that stays silent and a
packet lost on the way look the same (a timeout), while a closed port on a host that says so comes
back as "connection refused" (the ICMP port-unreachable reaches the connected socket).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import trio

from engine.probes.common import describe_failure, failed, timeout_failure
from engine.probes.expect import READ_CAP, judge_reply
from engine.probes.net import resolve
from engine.probes.tcp import parse_target

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult


async def probe_udp(check: Check, wall_clock: Callable[[], datetime]) -> ProbeResult:
    """One UDP attempt: send `send:` as a datagram to host:port and read one reply datagram.

    The facts are `[CONNECTED]` (a reply came), `[RESPONSE_TIME]` (until the reply), `[BODY]` (the
    reply) and `[IP]`; `expect:` is checked first. Without conditions, any reply is success.

    Args:
        check: the check to probe (must have an id).
        wall_clock: the engine's clock for `started_at`.

    Returns:
        The ProbeResult of this attempt (its `engine` field is left for the caller to fill).
    """
    started_at = wall_clock()
    start = trio.current_time()
    try:
        host, port = parse_target(check.url)
    except ValueError as exc:
        return failed(check, ("config", str(exc)), started_at=started_at, duration_ms=0.0)
    failure: tuple[str, str] | None = None
    reply: bytes | None = None
    ip: str | None = None
    with trio.move_on_after(check.timeout):
        try:
            (family, address), *_ = await resolve(host, port, check.ip_version, socket.SOCK_DGRAM)
            ip = str(address[0])
            with trio.socket.socket(family, socket.SOCK_DGRAM) as sock:
                # Connected: replies from anyone else are dropped by the kernel, and an ICMP
                # port-unreachable surfaces as ConnectionRefusedError.
                await sock.connect(address)
                await sock.send((check.stream.send or "").encode())
                reply = await sock.recv(READ_CAP)
        except OSError as exc:
            failure = describe_failure(exc, host)
    elapsed_ms = (trio.current_time() - start) * 1000
    if reply is None:
        return failed(
            check, failure or timeout_failure(check.timeout), started_at=started_at, duration_ms=elapsed_ms
        )
    return judge_reply(check, reply, ip=ip, started_at=started_at, duration_ms=elapsed_ms)
