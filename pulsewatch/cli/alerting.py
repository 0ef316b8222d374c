"""`pulsewatch incident|channel|silence`: incidents, alert channels and silences from a shell.

Every command reads the config (for the database and the channels) and works on the database the
engines share, so an acknowledgement or a silence made here reaches running engines at their next
planning round (a few seconds).

Roles: `--as EMAIL` acts as that user, and `pulsewatch.services.alerting_access` checks each action
against their role in the organization (and team) of what is acted on — an incident's check, the
checks a silence covers, a channel's organization. Channels in the YAML have no organization yet:
they belong to every organization, so testing one needs `manage channels` in at least one. Without
`--as`, reads show everything and changes are allowed only until someone can sign in
(`pulsewatch.cli.alerting_session`). A refusal exits 1 and names the missing permission.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pulsewatch.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from pulsewatch.cli.accounts import add_acting_command
from pulsewatch.cli.alerting_session import alert_session
from pulsewatch.domain.accounts import Permission

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from pulsewatch.domain.alerting import Incident, Silence


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The alerting commands: incident, channel, silence."""
    incident = commands.add_parser("incident", help="list, show, acknowledge and resolve incidents")
    actions = incident.add_subparsers(dest="incident_command", metavar="ACTION", required=True)
    listing = add_acting_command(actions, "list", "incidents, newest first", run_incident_list)
    listing.add_argument("--open", action="store_true", help="only unresolved incidents")
    listing.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    show = add_acting_command(actions, "show", "one incident and its timeline", run_incident_show)
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    ack = add_acting_command(actions, "ack", "acknowledge: escalation and reminders stop", run_incident_ack)
    ack.add_argument("id", type=int, metavar="ID")
    ack.add_argument("--note", default="", help="a note for the timeline")
    resolve = add_acting_command(actions, "resolve", "resolve by hand", run_incident_resolve)
    resolve.add_argument("id", type=int, metavar="ID")
    note = add_acting_command(actions, "note", "add a note to the timeline", run_incident_note)
    note.add_argument("id", type=int, metavar="ID")
    note.add_argument("text", metavar="TEXT")

    channel = commands.add_parser("channel", help="alert channels: list them, send a test message")
    channel_actions = channel.add_subparsers(dest="channel_command", metavar="ACTION", required=True)
    channels = add_acting_command(
        channel_actions, "list", "channels with masked URLs and delivery health", run_channel_list
    )
    channels.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    test = add_acting_command(
        channel_actions, "test", "send a real test message; exit 1 if it fails", run_channel_test
    )
    test.add_argument("name", metavar="NAME")

    silence = commands.add_parser("silence", help="mute alerts of a check or a tag for a while")
    silence_actions = silence.add_subparsers(dest="silence_command", metavar="ACTION", required=True)
    add = add_acting_command(silence_actions, "add", "silence one check or one tag", run_silence_add)
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--check", metavar="NAME", help="the check to silence")
    target.add_argument("--tag", metavar="TAG", help="silence every check with this tag")
    add.add_argument("--for", dest="duration", required=True, metavar="DURATION", help="how long, like 2h")
    add.add_argument("--reason", required=True, help="why, for the next person on call")
    add.add_argument("--org", metavar="SLUG", help="only in this organization")
    silences = add_acting_command(silence_actions, "list", "silences in force", run_silence_list)
    silences.add_argument("--all", action="store_true", help="include ended and expired silences")
    silences.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    remove = add_acting_command(silence_actions, "remove", "end a silence now", run_silence_remove)
    remove.add_argument("id", type=int, metavar="ID")


def _now() -> datetime:
    return datetime.now(UTC)


# --- incident ----------------------------------------------------------------------------------


def run_incident_list(args: argparse.Namespace) -> int:
    """`pulsewatch incident list [--open] [--json]`."""
    with alert_session(args) as s:
        incidents = s.access.incidents(s.reading(), open_only=args.open, limit=args.limit)
    now = _now()
    if args.json:
        print(json.dumps([incident_json(i, now) for i in incidents], indent=2))
        return EXIT_OK
    if not incidents:
        print("no open incidents" if args.open else "no incidents")
        return EXIT_OK
    rows = [("ID", "STATUS", "CHECK", "SEVERITY", "OPENED", "LASTED", "REASON")]
    from pulsewatch.domain.alerting_messages import format_span

    for i in incidents:
        rows.append(
            (
                f"#{i.id}",
                i.status.value.upper(),
                _check_label(i),
                i.severity.value,
                i.opened_at.strftime("%Y-%m-%d %H:%M:%S"),
                format_span(i.duration(now)),
                i.reason,
            )
        )
    print(_table(rows))
    return EXIT_OK


