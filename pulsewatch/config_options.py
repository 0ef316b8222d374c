"""The per-kind options of a probed check: auth, proxy, TLS files, send/expect, packets, IP family, retries.

`config_checks` builds the fields every check has; this module builds the ones that depend on the
kind and reports, at the field, each that the kind cannot use or that cannot work as written.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pulsewatch.config_kinds import FIELD_KINDS, family_problem, field_problem
from pulsewatch.domain.durations import compact_duration as format_duration
from pulsewatch.domain.monitoring import StreamOptions, TlsOptions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import SecretStr

    from pulsewatch.config_schema import AuthSection, CheckSection, DefaultsSection
    from pulsewatch.config_yaml import Loc, Report

T = TypeVar("T")
_PROXY = re.compile(r"https?://[^\s/]+/?", re.IGNORECASE)
_TLS_FILES = ("ca_file", "client_cert", "client_key")
_KEY_WITHOUT_CERT = "client_key needs client_cert (the certificate the key belongs to)"


@dataclass(frozen=True)
class ProbeOptions:
    """The kind-dependent fields of a Check (keyword arguments for it), plus what the http options need."""

    retry_interval: float = 0.0
    ip_version: int = 0
    tls: TlsOptions = field(default_factory=TlsOptions)
    stream: StreamOptions = field(default_factory=StreamOptions)
    packets: int = 3
    authorization: str | None = field(default=None, repr=False)
    """The Authorization header `auth:` stands for (http(s) only)."""
    proxy: str | None = field(default=None, repr=False)


def probe_options(
    report: Report,
    base: Loc,
    c: CheckSection,
    d: DefaultsSection,
    *,
    kind: str,
    url: str,
    timing: tuple[float, float, int],
    base_dir: Path | None,
) -> ProbeOptions:
    """The kind-dependent options of checks[i] (`base`); every problem goes to `report`.

    Args:
        report: where problems go.
        base: the check's location, ("checks", i).
        c: the check as written.
        d: the `defaults:` section (kind-specific defaults apply only where the kind takes them).
        kind: the check's kind.
        url: the check's URL.
        timing: (interval, timeout, retries) as built.
        base_dir: the folder relative TLS file paths are read from (the config file's), or None.
    """
    for name in FIELD_KINDS:
        problem = field_problem(name, kind) if getattr(c, name) is not None else None
        if problem is not None:
            report.add((*base, name), problem, at_key=True)
    ip_version = _pick(c.ip_version, d.ip_version, 0)
    problem = family_problem(url, kind, ip_version)
    if problem is not None:
        report.add((*base, "ip_version" if c.ip_version is not None else "url"), problem)
    http = kind in ("http", "https")
    return ProbeOptions(
        retry_interval=_retry_interval(report, base, c, d, timing),
        ip_version=ip_version,
        tls=_tls(report, base, c, d, base_dir) if kind in ("https", "tls") else TlsOptions(),
        stream=_stream(report, base, c, kind),
        packets=c.packets or 3,
        authorization=_authorization(report, base, c, d) if http else None,
        proxy=_proxy(report, base, c, d) if http else None,
    )


def _retry_interval(
    report: Report, base: Loc, c: CheckSection, d: DefaultsSection, timing: tuple[float, float, int]
) -> float:
    interval, timeout, retries = timing
    wait = _pick(c.retry_interval, d.retry_interval, 0.0)
    if wait and retries:
        worst = timeout * (retries + 1) + wait * retries
        if worst > interval:
            report.add(
                (*base, "retry_interval" if c.retry_interval is not None else "retries"),
                f"{retries + 1} attempts of up to {format_duration(timeout)}, {format_duration(wait)} apart, "
                f"take up to {format_duration(worst)}: longer than the interval {format_duration(interval)} "
                "(lower retries, timeout or retry_interval)",
            )
    return wait


def check_defaults(report: Report, d: DefaultsSection) -> None:
    """Report problems of `defaults:`'s kind-specific values once, not at every check that uses them."""
    if d.client_key is not None and d.client_cert is None:
        report.add(("defaults", "client_key"), _KEY_WITHOUT_CERT, at_key=True)
    if d.auth is not None:
        _auth_header(d.auth, report, ("defaults", "auth"), d.headers or {})
    if d.proxy is not None:
        _proxy_url(d.proxy, report, ("defaults", "proxy"))


def _tls(report: Report, base: Loc, c: CheckSection, d: DefaultsSection, base_dir: Path | None) -> TlsOptions:
    paths: dict[str, str | None] = {}
    for name in _TLS_FILES:
        own = getattr(c, name)
        written = own if own is not None else getattr(d, name)
        paths[name] = None if written is None else _file(written, base_dir)
    if c.client_key is not None and paths["client_cert"] is None:
        report.add((*base, "client_key"), _KEY_WITHOUT_CERT, at_key=True)
    return TlsOptions(**paths)


def _file(written: str, base_dir: Path | None) -> str:
    """The path to use: a relative one is read from the config file's folder.

    Whether the file exists is left to the engine (the probe fails with "cannot load ca_file ..."):
    a config is often validated on a machine that does not hold the engine's certificates.
    """
    path = Path(written).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path)


def _stream(report: Report, base: Loc, c: CheckSection, kind: str) -> StreamOptions:
    if kind not in ("tcp", "udp"):
        return StreamOptions()
    if kind == "udp" and c.send is None:
        report.add((*base, "url"), "a udp check needs send: (the datagram to send; the reply is what counts)")
    return StreamOptions(send=c.send, expect=c.expect)


def _authorization(report: Report, base: Loc, c: CheckSection, d: DefaultsSection) -> str | None:
    headers = {**(d.headers or {}), **(c.headers or {})}
    if c.auth is not None:
        return _auth_header(c.auth, report, (*base, "auth"), headers)
    return None if d.auth is None else _auth_header(d.auth, None, None, headers)


def _auth_header(
    auth: AuthSection, report: Report | None, loc: Loc | None, headers: Mapping[str, object]
) -> str | None:
    """The Authorization header `auth` stands for; its problems go to `report` at `loc` when given."""
    problem = None
    if (auth.basic is None) == (auth.bearer is None):
        problem = "give one of basic: {username, password} or bearer: TOKEN"
    elif any(name.lower() == "authorization" for name in headers):
        problem = "auth and an Authorization header both set the same header: keep one"
    if problem is not None:
        if report is not None and loc is not None:
            report.add(loc, problem, at_key=True)
        return None
    if auth.basic is not None:
        pair = f"{auth.basic.username}:{auth.basic.password.get_secret_value()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return None if auth.bearer is None else "Bearer " + auth.bearer.get_secret_value()


def _proxy(report: Report, base: Loc, c: CheckSection, d: DefaultsSection) -> str | None:
    if c.proxy is not None:
        return _proxy_url(c.proxy, report, (*base, "proxy"))
    return None if d.proxy is None else d.proxy.get_secret_value()


def _proxy_url(secret: SecretStr, report: Report, loc: Loc) -> str:
    url = secret.get_secret_value()
    if _PROXY.fullmatch(re.sub(r"//[^/@]*@", "//", url)) is None:
        report.add(
            loc,
            "expected a proxy URL like http://proxy.example.com:3128 (the value is not shown: it may hold a "
            "password)",
        )
    return url


def _pick(value: T | None, default: T | None, fallback: T) -> T:
    if value is not None:
        return value
    return default if default is not None else fallback
