"""What every probe shares: turning expected network failures into precise words, and judging facts.

A probe's failure message is what an on-call person reads at 3 a.m., so it names the cause
("connection refused", "DNS lookup failed for api.internal") rather than the exception class.
The causes hide several layers deep (httpx wraps httpcore wraps trio wraps an exception group
of OSErrors), so `describe_failure` walks the whole chain.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import TYPE_CHECKING, TypeVar

from pulsewatch.domain.conditions import ProbeFacts, check_conditions
from pulsewatch.domain.monitoring import ConditionOutcome, ProbeResult

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check

E = TypeVar("E", bound=BaseException)


def saved_id(check: Check) -> int:
    """The check's storage id; probing an unsaved check is a bug in the caller."""
    if check.id is None:
        raise ValueError(f"check {check.name!r} has no id: sync it to the store before probing")
    return check.id


def format_seconds(seconds: float) -> str:
    """A duration the way the config writes it: 5 → "5s", 0.5 → "500ms", 2.5 → "2.5s"."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


def timeout_failure(timeout: float) -> tuple[str, str]:
    """The (error, message) pair of a probe that ran out of time."""
    return "timeout", f"timeout after {format_seconds(timeout)}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it wraps: causes, contexts, group members and exceptions passed as args."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(a for a in current.args if isinstance(a, BaseException))


# OpenSSL's X509_V_ERR_* codes for the failures a person can act on without seeing the certificate.
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNKNOWN_ISSUER = (2, 20, 21)  # unable to get (local) issuer certificate, unable to verify the first


class AddressFamilyError(OSError):
    """The name resolves, but not to an address of the family the check asks for (ip_version)."""


def find_cause(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of type `kind` anywhere in `exc`'s chain, or None."""
    return next((cause for cause in _chain(exc) if isinstance(cause, kind)), None)


def certificate_words(exc: ssl.SSLCertVerificationError) -> str:
    """Why a certificate was refused, in words; the cases that need the certificate itself (expired,
    issued for another name) are refined by `engine.probes.tls.explain_certificate`."""
    code = exc.verify_code
    if code == _SELF_SIGNED:
        return "self-signed certificate"
    if code == _SELF_SIGNED_IN_CHAIN:
        return "self-signed certificate in the chain (its root CA is not trusted)"
    if code in _UNKNOWN_ISSUER:
        return "incomplete certificate chain"
    return f"TLS error: certificate verify failed: {exc.verify_message}"


def _tls_words(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return certificate_words(exc)
    reason = getattr(exc, "reason", None)
    return f"TLS error: {reason.lower().replace('_', ' ') if reason else exc}"


def describe_failure(exc: BaseException, host: str) -> tuple[str, str]:
    """Name the most telling cause found anywhere in `exc`'s chain.

    Args:
        exc: the exception a probe caught (httpx, trio, ssl or OS level).
        host: the target host, for the DNS message.

    Returns:
        (error, message): a short machine word ("tls", "dns", "refused", "reset", "network") and
        the sentence a person reads.
    """
    chain = list(_chain(exc))
    for cause in chain:
        if isinstance(cause, AddressFamilyError):
            return "dns", str(cause)
    # Most specific first: a TLS failure also shows up as a broken stream, a refused connection as
    # a generic "all attempts to connect failed".
    for cause in chain:
        if isinstance(cause, ssl.SSLError):
            return "tls", _tls_words(cause)
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return "dns", f"DNS lookup failed for {host}"
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return "refused", "connection refused"
    for cause in chain:
        if isinstance(cause, ConnectionResetError):
            return "reset", "connection reset by peer"
    for cause in chain:
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable", f"{host} is unreachable ({cause.strerror})"
    text = str(exc) or type(exc).__name__
    return "network", f"network error: {text}"


def judge(
    check: Check,
    facts: ProbeFacts,
    *,
    started_at: datetime,
    duration_ms: float,
    status_code: int | None = None,
    default_ok: bool,
    default_failure: tuple[str, str],
) -> ProbeResult:
    """Turn the facts of a completed exchange into a result.

    With conditions, they alone decide, and the first failing one is the message. Without them,
    `default_ok` decides (HTTP: status below 400; TCP: connected). When that verdict is a pass,
    the soft conditions may still mark the result degraded (their first failure is the message).

    Args:
        check: the check probed (id and conditions).
        facts: what the probe observed.
        started_at: wall-clock start of the attempt.
        duration_ms: how long the attempt took.
        status_code: the HTTP status, if any.
        default_ok: the verdict when the check has no conditions.
        default_failure: (error, message) when that verdict is a failure.

    Returns:
        The ProbeResult, outcomes included.
    """
    check_id = saved_id(check)
    outcomes: tuple[ConditionOutcome, ...] = ()
    if check.conditions:
        outcomes = check_conditions(check.conditions, facts)
        failing = next((o for o in outcomes if not o.passed), None)
        ok = failing is None
        error, message = (None, "") if failing is None else ("condition", failing.description)
    else:
        ok = default_ok
        error, message = (None, "") if default_ok else default_failure
    degraded = False
    # Soft conditions only matter once the hard ones pass: a DOWN probe is not also "slow".
    if ok and check.soft_conditions:
        soft = check_conditions(check.soft_conditions, facts)
        outcomes += soft
        failing = next((o for o in soft if not o.passed), None)
        if failing is not None:
            degraded, error, message = True, "degraded", failing.description
    return ProbeResult(
        check_id=check_id,
        started_at=started_at,
        duration_ms=duration_ms,
        ok=ok,
        status_code=status_code,
        error=error,
        message=message,
        outcomes=outcomes,
        degraded=degraded,
    )


def failed(
    check: Check, failure: tuple[str, str], *, started_at: datetime, duration_ms: float
) -> ProbeResult:
    """A result for an attempt that never got an answer (timeout, refused, DNS, TLS...)."""
    error, message = failure
    return ProbeResult(
        check_id=saved_id(check),
        started_at=started_at,
        duration_ms=duration_ms,
        ok=False,
        error=error,
        message=message,
    )
