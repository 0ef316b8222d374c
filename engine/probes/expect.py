"""`expect:` of tcp and udp checks: what the reply must hold, and when enough of it has arrived to judge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.probes.common import failed, judge
from pulsewatch.domain.condition_values import quote
from pulsewatch.domain.conditions import Pattern, ProbeFacts

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult

READ_CAP = 65_536
"""Most of a reply read for `expect:` and [BODY]: a chatty or endless peer costs at most this."""


class Expectation:
    """A substring the reply must contain, or, written `pat(glob)`, a glob the whole reply must match.

    Args:
        text: the check's `expect:` as written.
    """

    __slots__ = ("_needle", "_pattern", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._pattern = Pattern.from_glob(text[4:-1], text) if _is_pattern(text) else None
        self._needle = text.encode()

    def met_by(self, reply: bytes) -> bool:
        """Whether `reply` satisfies the expectation (a glob is matched against the trimmed text)."""
        if self._pattern is None:
            return self._needle in reply
        return self._pattern.matches(_text(reply).strip())

    def settled(self, reply: bytes) -> bool:
        """Whether reading more cannot help: met, or a full line at least as long as the text arrived.

        Line-based protocols (Redis, SMTP, POP3...) answer one line: once it is in, a mismatch is
        final, and the probe need not wait for its timeout.
        """
        if self.met_by(reply):
            return True
        return len(reply) >= len(self._needle) and reply.endswith(b"\n")

    def failure(self, reply: bytes) -> str:
        """The reason a person reads: `expected "+PONG", got "-ERR"`."""
        wanted = self.text if self._pattern is not None else quote(self.text)
        got = _text(reply).strip()
        return f"expected {wanted}, got {quote(got) if got else 'an empty reply'}"


def _is_pattern(text: str) -> bool:
    return text.startswith("pat(") and text.endswith(")") and len(text) > 5


def _text(reply: bytes) -> str:
    return reply.decode("utf-8", errors="replace")


def reads_reply(check: Check) -> bool:
    """Whether the probe must read a reply: it expects one, or a condition looks at [BODY]."""
    if check.stream.expect is not None:
        return True
    return any("[BODY]" in c.placeholders for c in (*check.conditions, *check.soft_conditions))


def judge_reply(
    check: Check, reply: bytes | None, *, ip: str | None, started_at: datetime, duration_ms: float
) -> ProbeResult:
    """The result of a tcp or udp exchange that got this far: `expect:` first, then the conditions.

    Args:
        check: the check probed.
        reply: what the peer sent (None when the probe did not read).
        ip: the peer's address.
        started_at: wall-clock start of the attempt.
        duration_ms: connect time, or time until the reply was judged when the probe read one.
    """
    if check.stream.expect is not None:
        expectation = Expectation(check.stream.expect)
        if not expectation.met_by(reply or b""):
            return failed(
                check,
                ("expect", expectation.failure(reply or b"")),
                started_at=started_at,
                duration_ms=duration_ms,
            )
    facts = ProbeFacts(
        response_time_ms=duration_ms,
        body=None if reply is None else _text(reply),
        connected=True,
        ip=ip,
    )
    return judge(
        check,
        facts,
        started_at=started_at,
        duration_ms=duration_ms,
        default_ok=True,
        default_failure=("", ""),
    )