def run_incident_show(args: argparse.Namespace) -> int:
    """`pulsewatch incident show ID`: the incident and its timeline."""
    with alert_session(args) as s:
        incident, timeline = s.access.incident(s.reading(), args.id)
    now = _now()
    if args.json:
        data = incident_json(incident, now)
        data["timeline"] = [
            {"at": e.at.isoformat(), "kind": e.kind.value, "text": e.text, "actor": e.actor} for e in timeline
        ]
        print(json.dumps(data, indent=2))
        return EXIT_OK
    from pulsewatch.domain.alerting_messages import format_span

    print(f"Incident #{incident.id}: {_check_label(incident)} — {incident.status.value.upper()}")
    print(
        f"  severity {incident.severity.value}, opened {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"lasted {format_span(incident.duration(now))}"
    )
    print(f"  reason: {incident.reason or '-'}")
    if incident.acknowledged_by:
        print(
            f"  acknowledged by {incident.acknowledged_by} at {incident.acknowledged_at:%Y-%m-%d %H:%M:%S}"
            + (f": {incident.ack_note}" if incident.ack_note else "")
        )
    if incident.resolved_at:
        print(f"  resolved at {incident.resolved_at:%Y-%m-%d %H:%M:%S} ({incident.resolved_by})")
    print("Timeline:")
    for entry in timeline:
        who = f" [{entry.actor}]" if entry.actor else ""
        print(f"  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.kind.value:<12} {entry.text}{who}")
    return EXIT_OK


def run_incident_ack(args: argparse.Namespace) -> int:
    """`pulsewatch incident ack ID [--note TEXT]`."""
    with alert_session(args) as s:
        incident = s.access.acknowledge(s.acting(), args.id, args.note, _now())
    print(f"incident #{incident.id} ({incident.check_name}) acknowledged by {incident.acknowledged_by}")
    return EXIT_OK


def run_incident_resolve(args: argparse.Namespace) -> int:
    """`pulsewatch incident resolve ID`."""
    with alert_session(args) as s:
        incident = s.access.resolve(s.acting(), args.id, _now())
    print(f"incident #{incident.id} ({incident.check_name}) resolved ({incident.resolved_by})")
    return EXIT_OK


def run_incident_note(args: argparse.Namespace) -> int:
    """`pulsewatch incident note ID TEXT`."""
    with alert_session(args) as s:
        s.access.note(s.acting(), args.id, args.text, _now())
    print(f"note added to incident #{args.id}")
    return EXIT_OK


