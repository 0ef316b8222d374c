"""TLS: the shared SSL contexts, certificate facts and precise certificate failures, and the tls:// probe.

A certificate that fails verification is the case where a person most needs detail ("expired 3 days
ago", "issued for other.test"), and the one where `ssl` gives least: a failed handshake has no peer
certificate. So, on that failure path only, the probe shakes hands a second time without verifying,
reads the leaf certificate with `cryptography`, and words the failure from it.
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import trio

from engine.probes.common import (
    certificate_words,
    describe_failure,
    failed,
    find_cause,
    judge,
    timeout_failure,
)
from engine.probes.net import open_tcp, peer_ip
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from collections.abc import Callable

    from pulsewatch.domain.monitoring import Check, ProbeResult, TlsOptions

_EXPIRED = 10  # X509_V_ERR_CERT_HAS_EXPIRED
_NOT_YET_VALID = 9  # X509_V_ERR_CERT_NOT_YET_VALID
_WRONG_NAME = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NAMES_SHOWN = 3


class TlsSetupError(Exception):
    """A check's CA bundle or client certificate cannot be loaded (missing file, wrong format)."""


class SslContexts:
    """One SSLContext per distinct (verify, ca_file, client_cert, client_key), built on first use.

    A context costs tens of milliseconds of CPU to build (DESIGN §5.2), so every client and probe
    with the same trust settings shares one; most engines need exactly one.
    """

    def __init__(self) -> None:
        self._contexts: dict[tuple[bool, str | None, str | None, str | None], ssl.SSLContext] = {}

    def get(self, verify: bool, options: TlsOptions) -> ssl.SSLContext:
        """The context for these settings.

        Raises:
            TlsSetupError: a CA bundle or client certificate cannot be loaded (not cached: a fixed
                file works on the next probe).
        """
        key = (verify, options.ca_file, options.client_cert, options.client_key)
        context = self._contexts.get(key)
        if context is None:
            context = _build_context(verify, options)
            self._contexts[key] = context
        return context

    def __len__(self) -> int:
        return len(self._contexts)


def _build_context(verify: bool, options: TlsOptions) -> ssl.SSLContext:
    try:
        if verify and options.ca_file:
            context = ssl.create_default_context(cafile=options.ca_file)
        else:
            # httpx's defaults (certifi; SSL_CERT_FILE/SSL_CERT_DIR honoured), so probes trust what
            # curl-like tools trust.
            context = httpx.create_ssl_context(verify=verify)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"cannot load ca_file {options.ca_file}: {_why(exc)}") from None
    if options.client_cert:
        try:
            context.load_cert_chain(options.client_cert, options.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise TlsSetupError(f"cannot load client_cert {options.client_cert}: {_why(exc)}") from None
    return context


def _why(exc: OSError) -> str:
    return str(exc.strerror or exc) if not isinstance(exc, ssl.SSLError) else str(exc.reason or exc)


def certificate_expiration(cert: dict[str, object] | None, now: datetime) -> float | None:
    """Seconds from `now` until a verified peer certificate (`getpeercert()`) expires, if known."""
    if not cert or "notAfter" not in cert:
        return None
    return ssl.cert_time_to_seconds(str(cert["notAfter"])) - now.timestamp()


@dataclass(frozen=True)
class LeafCertificate:
    """What a refused server certificate says about itself."""

    not_before: datetime
    not_after: datetime
    names: tuple[str, ...]
    """DNS names and IP addresses it is issued for (its common name when it lists none)."""


def read_leaf(der: bytes) -> LeafCertificate:
    """Parse a DER certificate (as `getpeercert(binary_form=True)` returns it)."""
    # cryptography is imported on the first certificate read, not with the engine: ~9 MB of RSS
    # that an engine whose certificates all verify (or that has no TLS checks) never needs.
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    if not names:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return LeafCertificate(cert.not_valid_before_utc, cert.not_valid_after_utc, tuple(names))


async def fetch_leaf(host: str, port: int, ip_version: int) -> LeafCertificate | None:
    """Shake hands without verifying and read the server's certificate; None when even that fails."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        stream = await open_tcp(host, port, ip_version)
        # ssl sends no SNI for an IP literal by itself (RFC 6066).
        tls = trio.SSLStream(stream, context, server_hostname=host)
        try:
            await tls.do_handshake()
            der = tls.getpeercert(binary_form=True)
        finally:
            await trio.aclose_forcefully(tls)
    except (OSError, ssl.SSLError, trio.BrokenResourceError):
        return None
    return read_leaf(der) if der else None


async def explain_certificate(
    exc: ssl.SSLCertVerificationError, host: str, port: int, ip_version: int, now: datetime
) -> str:
    """Why the server's certificate was refused, as precisely as the certificate allows.

    Call it inside the probe's timeout: expiry and name problems fetch the certificate once more.
    """
    code = exc.verify_code
    if code not in (_EXPIRED, _NOT_YET_VALID, *_WRONG_NAME):
        return certificate_words(exc)
    leaf = await fetch_leaf(host, port, ip_version)
    if code == _EXPIRED:
        when = f" {ago((now - leaf.not_after).total_seconds())}" if leaf else ""
        return f"TLS certificate expired{when}"
    if code == _NOT_YET_VALID:
        when = f" until {leaf.not_before:%Y-%m-%d %H:%M} UTC" if leaf else " yet"
        return f"TLS certificate is not valid{when}"
    if leaf is None or not leaf.names:
        return f"certificate is not for {host}"
    shown = ", ".join(leaf.names[:_NAMES_SHOWN])
    if len(leaf.names) > _NAMES_SHOWN:
        shown += f" and {len(leaf.names) - _NAMES_SHOWN} more"
    return f"certificate is for {shown}, not {host}"


def ago(seconds: float) -> str:
    """A past interval as a person says it: "3 days ago", "1 hour ago", "just now"."""
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        count = int(seconds // size)
        if count >= 1:
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def parse_target(url: str) -> tuple[str, int]:
    """Host and port of `tls://HOST[:PORT]` (443 when left out).

    Raises:
        ValueError: the URL has no host.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url!r} is not tls://HOST:PORT")
    return parts.hostname, parts.port or 443


