"""The ICMP probe: echo requests ("ping") for packet loss and round-trip time.

Linux lets unprivileged processes ping through ICMP datagram sockets when their group is inside
`net.ipv4.ping_group_range` (the kernel then owns the echo identifier and filters replies per
socket); root can always use a raw socket (which sees every ICMP packet, so replies are matched on
identifier, sequence and source). The probe tries the datagram socket first, then the raw one, and
otherwise fails with a reason that says what to change.

Each probe opens its own socket. With raw sockets every socket sees every echo reply on the host,
so this suits tens of ICMP checks, not thousands; a shared socket with a demultiplexer is the step
after that.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import trio

from engine.probes.common import describe_failure, failed, judge
from engine.probes.net import resolve
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult

NOT_PERMITTED = "ICMP not permitted: set net.ipv4.ping_group_range or run as root"
_ECHO_REQUEST = {socket.AF_INET: 8, socket.AF_INET6: 128}
_ECHO_REPLY = {socket.AF_INET: 0, socket.AF_INET6: 129}
_PROTOCOL = {socket.AF_INET: socket.IPPROTO_ICMP, socket.AF_INET6: socket.IPPROTO_ICMPV6}
_PAYLOAD = b"pulsewatch-ping!"
_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence


class IcmpNotPermittedError(OSError):
    """Neither an ICMP datagram socket nor a raw socket may be opened by this process."""


def parse_target(url: str) -> str:
    """The host of `icmp://HOST`.

    Raises:
        ValueError: the URL has no host.
    """
    host = urlsplit(url).hostname
    if not host:
        raise ValueError(f"{url!r} is not icmp://HOST")
    return host


def open_icmp_socket(family: socket.AddressFamily) -> tuple[trio.socket.SocketType, bool]:
    """An ICMP socket of `family` and whether it is raw (datagram preferred: it needs no privilege).

    Raises:
        IcmpNotPermittedError: neither kind is allowed.
    """
    for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):
        try:
            return trio.socket.socket(family, kind, _PROTOCOL[family]), kind == socket.SOCK_RAW
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM):
                raise
    raise IcmpNotPermittedError(errno.EPERM, NOT_PERMITTED)


async def probe_icmp(check: Check, wall_clock: Callable[[], datetime]) -> ProbeResult:
    """One ICMP round: `check.packets` echo requests, one after the other, each given an equal share
    of the timeout to be answered.

    The facts are `[PACKET_LOSS]` (percent unanswered), `[RESPONSE_TIME]` (mean round trip of the
    answered ones), `[CONNECTED]` (any answer) and `[IP]`. No answer at all fails as such; without
    conditions, any answer is success.

    Args:
        check: the check to probe (must have an id).
        wall_clock: the engine's clock for `started_at`.

    Returns:
        The ProbeResult of this round (its `engine` field is left for the caller to fill).
    """
    started_at = wall_clock()
    start = trio.current_time()
    try:
        host = parse_target(check.url)
    except ValueError as exc:
        return failed(check, ("config", str(exc)), started_at=started_at, duration_ms=0.0)
    rtts: list[float] = []
    ip: str | None = None
    failure: tuple[str, str] | None = None
    with trio.move_on_after(check.timeout):
        try:
            (family, address), *_ = await resolve(host, 0, check.ip_version, socket.SOCK_DGRAM)
            ip = str(address[0])
            sock, raw = open_icmp_socket(family)
            with sock:
                await _ping(sock, raw, family, address, check, rtts)
        except IcmpNotPermittedError:
            failure = ("permission", NOT_PERMITTED)
        except OSError as exc:
            failure = describe_failure(exc, host)
    elapsed_ms = (trio.current_time() - start) * 1000
    if failure is not None or not rtts:
        sent = check.packets
        no_reply = f"no reply to {sent} ping{'s' if sent != 1 else ''} (100% packet loss)"
        return failed(check, failure or ("timeout", no_reply), started_at=started_at, duration_ms=elapsed_ms)
    loss = (check.packets - len(rtts)) * 100.0 / check.packets
    facts = ProbeFacts(
        response_time_ms=sum(rtts) / len(rtts), connected=True, ip=ip, packet_loss=round(loss, 1)
    )
    return judge(
        check, facts, started_at=started_at, duration_ms=elapsed_ms, default_ok=True, default_failure=("", "")
    )


async def _ping(
    sock: trio.socket.SocketType,
    raw: bool,
    family: socket.AddressFamily,
    address: tuple[str, int] | tuple[str, int, int, int],
    check: Check,
    rtts: list[float],
) -> None:
    """Send the echo requests in turn, appending each answered one's round trip (ms) to `rtts`."""
    # A datagram socket's identifier is the kernel's; a raw socket's must tell our replies apart.
    ident = (os.getpid() ^ id(sock)) & 0xFFFF
    share = check.timeout / check.packets
    for seq in range(1, check.packets + 1):
        sent_at = trio.current_time()
        await sock.sendto(_echo_request(family, ident, seq), (address[0], 0))
        with trio.move_on_at(sent_at + share):
            while True:
                data, source = await sock.recvfrom(2048)
                if source[0] == address[0] and _reply_sequence(data, family, raw, ident) == seq:
                    rtts.append((trio.current_time() - sent_at) * 1000)
                    break


def _echo_request(family: socket.AddressFamily, ident: int, seq: int) -> bytes:
    kind = _ECHO_REQUEST[family]
    checksum = 0
    if family == socket.AF_INET:  # the kernel fills in ICMPv6 checksums (RFC 3542) but not ICMPv4 ones
        checksum = _checksum(_HEADER.pack(kind, 0, 0, ident, seq) + _PAYLOAD)
    return _HEADER.pack(kind, 0, checksum, ident, seq) + _PAYLOAD


def _reply_sequence(data: bytes, family: socket.AddressFamily, raw: bool, ident: int) -> int | None:
    """The sequence number of an echo reply meant for us, else None."""
    if raw and family == socket.AF_INET and data:
        data = data[(data[0] & 0x0F) * 4 :]  # raw IPv4 sockets deliver the IP header too
    if len(data) < _HEADER.size:
        return None
    kind, _, _, reply_ident, seq = _HEADER.unpack_from(data)
    if kind != _ECHO_REPLY[family] or (raw and reply_ident != ident):
        return None
    return int(seq)


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
