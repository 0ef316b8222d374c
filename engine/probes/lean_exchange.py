"""One HTTP(S) probe on the lean client (engine.probes.lean_http): request, redirects, facts.

The request is built once per check with httpx's own models, so it is byte for byte what the httpx
path sends: the same URL normalisation, default headers (Accept, Accept-Encoding, Connection,
User-Agent, overridden by the check's headers), Host and Content-Length. It is then kept as a ready,
validated h11.Request: the hot path builds no request at all. Redirects follow httpx's rules
(`httpx.Client._redirect_*`): 301 POST, 302 and 303 become GET without a body, Authorization is
dropped across origins except an http→https upgrade of the same host, at most `max_redirects`
hops, and cookies set along the chain are sent along it (they never outlive the probe).
"""

from __future__ import annotations

import codecs
import email.message
import functools
from typing import TYPE_CHECKING

import h11
import httpx
import trio

from engine.probes.lean_body import LeanError
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from datetime import datetime

    from engine.probes.lean_http import Answer, LeanClient
    from pulsewatch.domain.monitoring import Check

USER_AGENT = "PulseWatch/0.1 (+uptime probe)"
DEFAULT_HEADERS = (
    ("Accept", "*/*"),
    # What httpx asks for without the optional brotli/zstandard packages, and what lean_http decodes.
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
    ("User-Agent", USER_AGENT),
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class TooManyRedirects(LeanError):
    """More redirects than the check allows."""


class _Plan:
    """A check's request as sent: the h11 event and the body.

    The httpx model it was made from is not kept: at 10,000 checks it held ~16 MB (headers, URL,
    stream) for the rare redirect, which builds it again from the check (`build_request`).
    """

    __slots__ = ("body", "head")

    def __init__(self, request: httpx.Request) -> None:
        self.body = request.content
        self.head = _shared_headers(_head(request))


def build_request(check: Check) -> httpx.Request:
    """The request httpx would send for `check` (cookies aside)."""
    options = check.http
    headers = httpx.Headers(DEFAULT_HEADERS)
    headers.update(list(options.headers))
    content = options.body.encode() if options.body is not None else None
    return httpx.Request(options.method, check.url, headers=headers, content=content)


def prepare(client: LeanClient, check: Check) -> None:
    """Build and keep the check's request plan now (engine start-up) rather than on its first probe.

    Raises:
        h11.LocalProtocolError: a header HTTP refuses.
    """
    _plan(client, check)


def _plan(client: LeanClient, check: Check) -> _Plan:
    if check.id is None:
        return _Plan(build_request(check))
    # The engine keeps the same immutable Check object between rounds: an identity test is enough.
    cached = client.plans.get(check.id)
    if cached is not None and cached[0] is check:
        return cached[1]  # type: ignore[return-value]
    plan = _Plan(build_request(check))
    client.plans[check.id] = (check, plan)
    return plan


async def exchange(client: LeanClient, check: Check, start: float, started_at: datetime
                   ) -> tuple[int, ProbeFacts]:
    """Send the check's request (and follow its redirects) and return (status, facts).

    Args:
        client: the lean client of the check's origin.
        check: the check probed.
        start: trio time the attempt started, for [RESPONSE_TIME].
        started_at: wall-clock start, for [CERTIFICATE_EXPIRATION].

    Raises:
        OSError: connecting failed.
        LeanError: the exchange failed (TooManyRedirects included).
    """
    try:
        plan = _plan(client, check)
    except h11.LocalProtocolError as exc:  # a header the config let through that HTTP refuses
        raise LeanError(str(exc)) from exc
    options = check.http
    answer = await client.roundtrip(plan.head, plan.body, options.max_body_bytes)
    if options.follow_redirects and answer.status in REDIRECTS and answer.header(b"location") is not None:
        answer = await _follow(client, build_request(check), answer, check)
    expires = answer.not_after - started_at.timestamp() if answer.not_after is not None else None
    facts = ProbeFacts(
        status=answer.status,
        response_time_ms=(trio.current_time() - start) * 1000,
        body=answer.body.decode(_charset(answer.header(b"content-type")), errors="replace"),
        connected=True,
        certificate_expiration_s=expires,
        dns_rcode=None,
        ip=answer.ip,
    )
    return answer.status, facts


async def _follow(client: LeanClient, request: httpx.Request, answer: Answer, check: Check) -> Answer:
    """Follow redirects from `answer` (a redirect to `request`) until a final answer."""
    cookies: httpx.Cookies | None = None
    hops = 0
    while answer.status in REDIRECTS and (location := answer.header(b"location")) is not None:
        hops += 1
        if hops > check.http.max_redirects:
            raise TooManyRedirects(f"too many redirects (max {check.http.max_redirects})")
        if answer.header(b"set-cookie") is not None:
            cookies = cookies if cookies is not None else httpx.Cookies()
            cookies.extract_cookies(httpx.Response(answer.status, headers=answer.headers, request=request))
        request = _redirected(request, answer.status, location.decode("latin-1"))
        if cookies is not None:
            cookies.set_cookie_header(request)
        if request.url.scheme not in ("http", "https"):
            raise LeanError(f"Request URL has an unsupported protocol '{request.url.scheme}://'.")
        client = client.pool.sibling(client, request.url)
        try:
            head = _head(request)
        except h11.LocalProtocolError as exc:
            raise LeanError(str(exc)) from exc
        answer = await client.roundtrip(head, request.content, check.http.max_body_bytes)
    return answer


def _redirected(request: httpx.Request, status: int, location: str) -> httpx.Request:
    """The next request of a redirect chain, by httpx's rules."""
    method = request.method
    if status in (302, 303) and method != "HEAD":
        method = "GET"
    if status == 301 and method == "POST":
        method = "GET"
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise LeanError(f"Invalid URL in location header: {exc}.") from None
    if url.scheme and not url.host:
        url = url.copy_with(host=request.url.host)
    if url.is_relative_url:
        url = request.url.join(url)
    if request.url.fragment and not url.fragment:
        url = url.copy_with(fragment=request.url.fragment)
    headers = httpx.Headers(request.headers)
    if not _same_origin(url, request.url):
        if not _https_upgrade(request.url, url):
            headers.pop("Authorization", None)
        headers["Host"] = url.netloc.decode("ascii")
    content: bytes | None = request.content
    if method != request.method and method == "GET":
        headers.pop("Content-Length", None)
        headers.pop("Transfer-Encoding", None)
        content = None
    headers.pop("Cookie", None)
    return httpx.Request(method, url, headers=headers, content=content)


def _port(url: httpx.URL) -> int | None:
    return url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)


