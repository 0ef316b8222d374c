"""The ICMP probe against the loopback addresses (real sockets, so the real clock).

Which socket works depends on the machine: a datagram ICMP socket when net.ipv4.ping_group_range
includes our group, a raw one as root. The "not permitted" case runs the probe in a child process
without CAP_NET_RAW (setpriv), which is how an unprivileged engine without the sysctl sees it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.probes import probe_icmp
from engine.probes.icmp import NOT_PERMITTED, IcmpNotPermittedError, open_icmp_socket
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check
from tests.engine.helpers import bounded
from tests.engine.probe_targets import has_ipv6_loopback

pytestmark = pytest.mark.trio

REPO = Path(__file__).resolve().parents[2]


def now() -> datetime:
    return datetime.now(UTC)


def icmp_allowed(family: socket.AddressFamily = socket.AF_INET) -> bool:
    try:
        sock, _ = open_icmp_socket(family)
    except IcmpNotPermittedError:
        return False
    sock.close()
    return True


def icmp_check(host: str, *conditions: str, packets: int = 3, timeout: float = 3.0) -> Check:
    return Check(
        name="gateway",
        url=f"icmp://[{host}]" if ":" in host else f"icmp://{host}",
        kind="icmp",
        timeout=timeout,
        packets=packets,
        id=4,
        conditions=tuple(parse_condition(c) for c in conditions),
    )


class TestEchoReplies:
    @bounded(10)
    async def test_loopback_answers_every_ping(self) -> None:
        if not icmp_allowed():
            pytest.skip(NOT_PERMITTED)
        result = await probe_icmp(
            icmp_check(
                "127.0.0.1",
                "[PACKET_LOSS] == 0",
                "[RESPONSE_TIME] < 1000",
                "[CONNECTED] == true",
                "[IP] == 127.0.0.1",
                packets=4,
            ),
            now,
        )
        assert result.ok, result.message
        assert [o.passed for o in result.outcomes] == [True, True, True, True]

    @bounded(10)
    async def test_a_packet_loss_condition_reports_the_percentage(self) -> None:
        if not icmp_allowed():
            pytest.skip(NOT_PERMITTED)
        result = await probe_icmp(icmp_check("localhost", "[PACKET_LOSS] > 50"), now)
        assert (result.ok, result.message) == (False, "expected [PACKET_LOSS] > 50, got 0")

    @bounded(10)
    async def test_ipv6_loopback(self) -> None:
        if not has_ipv6_loopback():
            pytest.skip("no ::1 on this machine")
        if not icmp_allowed(socket.AF_INET6):
            pytest.skip(NOT_PERMITTED)
        result = await probe_icmp(icmp_check("::1", "[PACKET_LOSS] == 0", "[IP] == ::1"), now)
        assert result.ok, result.message


class TestPermission:
    @bounded(20)
    async def test_without_the_privilege_the_reason_says_what_to_change(self) -> None:
        if os.geteuid() != 0:
            if icmp_allowed():
                pytest.skip("ICMP is permitted for this user: nothing to refuse")
            result = await probe_icmp(icmp_check("127.0.0.1"), now)
            assert (result.ok, result.error, result.message) == (False, "permission", NOT_PERMITTED)
            return
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is missing: cannot drop CAP_NET_RAW")
        script = textwrap.dedent(
            """
            import trio
            from datetime import UTC, datetime
            from engine.probes import probe_icmp
            from pulsewatch.domain.monitoring import Check
            check = Check(name="g", url="icmp://127.0.0.1", kind="icmp", timeout=2.0, id=1)
            result = trio.run(probe_icmp, check, lambda: datetime.now(UTC))
            if result.ok:
                print("PERMITTED")  # ping_group_range lets every group in
                raise SystemExit(0)
            print(result.error, result.message, sep="|")
            """
        )
        done = subprocess.run(  # noqa: ASYNC221 - a short child process; the test is bounded
            [setpriv, "--inh-caps=-net_raw", "--bounding-set=-net_raw", sys.executable, "-c", script],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        if done.stdout.strip() == "PERMITTED":
            pytest.skip("net.ipv4.ping_group_range admits every group here")
        assert done.stdout.strip() == f"permission|{NOT_PERMITTED}"
