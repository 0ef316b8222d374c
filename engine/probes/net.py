"""Addresses for the socket probes (tcp, udp, tls, icmp): resolution that honours a check's `ip_version`."""

from __future__ import annotations

import socket
from typing import Any

import trio

from engine.probes.common import AddressFamilyError

FAMILIES = {0: socket.AF_UNSPEC, 4: socket.AF_INET, 6: socket.AF_INET6}
"""`ip_version` → address family (0: whichever the name resolves to)."""

Address = tuple[socket.AddressFamily, Any]
"""An address family and the socket address to connect to."""


async def resolve(host: str, port: int, ip_version: int, kind: socket.SocketKind) -> list[Address]:
    """The addresses of `host` in the family `ip_version` asks for, in resolver order.

    Raises:
        socket.gaierror: the name does not resolve at all ("DNS lookup failed" for a person).
        AddressFamilyError: it resolves, but not to the asked-for family.
    """
    try:
        infos = await trio.socket.getaddrinfo(host, port, family=FAMILIES[ip_version], type=kind)
    except socket.gaierror:
        if ip_version == 0:
            raise
        # Only on the failure path: tell "no such name" apart from "no address of that family".
        await trio.socket.getaddrinfo(host, port, type=kind)
        raise AddressFamilyError(f"{host} has no IPv{ip_version} address") from None
    return [(family, sockaddr) for family, _, _, _, sockaddr in infos]


async def open_tcp(host: str, port: int, ip_version: int) -> trio.SocketStream:
    """A TCP connection to host:port; any family uses trio's happy eyeballs, 4 or 6 tries that family's
    addresses in turn.

    Raises:
        OSError: the connection failed (refused, unreachable, DNS...).
    """
    if ip_version == 0:
        return await trio.open_tcp_stream(host, port)
    last: OSError | None = None
    for _, sockaddr in await resolve(host, port, ip_version, socket.SOCK_STREAM):
        try:
            return await trio.open_tcp_stream(sockaddr[0], port)
        except OSError as exc:
            last = exc
    raise last or AddressFamilyError(f"{host} has no IPv{ip_version} address")


def peer_ip(sock: trio.socket.SocketType) -> str | None:
    """The IP a connected socket talks to, or None once it is closed."""
    try:
        return str(sock.getpeername()[0])
    except OSError:
        return None