def incident_json(incident: Incident, now: datetime) -> dict[str, Any]:
    """One incident for `--json` output: a public contract (add fields, never rename)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": incident.id,
        "check": incident.check_name,
        "org": incident.org,
        "status": incident.status.value,
        "severity": incident.severity.value,
        "reason": incident.reason,
        "opened_at": iso(incident.opened_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "ack_note": incident.ack_note or None,
        "resolved_at": iso(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "duration_s": round(incident.duration(now).total_seconds(), 3),
    }


# --- channel -----------------------------------------------------------------------------------


def run_channel_list(args: argparse.Namespace) -> int:
    """`pulsewatch channel list`: masked URLs and delivery health; secrets are never printed."""
    with alert_session(args) as s:
        views = s.access.channels(s.reading(), s.config.alerting.channels, s.alerts.channel_health())
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": v.name,
                        "urls": list(v.masked_urls),
                        "failing": v.failing,
                        "consecutive_failures": v.consecutive_failures,
                        "last_error": v.last_error or None,
                        "last_success_at": v.last_success_at.isoformat() if v.last_success_at else None,
                    }
                    for v in views
                ],
                indent=2,
            )
        )
        return EXIT_OK
    if not views:
        print("no channels are configured")
        return EXIT_OK
    rows = [("NAME", "HEALTH", "URLS", "LAST ERROR")]
    for v in views:
        health = "FAILING" if v.failing else ("ok" if v.last_success_at else "-")
        rows.append((v.name, health, ", ".join(v.masked_urls), v.last_error))
    print(_table(rows))
    return EXIT_OK


def run_channel_test(args: argparse.Namespace) -> int:
    """`pulsewatch channel test NAME`: send a real message now; exit 1 with the error if it fails."""
    from engine.notify.apprise import NotifyError, send

    with alert_session(args) as s:
        channel = s.config.alerting.channel(args.name)
        if channel is None:
            names = ", ".join(c.name for c in s.config.alerting.channels) or "none"
            print(f"pulsewatch: no channel named {args.name!r} (channels: {names})", file=sys.stderr)
            return EXIT_USAGE
        s.access.require_channel(s.acting(), channel, Permission.MANAGE_CHANNELS)
    title = f"PulseWatch test: {channel.name}"
    body = f"A test message from PulseWatch to channel {channel.name}, sent {_now():%Y-%m-%d %H:%M:%S} UTC."
    try:
        send(channel.urls, title, body)
    except NotifyError as error:
        print(f"pulsewatch: test message to {channel.name} failed: {error.message}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"test message sent to {channel.name} ({', '.join(channel.masked_urls())})")
    return EXIT_OK


# --- silence -----------------------------------------------------------------------------------


def run_silence_add(args: argparse.Namespace) -> int:
    """`pulsewatch silence add --check NAME|--tag TAG --for 2h --reason TEXT`."""
    from pulsewatch.services.alerting_access import SilenceScopeError

    duration = _duration(args.duration)
    if duration is None:
        print(f"pulsewatch: --for {args.duration!r}: expected a duration like 30m, 2h or 1d", file=sys.stderr)
        return EXIT_USAGE
    with alert_session(args) as s:
        checks = s.config.checks
        known = {c.name for c in checks} if args.check else {t for c in checks for t in c.tags}
        wanted = args.check or args.tag
        if wanted not in known:
            what = "check" if args.check else "tag"
            print(f"pulsewatch: no {what} {wanted!r} in the configuration", file=sys.stderr)
            return EXIT_USAGE
        try:
            made = s.access.add_silence(
                s.acting(), check=args.check, tag=args.tag, duration=duration, reason=args.reason,
                now=_now(), org=args.org,
            )
        except SilenceScopeError as error:
            print(f"pulsewatch: {error.message}", file=sys.stderr)
            return EXIT_USAGE
    print(f"silence #{made.id}: {made.scope.describe()} until {made.until:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def run_silence_list(args: argparse.Namespace) -> int:
    """`pulsewatch silence list [--all] [--json]`."""
    now = _now()
    with alert_session(args) as session:
        found = session.access.silences(session.reading(), now, include_ended=args.all)
    if args.json:
        print(json.dumps([silence_json(s, now) for s in found], indent=2))
        return EXIT_OK
    if not found:
        print("no silences in force" if not args.all else "no silences")
        return EXIT_OK
    rows = [("ID", "COVERS", "UNTIL", "BY", "REASON")]
    for s in found:
        until = f"{s.until:%Y-%m-%d %H:%M}" + ("" if s.active_at(now) else " (over)")
        rows.append((f"#{s.id}", s.scope.describe(), until, s.created_by, s.reason))
    print(_table(rows))
    return EXIT_OK


def run_silence_remove(args: argparse.Namespace) -> int:
    """`pulsewatch silence remove ID`."""
    with alert_session(args) as s:
        ended = s.access.remove_silence(s.acting(), args.id, _now())
    print(f"silence #{ended.id} ended ({ended.scope.describe()})")
    return EXIT_OK


def silence_json(silence: Silence, now: datetime) -> dict[str, Any]:
    """One silence for `--json` output."""
    return {
        "id": silence.id,
        "org": silence.scope.org,
        "checks": list(silence.scope.checks),
        "tags": list(silence.scope.tags),
        "until": silence.until.isoformat(),
        "created_by": silence.created_by,
        "reason": silence.reason,
        "created_at": silence.created_at.isoformat(),
        "ended_at": silence.ended_at.isoformat() if silence.ended_at else None,
        "active": silence.active_at(now),
    }


# --- helpers -----------------------------------------------------------------------------------


def _duration(text: str) -> float | None:
    from pydantic_core import PydanticCustomError

    from pulsewatch.config_schema import parse_duration

    try:
        return parse_duration(text)
    except PydanticCustomError:
        return None


def _check_label(incident: Incident) -> str:
    return incident.check_name if incident.org == "default" else f"{incident.org}/{incident.check_name}"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in rows
    ).rstrip()