async def probe_tls(check: Check, wall_clock: Callable[[], datetime], contexts: SslContexts) -> ProbeResult:
    """One TLS attempt: connect, shake hands verifying the certificate chain and name, then close.

    The facts are `[CONNECTED]`, `[RESPONSE_TIME]` (connect and handshake), `[CERTIFICATE_EXPIRATION]`
    and `[IP]`; without conditions, a verified handshake is success. A refused certificate is a
    failure with its precise reason whatever the conditions say.

    Args:
        check: the check to probe (must have an id).
        wall_clock: the engine's clock for `started_at` (and certificate ages).
        contexts: the engine's shared SSL contexts.

    Returns:
        The ProbeResult of this attempt (its `engine` field is left for the caller to fill).
    """
    started_at = wall_clock()
    start = trio.current_time()
    try:
        host, port = parse_target(check.url)
        context = contexts.get(True, check.tls)
    except (ValueError, TlsSetupError) as exc:
        return failed(check, ("config", str(exc)), started_at=started_at, duration_ms=0.0)
    failure: tuple[str, str] | None = None
    facts: ProbeFacts | None = None
    with trio.move_on_after(check.timeout):
        try:
            facts = await _handshake(check, host, port, context, started_at, start)
        except (OSError, ssl.SSLError, trio.BrokenResourceError) as exc:
            failure = describe_failure(exc, host)
            refused = find_cause(exc, ssl.SSLCertVerificationError)
            if refused is not None:
                words = await explain_certificate(refused, host, port, check.ip_version, started_at)
                failure = ("tls", words)
    if facts is None:
        elapsed_ms = (trio.current_time() - start) * 1000
        return failed(
            check, failure or timeout_failure(check.timeout), started_at=started_at, duration_ms=elapsed_ms
        )
    return judge(
        check,
        facts,
        started_at=started_at,
        duration_ms=facts.response_time_ms or 0.0,
        default_ok=True,
        default_failure=("", ""),
    )


async def _handshake(
    check: Check, host: str, port: int, context: ssl.SSLContext, started_at: datetime, start: float
) -> ProbeFacts:
    stream = await open_tcp(host, port, check.ip_version)
    ip = peer_ip(stream.socket)
    tls = trio.SSLStream(stream, context, server_hostname=host)
    try:
        await tls.do_handshake()
        cert = tls.getpeercert()
    finally:
        await trio.aclose_forcefully(tls)
    return ProbeFacts(
        response_time_ms=(trio.current_time() - start) * 1000,
        connected=True,
        certificate_expiration_s=certificate_expiration(cert, started_at),
        ip=ip,
    )
