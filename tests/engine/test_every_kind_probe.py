"""Every kind end to end: checks written as YAML, synced to a real SQLite store, probed by the engine
against real local servers, judged UP or DEGRADED, and read back from storage unchanged."""

from __future__ import annotations

import contextlib
import functools
import socket
import textwrap
from typing import TYPE_CHECKING

import pytest
import trio

from engine.probes.icmp import IcmpNotPermittedError, open_icmp_socket
from engine.runtime import Engine
from engine.storage.store import open_store
from pulsewatch.config import load_config
from pulsewatch.domain.events import CheckUpdated
from pulsewatch.domain.monitoring import Status
from tests.engine.helpers import EventLog, bounded
from tests.engine.probe_targets import Pki, days, dns_responder, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.trio


async def _redis(stream: trio.SocketStream) -> None:
    while True:
        data = await stream.receive_some(1024)
        if not data:
            return
        await stream.send_all(b"+PONG\r\n" if data.strip() == b"PING" else b"-ERR\r\n")


async def _udp_echo(sock: trio.socket.SocketType) -> None:
    while True:
        data, peer = await sock.recvfrom(2048)
        await sock.sendto(data, peer)


@contextlib.asynccontextmanager
async def local_servers() -> AsyncIterator[dict[str, int]]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, _redis, 0, host="127.0.0.1"))
        udp = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        await udp.bind(("127.0.0.1", 0))
        nursery.start_soon(_udp_echo, udp)
        ports = {
            "tcp": listeners[0].socket.getsockname()[1],
            "udp": udp.getsockname()[1],
            "dns": await nursery.start(dns_responder),
        }
        try:
            yield ports
        finally:
            nursery.cancel_scope.cancel()
            udp.close()


async def icmp_allowed() -> bool:
    try:
        sock, _ = open_icmp_socket(socket.AF_INET)
    except IcmpNotPermittedError:
        return False
    sock.close()
    return True


@bounded(30)
async def test_every_kind_reaches_its_verdict_and_survives_storage(tmp_path: Path) -> None:
    pki = Pki.create(tmp_path)
    cert = pki.leaf("localhost", not_after=days(90))
    icmp = await icmp_allowed()
    with serve(cert=cert) as https_port:
        async with local_servers() as ports:
            config_file = tmp_path / "pulsewatch.yaml"
            config_file.write_text(
                textwrap.dedent(
                    f"""
                    defaults: {{interval: 1s, timeout: 1s, soft_conditions: ["[BODY].status == fast"]}}
                    checks:
                      - name: redis
                        url: tcp://127.0.0.1:{ports["tcp"]}
                        send: "PING\\r\\n"
                        expect: "+PONG"
                      - name: echo
                        url: udp://127.0.0.1:{ports["udp"]}
                        send: hello
                        expect: pat(hel*)
                      - name: resolver
                        url: dns://127.0.0.1:{ports["dns"]}/ok.test?type=MX
                        conditions: ['[BODY] == "10 mail.ok.test"']
                      - name: certificate
                        url: tls://localhost:{https_port}
                        ca_file: ca.pem
                        conditions: ["[CERTIFICATE_EXPIRATION] > 30d"]
                        soft_conditions: ["[CERTIFICATE_EXPIRATION] > 120d"]
                      - name: web
                        url: https://localhost:{https_port}/ok
                        ca_file: ca.pem
                        interval: 5s
                        retries: 1
                        retry_interval: 100ms
                        ip_version: 4
                      - name: ping
                        url: icmp://127.0.0.1
                        packets: 2
                        paused: {str(not icmp).lower()}
                    """
                ),
                encoding="utf-8",
            )
            config = load_config(config_file)
            store = open_store(f"sqlite:///{tmp_path / 'pulsewatch.db'}")
            try:
                events = EventLog()
                engine = Engine(store, config.checks, name="kinds", emit=events, batch_delay=0.05)
                probed = {"redis", "echo", "resolver", "certificate", "web"} | ({"ping"} if icmp else set())
                async with trio.open_nursery() as nursery:
                    await nursery.start(engine.run)
                    await events.wait_for(
                        lambda log: probed <= {_name(engine, e.state.check_id) for e in log.of(CheckUpdated)}
                    )
                    engine.stop()
                states = {_name(engine, e.state.check_id): e.state for e in events.of(CheckUpdated)}
                assert {n: states[n].status for n in probed} == {
                    **dict.fromkeys(probed, Status.UP),
                    "certificate": Status.DEGRADED,
                    "web": Status.DEGRADED,
                }
                assert states["certificate"].last_error.startswith(
                    "expected [CERTIFICATE_EXPIRATION] > 120d, got 89d"
                )
                assert states["web"].last_error == 'expected [BODY].status == fast, got "ok"'
                stored = {c.name: c for c in store.load_checks()}
                assert {c.name: c for c in engine.checks} == stored
                assert store.sync_checks(config.checks).is_empty
                degraded = store.recent_results(stored["web"].id or 0, 1)[0]
                assert (degraded.ok, degraded.degraded, degraded.error) == (True, True, "degraded")
            finally:
                store.close()


def _name(engine: Engine, check_id: int) -> str:
    return next(c.name for c in engine.checks if c.id == check_id)