def _same_origin(url: httpx.URL, other: httpx.URL) -> bool:
    return url.scheme == other.scheme and url.host == other.host and _port(url) == _port(other)


def _https_upgrade(url: httpx.URL, location: httpx.URL) -> bool:
    return (url.host == location.host and url.scheme == "http" and _port(url) == 80
            and location.scheme == "https" and _port(location) == 443)


def _head(request: httpx.Request) -> h11.Request:
    return h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)


_HEADER_ITEMS: dict[tuple[bytes, bytes, bytes], tuple[bytes, bytes, bytes]] = {}
"""One (raw name, name, value) triple per distinct header line of the plans, shared between them."""
_MAX_HEADER_ITEMS = 4096
"""Past this many distinct lines (headers unique to each check), plans keep their own."""


def _shared_headers(head: h11.Request) -> h11.Request:
    """`head` (validated) with its header lines shared with the other plans'.

    Checks of one target send the same Host, Accept, User-Agent… lines: at 10,000 checks their own
    copies held ~6 MB. h11 keeps a request's lines as (raw name, lower-case name, value) triples in
    `Headers._full_items` (every h11 since 0.12); the triples are immutable, so sharing is safe.
    """
    items = []
    for item in head.headers._full_items:
        shared = _HEADER_ITEMS.get(item)
        if shared is None and len(_HEADER_ITEMS) < _MAX_HEADER_ITEMS:
            shared = _HEADER_ITEMS[item] = item
        items.append(shared or item)
    headers = type(head.headers)(items)
    return h11.Request(method=head.method, target=head.target, headers=headers,
                       http_version=head.http_version)


@functools.lru_cache(maxsize=64)
def _charset(content_type: bytes | None) -> str:
    """The body's text encoding: the Content-Type charset when Python knows it, else UTF-8."""
    if content_type is None:
        return "utf-8"
    message = email.message.Message()
    message["content-type"] = content_type.decode("latin-1")
    charset = message.get_content_charset(failobj=None)
    if charset is None:
        return "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:  # httpx would crash the probe on an unknown charset; read it as UTF-8
        return "utf-8"
    return charset
