"""Sending one notification through Apprise's sync API: small, blocking, idempotent per URL.

Apprise is imported on first use: it is heavy, and `pulsewatch config validate` or the console never
need it. Each URL gets its own `Apprise` object so a channel with several URLs knows exactly which
ones were delivered; a retry then sends only to the others. Apprise reports a failure as a false
result whose captured log entries (per call, so concurrent deliveries never mix) give the reason.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pulsewatch.domain.alerting import mask_url
from pulsewatch.domain.notifications import NotificationEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

_NOTIFY_TYPES = {
    NotificationEvent.DOWN: "failure",
    NotificationEvent.ESCALATION: "failure",
    NotificationEvent.REMINDER: "failure",
    NotificationEvent.DEGRADED: "warning",
    NotificationEvent.FLAPPING: "warning",
    NotificationEvent.RECOVERED: "success",
}


class NotifyError(Exception):
    """A delivery failed. `permanent` errors (an unusable URL) are not retried; `delivered` holds the
    indexes of the channel's URLs that did get the message."""

    def __init__(
        self, message: str, *, permanent: bool = False, delivered: frozenset[int] = frozenset()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.delivered = delivered


def send(
    urls: Sequence[str],
    title: str,
    body: str,
    event: NotificationEvent | None = None,
    *,
    timeout: float = 10.0,
    skip: frozenset[int] = frozenset(),
) -> frozenset[int]:
    """Send one message to every URL of a channel except those in `skip` (already delivered).

    Args:
        urls: the channel's Apprise URLs (secrets: never logged or raised in full).
        title: the message title.
        body: the message body.
        event: picks Apprise's notify type (failure, warning, success); None: info.
        timeout: connect and read timeout for each URL, in seconds.
        skip: indexes of URLs already delivered by an earlier attempt.

    Returns:
        The indexes of every delivered URL (including `skip`).

    Raises:
        NotifyError: when any URL failed; it carries what was delivered and whether to retry.
    """
    import apprise

    delivered = set(skip)
    errors: list[str] = []
    permanent = False
    notify_type = _NOTIFY_TYPES.get(event, "info") if event is not None else "info"
    for index, url in enumerate(urls):
        if index in skip:
            continue
        # async_mode=False: sent on this thread, so its log lines (the failure reason) are ours to read.
        sender = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory", async_mode=False))
        if not sender.add(_with_timeouts(url, timeout)):
            errors.append(f"{mask_url(url)}: not a valid Apprise URL")
            permanent = True
            continue
        # `timeout` bounds the whole call too (Apprise reports TIMEOUT); DEBUG keeps the socket error.
        result = sender.notify(
            title=title, body=body, notify_type=notify_type, timeout=2 * timeout, log_level=logging.DEBUG
        )
        if result:
            delivered.add(index)
        else:
            errors.append(f"{mask_url(url)}: {_scrub(_reason(result), url)}")
    if errors:
        raise NotifyError("; ".join(errors), permanent=permanent, delivered=frozenset(delivered))
    return frozenset(delivered)


def _reason(result: Any) -> str:
    """The failure sentences Apprise logged for this call (warnings, errors, socket exceptions)."""
    lines = [
        entry.message for entry in result.logs()
        if entry.level in ("WARNING", "ERROR", "CRITICAL") or "Exception" in entry.message
    ]
    return "; ".join(dict.fromkeys(lines)) or f"delivery failed ({result.status})"


def _with_timeouts(url: str, timeout: float) -> str:
    """Add Apprise's connect (cto) and read (rto) timeouts unless the URL sets its own."""
    if re.search(r"[?&](cto|rto)=", url):
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}cto={timeout:g}&rto={timeout:g}"


def _scrub(text: str, url: str) -> str:
    """An Apprise message without the URL's secrets (user names, passwords, tokens)."""
    text = text.replace(url, mask_url(url))
    return re.sub(r"://[^/@\s]+@", "://***@", text)


__all__ = ["NotifyError", "send"]
