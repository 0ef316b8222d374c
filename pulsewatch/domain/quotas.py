"""Quotas: what a plan's limits say about an organization's checks, channels, members and SMS.

Pure decisions with messages that name the plan and the limit ("plan starter allows 50 checks; acme
would have 51"). The config loader places each violation at the offending line; the services raise
them as `QuotaExceeded`; the notifier asks `sms_allowance` before sending an SMS; the engine's
maintenance asks `raw_retention` how long to keep each organization's raw results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.domain.durations import compact_duration as format_seconds

_DAY = 86400.0

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from pulsewatch.domain.billing import Plan, Subscription
    from pulsewatch.domain.monitoring import Check


@dataclass(frozen=True)
class Violation:
    """One way a set of checks exceeds a plan, and where: the check (org, name) and its field."""

    message: str
    check: tuple[str, str] | None = None
    field: str = "name"
    index: int = 0
    """For `notify`: the position of the offending channel in the check's list."""


def check_violations(plan: Plan, org: str, checks: Sequence[Check]) -> list[Violation]:
    """Every way `checks` (all of `org`'s, in order) exceed `plan`: too many checks, intervals below
    the minimum, too many distinct alert channels. Heartbeat checks have no interval to limit."""
    limits = plan.limits
    found: list[Violation] = []
    if limits.checks is not None and len(checks) > limits.checks:
        allowed = _count(limits.checks, "check")
        for check in checks[limits.checks :]:
            found.append(
                Violation(f"plan {plan.name} allows {allowed}; {org} would have {len(checks)}", check.key)
            )
    if limits.min_interval is not None:
        shortest = format_seconds(limits.min_interval)
        for check in checks:
            if check.heartbeat is None and check.interval < limits.min_interval:
                message = (
                    f"plan {plan.name} allows intervals of {shortest} or longer; "
                    f"{check.name} has {format_seconds(check.interval)}"
                )
                found.append(Violation(message, check.key, "interval"))
    if limits.channels is not None:
        channels = channels_used(checks)
        allowed = _count(limits.channels, "alert channel")
        seen: set[str] = set()
        for check in checks:
            for i, channel in enumerate(check.notify):
                if channel in seen:
                    continue
                seen.add(channel)
                if len(seen) > limits.channels:
                    message = f"plan {plan.name} allows {allowed}; {org} would use {len(channels)}"
                    found.append(Violation(message, check.key, "notify", i))
    return found


def channels_used(checks: Sequence[Check]) -> list[str]:
    """The distinct channels the checks notify, in order of first use."""
    return list(dict.fromkeys(channel for check in checks for channel in check.notify))


def seat_refusal(plan: Plan, org: str, members: int) -> str | None:
    """Why `org` may not have `members` distinct members on `plan` (None when it may)."""
    limit = plan.seat_limit
    if limit is None or members <= limit:
        return None
    return f"plan {plan.name} allows {_count(limit, 'seat')}; {org} would have {members} members"


def sms_allowance(plan: Plan, used: int, wanted: int) -> int:
    """How many of `wanted` SMS may be sent after `used` this period: all of them when the plan has no
    SMS quota or sells SMS beyond it, else what is left of the quota."""
    quota = plan.limits.sms_per_month
    if quota is None or plan.overage.sms is not None:
        return wanted
    return max(0, min(wanted, quota - used))




def raw_retention(subscriptions: Iterable[Subscription], plans: Mapping[str, Plan]) -> dict[str, float]:
    """How long each organization's raw probe results are kept, in seconds, where its plan says:
    the organizations whose subscription is on a plan with `retention_days` (longer or shorter than
    the engine's `retention.raw`, which applies to every other organization)."""
    found = {}
    for sub in subscriptions:
        plan = plans.get(sub.plan) if sub.plan is not None else None
        if plan is not None and plan.limits.retention_days is not None:
            found[sub.org] = plan.limits.retention_days * _DAY
    return found


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_SMS_SCHEMES = frozenset(
    {
        "atalk",
        "bulksms",
        "bulkvs",
        "burstsms",
        "clicksend",
        "d7sms",
        "dapnet",
        "freemobile",
        "httpsms",
        "kavenegar",
        "msg91",
        "msgbird",
        "nexmo",
        "plivo",
        "seven",
        "sinch",
        "smseagle",
        "smsmgr",
        "sns",
        "twilio",
        "vonage",
    }
)
"""Apprise schemes that send SMS (text messages to phone numbers, which cost money per message)."""
_KINDS = {
    "email": frozenset({"mailto", "mailtos", "ses", "sendgrid", "mailgun", "sparkpost", "resend", "smtp2go"}),
    "webhook": frozenset({"json", "jsons", "xml", "xmls", "form", "forms"}),
    "chat": frozenset(
        {
            "slack",
            "discord",
            "msteams",
            "tgram",
            "matrix",
            "matrixs",
            "mmost",
            "mmosts",
            "rocket",
            "rockets",
            "zulip",
            "gchat",
            "workflow",
            "workflows",
            "signal",
            "signals",
            "whatsapp",
            "wxteams",
            "line",
            "revolt",
            "flock",
            "guilded",
        }
    ),
    "push": frozenset(
        {
            "ntfy",
            "ntfys",
            "pover",
            "gotify",
            "gotifys",
            "fcm",
            "apprise",
            "apprises",
            "pushbullet",
            "pbul",
            "join",
            "pjet",
            "pushy",
            "bark",
            "barks",
            "opsgenie",
            "pagerduty",
            "spush",
            "signl4",
        }
    ),
}


def channel_kind(url: str) -> str:
    """The kind of an Apprise URL, by its scheme: sms, email, webhook, chat, push or other."""
    scheme = url.partition("://")[0].lower()
    if not re.fullmatch(r"[a-z][a-z0-9+.\-]*", scheme):
        return "other"
    if scheme in _SMS_SCHEMES:
        return "sms"
    return next((kind for kind, schemes in _KINDS.items() if scheme in schemes), "other")
