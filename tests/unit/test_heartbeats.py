"""Heartbeat rules: when pings are due (periods, cron in a time zone across DST), when a check is late,
what each ping records, and how a restarted engine finds its last ping again."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from croniter import CroniterError

from pulsewatch.domain.heartbeats import (
    GENERATE_TOKEN,
    LATE,
    HeartbeatSpec,
    HeartbeatTimes,
    Ping,
    PingActionError,
    PingKind,
    compact_duration,
    deadline,
    generated_token,
    humanize_duration,
    late_result,
    mark_reported,
    next_cron_fire,
    parse_ping_action,
    receive_ping,
    recover_times,
    with_generated_tokens,
)
from pulsewatch.domain.monitoring import Check, ProbeResult

SECRET = bytes(range(32))
"""An installation secret (the real one is 32 random bytes kept in the database)."""


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


DAILY = HeartbeatSpec(token="nightly-7f3a", period=86400.0, grace=3600.0)
BERLIN_3AM = HeartbeatSpec(token="cron-token", cron="0 3 * * *", timezone="Europe/Berlin", grace=1800.0)


class TestCronFires:
    # Europe/Berlin 2025: clocks go 02:00 CET → 03:00 CEST on 30 March (at 01:00 UTC) and
    # 03:00 CEST → 02:00 CET on 26 October (at 01:00 UTC). America/New_York: 9 March 2025.
    @pytest.mark.parametrize(
        ("expression", "zone", "after", "expected"),
        [
            ("0 3 * * *", "Europe/Berlin", "2025-03-28T02:00", "2025-03-29T02:00"),  # 03:00 CET
            ("0 3 * * *", "Europe/Berlin", "2025-03-29T02:00", "2025-03-30T01:00"),  # 03:00 CEST: 23 h later
            ("30 2 * * *", "Europe/Berlin", "2025-03-29T01:30", "2025-03-30T01:30"),  # no 02:30: fires 03:30
            ("30 2 * * *", "Europe/Berlin", "2025-03-30T01:30", "2025-03-31T00:30"),  # back to 02:30 CEST
            ("*/30 * * * *", "Europe/Berlin", "2025-03-30T00:45", "2025-03-30T01:00"),  # 01:45 → 03:00 CEST
            ("45 2 * * *", "Europe/Berlin", "2025-03-30T00:50", "2025-03-30T01:45"),  # 02:45 lands at 03:45
            ("30 2 * * *", "Europe/Berlin", "2025-10-25T00:30", "2025-10-26T00:30"),  # first 02:30 (CEST)
            ("30 2 * * *", "Europe/Berlin", "2025-10-26T00:30", "2025-10-27T01:30"),  # not the repeated one
            ("0 3 * * *", "Europe/Berlin", "2025-10-25T01:00", "2025-10-26T02:00"),  # 03:00 CET: 25 h later
            ("0 * * * *", "Europe/Berlin", "2025-10-26T00:30", "2025-10-26T02:00"),  # 02:00 again is skipped
            ("0 9 * * 1", "America/New_York", "2025-03-07T14:00", "2025-03-10T13:00"),  # Mon 09:00 EDT
            ("0 0 * * *", "UTC", "2025-01-01T00:00", "2025-01-02T00:00"),  # strictly after
            ("0 0 * * *", "UTC", "2025-01-01T00:00:30", "2025-01-02T00:00"),  # seconds do not matter
            ("@daily", "Asia/Kolkata", "2025-01-01T00:00", "2025-01-01T18:30"),  # midnight at +05:30
            # Lord Howe springs forward 30 minutes (02:00 → 02:30): 02:15 would land at 02:45, after
            # the real 02:30, which comes first
            ("15,30 2 * * *", "Australia/Lord_Howe", "2025-10-04T15:00", "2025-10-04T15:30"),
        ],
    )
    def test_the_next_fire_is_on_the_local_wall_clock(
        self, expression: str, zone: str, after: str, expected: str
    ) -> None:
        assert next_cron_fire(expression, zone, utc(after)) == utc(expected)

    def test_an_expression_that_never_fires_raises(self) -> None:
        with pytest.raises(CroniterError):
            next_cron_fire("0 0 30 2 *", "UTC", utc("2025-01-01T00:00"))

    @pytest.mark.parametrize(
        ("spec", "seconds"),
        [
            (DAILY, 86400.0),
            (BERLIN_3AM, 86400.0),
            (HeartbeatSpec(token="t" * 8, cron="0 */6 * * *"), 21600.0),
            (HeartbeatSpec(token="t" * 8, cron="*/5 * * * *"), 300.0),
        ],
    )
    def test_typical_interval(self, spec: HeartbeatSpec, seconds: float) -> None:
        assert spec.typical_interval() == seconds


class TestLateness:
    @pytest.mark.parametrize(
        ("spec", "times", "now", "expected"),
        [
            # on time up to the last instant of grace, late at it
            (DAILY, HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00")),
             "2025-01-02T00:59:59", None),
            (DAILY, HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00")),
             "2025-01-02T01:00", "no ping for 1d 1h (expected every 1d, grace 1h)"),
            (HeartbeatSpec(token="t" * 8, period=3600.0, grace=720.0),
             HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00")),
             "2025-01-01T01:12", "no ping for 1h 12m (expected every 1h, grace 12m)"),
            (HeartbeatSpec(token="t" * 8, period=5400.0, grace=90.0),
             HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00")),
             "2025-01-01T01:31:30", "no ping for 1h 31m (expected every 1h30m, grace 1m30s)"),
            # never pinged: counted from when watching began
            (DAILY, HeartbeatTimes(utc("2025-01-01T00:00")), "2025-01-02T01:00",
             "no ping since monitoring began 1d 1h ago (expected every 1d, grace 1h)"),
            # a run that started and did not finish within grace
            (DAILY, HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00"),
                                   last_start=utc("2025-01-01T10:00")),
             "2025-01-01T11:00", "run started 1h ago has not finished (grace 1h)"),
            (DAILY, HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00"),
                                   last_start=utc("2025-01-01T10:00")),
             "2025-01-01T10:59", None),
            # a start after the ping was already due does not buy more time
            (DAILY, HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00"),
                                   last_start=utc("2025-01-02T00:30")),
             "2025-01-02T01:00", "no ping for 1d 1h (expected every 1d, grace 1h)"),
            # cron across the spring-forward night: 03:00 CEST is 01:00 UTC, grace 30m
            (BERLIN_3AM, HeartbeatTimes(utc("2025-03-29T00:00"), last_ping=utc("2025-03-29T02:00:05")),
             "2025-03-30T01:29:59", None),
            (BERLIN_3AM, HeartbeatTimes(utc("2025-03-29T00:00"), last_ping=utc("2025-03-29T02:00:05")),
             "2025-03-30T01:30",
             'no ping for 23h 29m (expected "0 3 * * *" in Europe/Berlin, grace 30m)'),
            # and across the fall-back night: 03:00 CET is 02:00 UTC
            (BERLIN_3AM, HeartbeatTimes(utc("2025-10-25T00:00"), last_ping=utc("2025-10-25T01:00")),
             "2025-10-26T02:29", None),
            (BERLIN_3AM, HeartbeatTimes(utc("2025-10-25T00:00"), last_ping=utc("2025-10-25T01:00")),
             "2025-10-26T02:30",
             'no ping for 1d 1h (expected "0 3 * * *" in Europe/Berlin, grace 30m)'),
        ],
    )
    def test_when_a_check_is_late_and_what_it_says(
        self, spec: HeartbeatSpec, times: HeartbeatTimes, now: str, expected: str | None
    ) -> None:
        result = late_result(7, spec, times, utc(now))
        if expected is None:
            assert result is None
            return
        assert result == ProbeResult(
            check_id=7, started_at=utc(now), duration_ms=0.0, ok=False, error=LATE, message=expected
        )

    def test_a_missed_deadline_is_reported_once(self) -> None:
        times = HeartbeatTimes(utc("2025-01-01T00:00"), last_ping=utc("2025-01-01T00:00"))
        due = deadline(DAILY, times)
        assert due.at == utc("2025-01-02T01:00")
        reported = mark_reported(times, due)
        assert late_result(7, DAILY, reported, utc("2025-01-05T00:00")) is None

    def test_the_deadline_of_an_open_run_is_start_plus_grace(self) -> None:
        times = HeartbeatTimes(utc("2025-01-01T00:00"), utc("2025-01-01T00:00"), utc("2025-01-01T06:00"))
        due = deadline(DAILY, times)
        assert (due.at, due.run_started) == (utc("2025-01-01T07:00"), True)


class TestPings:
    T0 = utc("2025-01-01T03:00")

    @pytest.mark.parametrize(
        ("action", "body", "ok", "error", "message"),
        [
            (None, "", True, None, ""),
            (None, "backup done: 3.2 GB", True, None, "backup done: 3.2 GB"),
            ("0", "", True, None, ""),
            ("fail", "", False, "fail", "the job reported failure"),
            ("fail", "disk full", False, "fail", "the job reported failure: disk full"),
            ("3", "", False, "exit", "exit status 3"),
            ("255", "rsync: connection unexpectedly closed", False, "exit",
             "exit status 255: rsync: connection unexpectedly closed"),
            ("start", "", True, "start", "run started"),
            ("log", "50% done", True, "log", "50% done"),
        ],
    )
    def test_each_ping_records_what_it_says(
        self, action: str | None, body: str, ok: bool, error: str | None, message: str
    ) -> None:
        times = HeartbeatTimes(self.T0)
        _, result = receive_ping(7, times, parse_ping_action(action, body), self.T0)
        assert (result.ok, result.error, result.message) == (ok, error, message)
        assert (result.check_id, result.started_at) == (7, self.T0)

    @pytest.mark.parametrize(
        ("action", "kind", "exit_status"),
        [
            (None, PingKind.SUCCESS, None),
            ("0", PingKind.SUCCESS, 0),
            ("1", PingKind.FAIL, 1),
            ("fail", PingKind.FAIL, None),
            ("start", PingKind.START, None),
            ("log", PingKind.LOG, None),
        ],
    )
    def test_actions(self, action: str | None, kind: PingKind, exit_status: int | None) -> None:
        assert parse_ping_action(action) == Ping(kind, exit_status=exit_status)

    @pytest.mark.parametrize(
        ("action", "status", "message"),
        [
            ("256", 400, "exit status must be 0 to 255"),
            ("finish", 404, "unknown ping action: expected start, fail, log or an exit status"),
            ("-1", 404, "unknown ping action: expected start, fail, log or an exit status"),
            ("٣", 404, "unknown ping action: expected start, fail, log or an exit status"),
        ],
    )
    def test_bad_actions(self, action: str, status: int, message: str) -> None:
        with pytest.raises(PingActionError) as caught:
            parse_ping_action(action)
        assert (caught.value.status, caught.value.message) == (status, message)

    def test_start_then_success_gives_the_run_duration_and_closes_the_run(self) -> None:
        times = HeartbeatTimes(self.T0)
        times, _ = receive_ping(7, times, Ping(PingKind.START), self.T0)
        assert times.last_start == self.T0
        times, result = receive_ping(7, times, Ping(PingKind.SUCCESS), self.T0 + timedelta(seconds=90))
        assert result.duration_ms == 90_000.0
        assert times == HeartbeatTimes(self.T0, last_ping=self.T0 + timedelta(seconds=90))

    def test_start_then_failure_gives_the_run_duration_too(self) -> None:
        times, _ = receive_ping(7, HeartbeatTimes(self.T0), Ping(PingKind.START), self.T0)
        _, result = receive_ping(7, times, Ping(PingKind.FAIL, exit_status=2), self.T0 + timedelta(minutes=5))
        assert (result.ok, result.duration_ms, result.message) == (False, 300_000.0, "exit status 2")

    def test_a_finish_three_days_after_its_start_has_no_duration(self) -> None:
        times, _ = receive_ping(7, HeartbeatTimes(self.T0), Ping(PingKind.START), self.T0)
        _, result = receive_ping(7, times, Ping(PingKind.SUCCESS), self.T0 + timedelta(hours=73))
        assert result.duration_ms == 0.0

    def test_log_changes_no_times_and_a_ping_clears_a_reported_deadline(self) -> None:
        times = HeartbeatTimes(self.T0, last_ping=self.T0, reported=self.T0 + timedelta(days=1))
        after_log, _ = receive_ping(7, times, Ping(PingKind.LOG, body="x"), self.T0 + timedelta(hours=1))
        assert after_log == times
        after_ping, _ = receive_ping(7, times, Ping(PingKind.SUCCESS), self.T0 + timedelta(days=2))
        assert after_ping.reported is None


class TestRecovery:
    T0 = utc("2025-01-01T00:00")

    def result(self, minutes: int, error: str | None, ok: bool = True) -> ProbeResult:
        return ProbeResult(7, self.T0 + timedelta(minutes=minutes), 0.0, ok, error=error)

    @pytest.mark.parametrize(
        ("errors", "last_ping", "last_start"),
        [
            ([], None, None),
            ([(30, None)], 30, None),
            ([(40, "log"), (35, LATE), (30, "fail")], 30, None),
            ([(50, "start"), (30, "exit")], 30, 50),
            ([(60, "start"), (50, "start"), (30, None)], 30, 60),
            ([(20, "start"), (30, None)], 30, None),  # newest first: the start belongs to an older run
            ([(10, "timeout")], None, None),  # what the check was before it became a heartbeat check
            ([(50, "start")], None, 50),
        ],
    )
    def test_the_last_ping_and_an_open_run_come_back(
        self, errors: list[tuple[int, str | None]], last_ping: int | None, last_start: int | None
    ) -> None:
        newest_first = sorted(
            (self.result(m, e, ok=e in (None, "start", "log")) for m, e in errors),
            key=lambda r: r.started_at,
            reverse=True,
        )
        times = recover_times(newest_first, anchor=self.T0)
        minute = timedelta(minutes=1)
        assert times.last_ping == (None if last_ping is None else self.T0 + last_ping * minute)
        assert times.last_start == (None if last_start is None else self.T0 + last_start * minute)
        assert times.anchor == self.T0


class TestWords:
    @pytest.mark.parametrize(
        ("seconds", "text"),
        [(0, "0s"), (42, "42s"), (60, "1m"), (303, "5m 3s"), (3600, "1h"), (3605, "1h"), (4320, "1h 12m"),
         (86400, "1d"), (86700, "1d"), (90061, "1d 1h"), (-5, "0s")],
    )
    def test_humanized(self, seconds: float, text: str) -> None:
        assert humanize_duration(seconds) == text

    @pytest.mark.parametrize(
        ("seconds", "text"), [(0.5, "500ms"), (30, "30s"), (1800, "30m"), (5400, "1h30m"), (86400, "1d")]
    )
    def test_compact(self, seconds: float, text: str) -> None:
        assert compact_duration(seconds) == text



class TestGeneratedTokens:
    def test_they_are_stable_distinct_and_url_safe(self) -> None:
        token = generated_token(SECRET, "acme", "nightly-backup")
        assert token == generated_token(SECRET, "acme", "nightly-backup")
        assert token != generated_token(SECRET, "globex", "nightly-backup")
        assert token != generated_token(SECRET, "acme", "nightly-backup2")
        assert re.fullmatch(r"[a-z2-7]{32}", token)

    def test_they_cannot_be_computed_from_the_check_alone(self) -> None:
        """Another installation (another secret) gets another token, and the old identity-only
        derivation (sha256 of org and name) no longer gives a working token."""
        token = generated_token(SECRET, "acme", "nightly-backup")
        assert token != generated_token(b"another installation's secret..", "acme", "nightly-backup")
        identity_only = hashlib.sha256(b"pulsewatch-heartbeat\0acme\0nightly-backup").digest()
        assert base64.b32encode(identity_only).decode().lower()[:20] not in token

    def test_no_secret_no_token(self) -> None:
        with pytest.raises(ValueError, match="installation secret"):
            generated_token(b"", "acme", "nightly-backup")

    def test_only_missing_tokens_are_filled_in_with_their_ping_url(self) -> None:
        def heartbeat(name: str, token: str) -> Check:
            spec = HeartbeatSpec(token=token, period=86400.0)
            return Check(name=name, url=f"/ping/{token}", kind="heartbeat", org="acme", heartbeat=spec)

        probed = Check(name="api", url="http://127.0.0.1:9/", kind="http")
        mine = heartbeat("mine", "my-own-token")
        filled = with_generated_tokens([probed, mine, heartbeat("derived", GENERATE_TOKEN)], SECRET)
        assert filled[:2] == (probed, mine)
        token = generated_token(SECRET, "acme", "derived")
        assert filled[2].heartbeat == HeartbeatSpec(token=token, period=86400.0)
        assert filled[2].url == f"/ping/{token}"

    def test_spec_round_trips_through_plain_data(self) -> None:
        assert HeartbeatSpec(**BERLIN_3AM.as_dict()) == BERLIN_3AM
