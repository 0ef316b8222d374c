"""The TCP probe against real listening sockets and a closed port (real sockets, so the real clock)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
import trio

from engine.probes import probe_tcp
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check, StreamOptions
from tests.engine.helpers import bounded
from tests.engine.probe_targets import resolves_to_ipv6
from tests.engine.targets import closed_port

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


def tcp_check(
    url: str,
    *conditions: str,
    timeout: float = 5.0,
    send: str | None = None,
    expect: str | None = None,
    ip_version: int = 0,
) -> Check:
    return Check(
        name="db",
        url=url,
        kind="tcp",
        timeout=timeout,
        id=7,
        conditions=tuple(parse_condition(c) for c in conditions),
        stream=StreamOptions(send=send, expect=expect),
        ip_version=ip_version,
    )


class TestTcpProbe:
    @bounded(10)
    async def test_a_listening_port_is_connected(self) -> None:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(functools.partial(trio.serve_tcp, _hang_up, 0, host="127.0.0.1"))
            port = listeners[0].socket.getsockname()[1]
            result = await probe_tcp(
                tcp_check(f"tcp://127.0.0.1:{port}", "[CONNECTED] == true", "[RESPONSE_TIME] < 5000"), now
            )
            nursery.cancel_scope.cancel()
        assert result.ok, result.message
        assert result.check_id == 7
        assert result.status_code is None
        assert [o.passed for o in result.outcomes] == [True, True]

    @bounded(10)
    async def test_a_closed_port_is_connection_refused(self) -> None:
        result = await probe_tcp(tcp_check(f"tcp://127.0.0.1:{closed_port()}"), now)
        assert (result.ok, result.error, result.message) == (False, "refused", "connection refused")

    @bounded(10)
    async def test_without_conditions_connecting_is_success(self) -> None:
        with trio.socket.socket() as sock:
            await sock.bind(("127.0.0.1", 0))
            sock.listen(1)
            result = await probe_tcp(tcp_check(f"tcp://127.0.0.1:{sock.getsockname()[1]}"), now)
        assert result.ok
        assert result.outcomes == ()

    @bounded(10)
    async def test_a_url_without_port_is_a_config_error_result(self) -> None:
        result = await probe_tcp(tcp_check("tcp://127.0.0.1"), now)
        assert (result.ok, result.error) == (False, "config")


class TestSendAndExpect:
    """A Redis-like server (PING → +PONG, anything else → -ERR), an SSH-like banner, and silent peers."""

    @bounded(10)
    async def test_the_expected_reply_passes(self) -> None:
        async with serving(_redis) as port:
            result = await probe_tcp(
                tcp_check(
                    f"tcp://127.0.0.1:{port}", "[BODY] == pat(+PONG*)", send="PING\r\n", expect="+PONG"
                ),
                now,
            )
        assert result.ok, result.message

    @bounded(10)
    async def test_another_reply_names_both(self) -> None:
        async with serving(_redis) as port:
            result = await probe_tcp(
                tcp_check(f"tcp://127.0.0.1:{port}", send="HELLO\r\n", expect="+PONG"), now
            )
        assert (result.ok, result.error) == (False, "expect")
        assert result.message == 'expected "+PONG", got "-ERR unknown command"'

    @bounded(10)
    async def test_a_banner_is_read_without_sending(self) -> None:
        async with serving(_banner) as port:
            ok = await probe_tcp(tcp_check(f"tcp://127.0.0.1:{port}", expect="pat(SSH-2.0-*)"), now)
            wrong = await probe_tcp(tcp_check(f"tcp://127.0.0.1:{port}", expect="pat(SMTP *)"), now)
        assert ok.ok, ok.message
        assert wrong.message == 'expected pat(SMTP *), got "SSH-2.0-PulseWatchTest"'

    @bounded(10)
    async def test_a_body_condition_reads_the_reply_too(self) -> None:
        async with serving(_banner) as port:
            result = await probe_tcp(tcp_check(f"tcp://127.0.0.1:{port}", "[BODY] == pat(*OpenSSH*)"), now)
        assert result.message == 'expected [BODY] == pat(*OpenSSH*), got "SSH-2.0-PulseWatchTest"'

    @bounded(10)
    async def test_a_silent_peer_times_out(self) -> None:
        async with serving(_silent) as port:
            result = await probe_tcp(
                tcp_check(f"tcp://127.0.0.1:{port}", send="PING\r\n", expect="+PONG", timeout=1.0), now
            )
        assert (result.ok, result.error, result.message) == (False, "timeout", "timeout after 1s")

    @bounded(10)
    async def test_a_reply_cut_short_by_the_timeout_is_judged_on_what_came(self) -> None:
        async with serving(_stutter) as port:
            result = await probe_tcp(
                tcp_check(f"tcp://127.0.0.1:{port}", send="PING\r\n", expect="+PONG", timeout=0.5), now
            )
        assert (result.error, result.message) == ("expect", 'expected "+PONG", got "+PO"')

    @bounded(10)
    async def test_send_only_does_not_wait_for_a_reply(self) -> None:
        async with serving(_silent) as port:
            result = await probe_tcp(
                tcp_check(f"tcp://127.0.0.1:{port}", send="log line\n", timeout=5.0), now
            )
        assert result.ok, result.message


class TestAddressFamilies:
    @bounded(10)
    async def test_ipv6_only_on_a_name_without_ipv6_says_so(self) -> None:
        if resolves_to_ipv6("localhost"):
            pytest.skip("localhost has an IPv6 address here")
        result = await probe_tcp(tcp_check("tcp://localhost:5432", ip_version=6), now)
        assert (result.ok, result.error, result.message) == (False, "dns", "localhost has no IPv6 address")

    @bounded(10)
    async def test_ipv4_only_connects_over_ipv4(self) -> None:
        async with serving(_hang_up) as port:
            result = await probe_tcp(
                tcp_check(f"tcp://localhost:{port}", "[IP] == 127.0.0.1", ip_version=4), now
            )
        assert result.ok, result.message


@contextlib.asynccontextmanager
async def serving(handler: Callable[[trio.SocketStream], Awaitable[None]]) -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def _hang_up(stream: trio.SocketStream) -> None:
    await stream.aclose()


async def _redis(stream: trio.SocketStream) -> None:
    line = await stream.receive_some(1024)
    await stream.send_all(b"+PONG\r\n" if line.strip() == b"PING" else b"-ERR unknown command\r\n")
    await trio.sleep_forever()


async def _banner(stream: trio.SocketStream) -> None:
    await stream.send_all(b"SSH-2.0-PulseWatchTest\r\n")
    await trio.sleep_forever()


async def _silent(stream: trio.SocketStream) -> None:
    await trio.sleep_forever()


async def _stutter(stream: trio.SocketStream) -> None:
    await stream.receive_some(1024)
    await stream.send_all(b"+PO")
    await trio.sleep_forever()
