"""The UDP probe against a real UDP responder on 127.0.0.1 (real sockets, so the real clock).

The responder answers "ping" with "pong", "hello" with "-ERR", and stays silent on "quiet".
"""

from __future__ import annotations

import contextlib
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import trio

from engine.probes import probe_udp
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check, StreamOptions
from tests.engine.helpers import bounded

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


def udp_check(
    port: int, send: str, *conditions: str, expect: str | None = None, timeout: float = 5.0
) -> Check:
    return Check(
        name="echo",
        url=f"udp://127.0.0.1:{port}",
        kind="udp",
        timeout=timeout,
        id=5,
        conditions=tuple(parse_condition(c) for c in conditions),
        stream=StreamOptions(send=send, expect=expect),
    )


async def _respond(sock: trio.socket.SocketType) -> None:
    replies = {b"ping": b"pong", b"hello": b"-ERR"}
    while True:
        data, peer = await sock.recvfrom(2048)
        if data in replies:
            await sock.sendto(replies[data], peer)


@contextlib.asynccontextmanager
async def responder() -> AsyncIterator[int]:
    with trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        await sock.bind(("127.0.0.1", 0))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_respond, sock)
            yield sock.getsockname()[1]
            nursery.cancel_scope.cancel()


class TestUdpProbe:
    @bounded(10)
    async def test_the_expected_reply_passes_with_its_facts(self) -> None:
        async with responder() as port:
            result = await probe_udp(
                udp_check(
                    port,
                    "ping",
                    '[BODY] == "pong"',
                    "[IP] == 127.0.0.1",
                    "[CONNECTED] == true",
                    expect="pong",
                ),
                now,
            )
        assert result.ok, result.message
        assert [o.passed for o in result.outcomes] == [True, True, True]

    @bounded(10)
    async def test_another_reply_names_both(self) -> None:
        async with responder() as port:
            result = await probe_udp(udp_check(port, "hello", expect="pong"), now)
        assert (result.ok, result.error, result.message) == (False, "expect", 'expected "pong", got "-ERR"')

    @bounded(10)
    async def test_without_expect_any_reply_is_success(self) -> None:
        async with responder() as port:
            result = await probe_udp(udp_check(port, "hello"), now)
        assert result.ok, result.message

    @bounded(10)
    async def test_no_reply_is_a_timeout(self) -> None:
        async with responder() as port:
            result = await probe_udp(udp_check(port, "quiet", timeout=0.5), now)
        assert (result.ok, result.error, result.message) == (False, "timeout", "timeout after 500ms")

    @bounded(10)
    async def test_a_closed_port_that_says_so_is_connection_refused(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        result = await probe_udp(udp_check(port, "ping", timeout=2.0), now)
        assert (result.ok, result.error, result.message) == (False, "refused", "connection refused")
