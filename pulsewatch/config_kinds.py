"""What each kind of probed check is: its URL shape, the placeholders it offers, the fields it takes.

`config_checks` asks these questions while building checks, so `pulsewatch config validate` refuses
what cannot work — [STATUS] on a tcp check, `send:` on an http one, a dns type nobody knows, a port
on icmp — with a sentence that says what would.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, urlsplit

from pulsewatch.config_yaml import suggest
from pulsewatch.domain.conditions import Condition

KINDS = ("http", "https", "tcp", "udp", "tls", "dns", "icmp")
"""The probed kinds, as URL schemes (heartbeat checks have no URL)."""
HTTP_KINDS = ("http", "https")
DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV")
DEFAULT_CONDITIONS: dict[str, tuple[str, ...]] = {
    "http": ("[STATUS] < 400",),
    "https": ("[STATUS] < 400",),
    "tcp": ("[CONNECTED] == true",),
}
"""Conditions of a check that writes none; kinds not listed are judged by their probe (see engine.probes)."""

OFFERS: dict[str, tuple[str, ...]] = {
    "http": ("[STATUS]", "[RESPONSE_TIME]", "[BODY]", "[CONNECTED]", "[IP]"),
    "https": ("[STATUS]", "[RESPONSE_TIME]", "[BODY]", "[CONNECTED]", "[CERTIFICATE_EXPIRATION]", "[IP]"),
    "tcp": ("[CONNECTED]", "[RESPONSE_TIME]", "[BODY]", "[IP]"),
    "udp": ("[CONNECTED]", "[RESPONSE_TIME]", "[BODY]", "[IP]"),
    "tls": ("[CONNECTED]", "[RESPONSE_TIME]", "[CERTIFICATE_EXPIRATION]", "[IP]"),
    "dns": ("[DNS_RCODE]", "[BODY]", "[IP]", "[RESPONSE_TIME]"),
    "icmp": ("[PACKET_LOSS]", "[RESPONSE_TIME]", "[CONNECTED]", "[IP]"),
}
"""The placeholders each kind's probe fills in (the others would always read "unavailable")."""

FIELD_KINDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "method",
            "headers",
            "body",
            "follow_redirects",
            "max_redirects",
            "verify_tls",
            "max_body_bytes",
            "auth",
            "proxy",
        ),
        HTTP_KINDS,
    ),
    **dict.fromkeys(("ca_file", "client_cert", "client_key"), ("https", "tls")),
    **dict.fromkeys(("send", "expect"), ("tcp", "udp")),
    "packets": ("icmp",),
}
"""Fields that only some kinds take; every other field suits every probed kind."""

_EXAMPLES = "like https://example.com/health or tcp://db.example.com:5432"


def classify_url(url: str) -> str:
    """The check kind a URL asks for, after checking the URL has that kind's shape.

    Raises:
        ValueError: with the sentence to show (what the URL should look like).
    """
    if not url.strip() or any(ch.isspace() for ch in url):
        raise ValueError(f"expected a URL without spaces, {_EXAMPLES}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or not url[len(parts.scheme) :].startswith("://"):
        raise ValueError(f"expected a URL with a scheme, {_EXAMPLES}")
    if scheme not in KINDS:
        raise ValueError(
            f'unknown URL scheme "{scheme}": expected {_either(KINDS)}' + suggest(scheme, list(KINDS))
        )
    if not parts.hostname:
        raise ValueError("the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the URL's port must be a number from 1 to 65535") from None
    bare = parts.path in ("", "/") and not parts.query and not parts.fragment
    if scheme in ("tcp", "udp"):
        if port is None or port == 0:
            raise ValueError(f"a {scheme} check needs a host and a port, like {scheme}://db.example.com:5432")
        if not bare:
            raise ValueError(f"a {scheme} URL is only {scheme}://HOST:PORT (no path or query)")
    elif scheme == "tls":
        if not bare:
            raise ValueError(
                "a tls URL is only tls://HOST[:PORT] (no path or query; port 443 if left out)"
            )
    elif scheme == "icmp":
        if port is not None:
            raise ValueError("an icmp URL is only icmp://HOST (ICMP has no ports)")
        if not bare:
            raise ValueError("an icmp URL is only icmp://HOST (no path or query)")
    elif scheme == "dns":
        _check_dns(parts.path, parts.query, parts.fragment)
    return scheme


def _check_dns(path: str, query: str, fragment: str) -> None:
    shape = "dns://RESOLVER[:PORT]/NAME?type=A"
    if not path.strip("/") or "/" in path.strip("/") or fragment:
        raise ValueError(f"a dns check names what to look up: {shape}, like dns://1.1.1.1/example.com?type=A")
    fields = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(fields) - {"type"})
    if unknown:
        raise ValueError(f'unknown query parameter "{unknown[0]}" in a dns URL: only type= is read ({shape})')
    for value in fields.get("type", []):
        if value.upper() not in DNS_TYPES:
            raise ValueError(
                f'unknown DNS record type "{value}": expected {_either(DNS_TYPES)}'
                + suggest(value.upper(), list(DNS_TYPES))
            )


def placeholder_problem(condition: Condition, kind: str) -> str | None:
    """Why `condition` cannot hold on a `kind` check (it uses a placeholder the probe never fills)."""
    offered = OFFERS.get(kind)
    if offered is None:
        return None
    for placeholder in sorted(condition.placeholders):
        if placeholder not in offered:
            return (
                f"the {placeholder} placeholder needs {_needs(placeholder)}; "
                f"{kind} checks offer {', '.join(offered)}"
            )
    return None


def field_problem(field: str, kind: str) -> str | None:
    """Why a `kind` check cannot take `field`, if it cannot."""
    kinds = FIELD_KINDS.get(field)
    if kinds is None or kind in kinds:
        return None
    which = "http and https" if kinds == HTTP_KINDS else _names(kinds, "and")
    return f"only {which} checks take {field} (this is {_a(kind)} check)"


def family_problem(url: str, kind: str, ip_version: int) -> str | None:
    """Why `ip_version` cannot reach the URL's host, when the host is an IP address of the other family."""
    if ip_version == 0:
        return None
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: which families it has is known only when it is resolved
    if address.version == ip_version:
        return None
    what = "the resolver" if kind == "dns" else "the host"
    return f"ip_version {ip_version} cannot reach {what} {host}, an IPv{address.version} address"


def _needs(placeholder: str) -> str:
    kinds = [kind for kind in KINDS if placeholder in OFFERS[kind]]
    return f"{_a(_names(tuple(kinds), 'or'))} check"


def _a(words: str) -> str:
    """`words` with its article, as said aloud: "an http(s)", "an icmp", "a tcp"."""
    return ("an " if words.startswith(("http", "icmp")) else "a ") + words


def _names(kinds: tuple[str, ...], joiner: str) -> str:
    """("http", "https", "tcp") → "http(s) and tcp"; ("https", "tls") → "https and tls"."""
    names = list(kinds)
    if "http" in names and "https" in names:
        names.remove("https")
        names[names.index("http")] = "http(s)"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {joiner} {names[-1]}"


def _either(words: tuple[str, ...]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}"
