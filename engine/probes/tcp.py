"""The TCP probe: can a connection to host:port be opened within the timeout?"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import trio

from engine.probes.common import describe_failure, failed, judge, timeout_failure
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult


def parse_target(url: str) -> tuple[str, int]:
    """Host and port of a `tcp://HOST:PORT` URL.

    Raises:
        ValueError: when the URL has no host or no port.
    """
    parts = urlsplit(url)
    if not parts.hostname or parts.port is None:
        raise ValueError(f"{url!r} is not tcp://HOST:PORT")
    return parts.hostname, parts.port


async def probe_tcp(check: Check, wall_clock: Callable[[], datetime]) -> ProbeResult:
    """One TCP attempt: connect (happy eyeballs across the host's addresses), then close.

    The facts are `[CONNECTED]`, `[RESPONSE_TIME]` (time to connect) and `[IP]`; without
    conditions, connecting is success.

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
    connected_ms: float | None = None
    with trio.move_on_after(check.timeout):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError as exc:
            failure = describe_failure(exc, host)
        else:
            connected_ms = (trio.current_time() - start) * 1000
            ip = str(stream.socket.getpeername()[0])
            await stream.aclose()
    if connected_ms is None:
        elapsed_ms = (trio.current_time() - start) * 1000
        return failed(
            check, failure or timeout_failure(check.timeout), started_at=started_at, duration_ms=elapsed_ms
        )
    facts = ProbeFacts(
        status=None,
        response_time_ms=connected_ms,
        body=None,
        connected=True,
        certificate_expiration_s=None,
        dns_rcode=None,
        ip=ip,
    )
    return judge(
        check,
        facts,
        started_at=started_at,
        duration_ms=connected_ms,
        default_ok=True,
        default_failure=("", ""),
    )
