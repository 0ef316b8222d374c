"""The TCP probe against a real listening socket and a closed port (real sockets, so the real clock)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
import trio

from engine.probes import probe_tcp
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check
from tests.engine.helpers import bounded
from tests.engine.targets import closed_port

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


def tcp_check(url: str, *conditions: str, timeout: float = 5.0) -> Check:
    return Check(
        name="db",
        url=url,
        kind="tcp",
        timeout=timeout,
        id=7,
        conditions=tuple(parse_condition(c) for c in conditions),
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


async def _hang_up(stream: trio.SocketStream) -> None:
    await stream.aclose()
