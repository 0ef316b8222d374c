"""The TCP probe: does host:port accept a connection within the timeout, and answer as expected?"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import trio

from engine.probes.common import describe_failure, failed, timeout_failure
from engine.probes.expect import READ_CAP, Expectation, judge_reply, reads_reply
from engine.probes.net import open_tcp, peer_ip

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult


def parse_target(url: str) -> tuple[str, int]:
    """Host and port of a `tcp://HOST:PORT` or `udp://HOST:PORT` URL.

    Raises:
        ValueError: when the URL has no host or no port.
    """
    parts = urlsplit(url)
    if not parts.hostname or parts.port is None:
        raise ValueError(f"{url!r} is not {parts.scheme or 'tcp'}://HOST:PORT")
    return parts.hostname, parts.port


async def probe_tcp(check: Check, wall_clock: Callable[[], datetime]) -> ProbeResult:
    """One TCP attempt: connect (happy eyeballs across the host's addresses), optionally send and read.

    With `send:` the text is written once connected. The reply is read when the check has `expect:`
    or a [BODY] condition: until the expectation is met, a full line has arrived, the peer closes,
    64 KiB, or the timeout — and a reply cut short by the timeout is still judged on what arrived.
    The facts are `[CONNECTED]`, `[RESPONSE_TIME]` (time to connect, or to the reply when one is
    read), `[BODY]` and `[IP]`; without conditions, connecting (and meeting `expect:`) is success.

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
    ip: str | None = None
    done_ms: float | None = None
    reading = reads_reply(check)
    reply = bytearray()
    with trio.move_on_after(check.timeout):
        try:
            stream = await open_tcp(host, port, check.ip_version)
        except OSError as exc:
            failure = describe_failure(exc, host)
        else:
            ip = peer_ip(stream.socket)
            try:
                if check.stream.send:
                    await stream.send_all(check.stream.send.encode())
                if reading:
                    await _read_reply(stream, check, reply)
                done_ms = (trio.current_time() - start) * 1000
            except (OSError, trio.BrokenResourceError) as exc:
                failure = describe_failure(exc, host)
            finally:
                await trio.aclose_forcefully(stream)
    elapsed_ms = (trio.current_time() - start) * 1000
    if done_ms is None and failure is None and ip is not None and reply:
        done_ms = elapsed_ms  # the timeout cut the reply short: judge what arrived
    if done_ms is None:
        return failed(
            check, failure or timeout_failure(check.timeout), started_at=started_at, duration_ms=elapsed_ms
        )
    return judge_reply(
        check, bytes(reply) if reading else None, ip=ip, started_at=started_at, duration_ms=done_ms
    )


async def _read_reply(stream: trio.SocketStream, check: Check, reply: bytearray) -> None:
    """Read into `reply` until there is enough to judge (see probe_tcp); `reply` keeps what arrived."""
    expectation = Expectation(check.stream.expect) if check.stream.expect is not None else None
    while len(reply) < READ_CAP:
        chunk = await stream.receive_some(READ_CAP - len(reply))
        if not chunk:
            return
        reply += chunk
        if expectation is not None and expectation.settled(bytes(reply)):
            return
        if expectation is None and reply.endswith(b"\n"):
            return
