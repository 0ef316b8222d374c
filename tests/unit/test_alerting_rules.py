"""The alerting rules outside the planner: masking, windows, routing, flips, flapping, reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.alerting import (
    AlertingConfig,
    EscalationPolicy,
    EscalationStep,
    FlapPolicy,
    MaintenanceWindow,
    Route,
    Scope,
    Severity,
    mask_url,
)
from pulsewatch.domain.alerting_messages import format_span
from pulsewatch.domain.alerting_policy import (
    FlapPhase,
    FlapState,
    FlipAction,
    decide_flip,
    flap_phase,
    policy_for,
    reconcile,
    track_flip,
)
from pulsewatch.domain.monitoring import CheckState, Flip, Status
from tests.unit.alerting_world import CHECKS, at, check, incident


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("json://127.0.0.1:9000/hook", "json://127.0.0.1:9000/***"),
        ("mailto://user:secret@smtp.example.com?to=a@b.test", "mailto://***@smtp.example.com/***"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "slack://***/***"),
        ("tgram://123456789:AABBccdd/12345", "tgram://***/***"),
        ("jsons://hooks.example.com", "jsons://hooks.example.com"),
        ("not a url", "***"),
    ],
)
def test_mask_url_shows_only_scheme_and_plain_host(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "secret" not in mask_url(url)


PARIS_NIGHTLY = MaintenanceWindow(
    "nightly", Scope(), cron="0 3 * * *", duration=1800, timezone="Europe/Paris"
)


@pytest.mark.parametrize(
    ("window", "instant", "active"),
    [
        (MaintenanceWindow("once", Scope(), start=at(0), end=at(60)), at(0), True),
        (MaintenanceWindow("once", Scope(), start=at(0), end=at(60)), at(60), False),
        (MaintenanceWindow("once", Scope(), start=at(0), end=at(60)), at(-1), False),
        # 03:10 Paris in summer is 01:10 UTC; in winter 02:10 UTC.
        (PARIS_NIGHTLY, datetime(2025, 7, 1, 1, 10, tzinfo=UTC), True),
        (PARIS_NIGHTLY, datetime(2025, 7, 1, 2, 10, tzinfo=UTC), False),
        (PARIS_NIGHTLY, datetime(2025, 1, 15, 2, 10, tzinfo=UTC), True),
        (PARIS_NIGHTLY, datetime(2025, 1, 15, 2, 30, tzinfo=UTC), False),
        (PARIS_NIGHTLY, datetime(2025, 1, 15, 2, 0, tzinfo=UTC), True),
    ],
)
def test_maintenance_windows(window: MaintenanceWindow, instant: datetime, active: bool) -> None:
    assert window.active_at(instant) is active


@pytest.mark.parametrize(
    ("scope", "name", "covered"),
    [
        (Scope(), "api", True),
        (Scope(checks=("api",)), "api", True),
        (Scope(checks=("api",)), "db", False),
        (Scope(tags=("prod",)), "db", True),
        (Scope(org="acme"), "api", False),
    ],
)
def test_scopes(scope: Scope, name: str, covered: bool) -> None:
    by_name = {c.name: c for c in CHECKS.values()}
    assert scope.covers(by_name[name]) is covered


ONCALL = EscalationPolicy("oncall", (EscalationStep(0, ("ops",)), EscalationStep(600, ("pager",))))
LATER = EscalationPolicy("later", (EscalationStep(300, ("pager",)),))


def test_policy_for_a_check_with_only_notify_is_immediate_notice() -> None:
    policy = policy_for(check(1, "api", notify=("ops",)), AlertingConfig())
    assert policy is not None
    assert [(s.after, s.channels) for s in policy.steps] == [(0.0, ("ops",))]
    assert policy.recovery


def test_policy_for_a_check_without_channels_is_none() -> None:
    assert policy_for(check(1, "api"), AlertingConfig()) is None


@pytest.mark.parametrize(
    ("route", "matches"),
    [
        (Route("oncall", teams=("web",)), True),
        (Route("oncall", teams=("data",)), False),
        (Route("oncall", tags=("eu", "prod")), True),
        (Route("oncall", severities=(Severity.WARNING,)), True),
        (Route("oncall", severities=(Severity.CRITICAL,)), False),
        (Route("oncall", org="acme", teams=("web",)), False),
    ],
)
def test_routes_match_team_tag_and_severity(route: Route, matches: bool) -> None:
    target = check(1, "api", team="web", tags=("prod",))
    config = AlertingConfig(policies=(ONCALL,), routes=(route,), severities={target.key: Severity.WARNING})
    policy = policy_for(target, config)
    assert (policy is not None and policy.name == "oncall") is matches


def test_a_routed_check_keeps_its_own_channels_at_step_zero() -> None:
    config = AlertingConfig(policies=(ONCALL, LATER), routes=(Route("oncall"),))
    policy = policy_for(check(1, "api", notify=("mail",)), config)
    assert policy is not None
    assert [s.channels for s in policy.steps] == [("ops", "mail"), ("pager",)]
    delayed = AlertingConfig(policies=(LATER,), routes=(Route("later"),))
    policy = policy_for(check(1, "api", notify=("mail",)), delayed)
    assert policy is not None
    assert [(s.after, s.channels) for s in policy.steps] == [(0.0, ("mail",)), (300, ("pager",))]


def test_the_first_matching_route_wins() -> None:
    config = AlertingConfig(
        policies=(ONCALL, LATER), routes=(Route("later", tags=("prod",)), Route("oncall"))
    )
    policy = policy_for(check(1, "api", tags=("prod",)), config)
    assert policy is not None
    assert policy.name == "later"


@pytest.mark.parametrize(
    ("has_open", "new", "action"),
    [
        (False, Status.DOWN, FlipAction.OPEN),
        (True, Status.DOWN, FlipAction.NOTE),
        (True, Status.UP, FlipAction.RESOLVE),
        (True, Status.PAUSED, FlipAction.RESOLVE),
        (True, Status.DEGRADED, FlipAction.NOTE),
        (False, Status.UP, FlipAction.NONE),
        (False, Status.DEGRADED, FlipAction.NONE),
    ],
)
def test_decide_flip(has_open: bool, new: Status, action: FlipAction) -> None:
    flip = Flip(check_id=1, at=at(0), old=Status.UNKNOWN, new=new)
    assert decide_flip(incident(1, 1) if has_open else None, flip) == action


FLAPS = FlapPolicy(flips=4, window=600, stable=300)


def test_flapping_starts_at_the_nth_flip_within_the_window() -> None:
    state = FlapState()
    for t in (0, 100, 200):
        state = track_flip(state, at(t), FLAPS)
    assert state.episode_start is None
    state = track_flip(state, at(300), FLAPS)
    assert state.episode_start == at(300)
    assert flap_phase(state, FLAPS, at(400)) == FlapPhase.FLAPPING
    assert flap_phase(state, FLAPS, at(600)) == FlapPhase.SETTLED
    state = track_flip(state, at(500), FLAPS)  # still flapping: the episode keeps its start
    assert state.episode_start == at(300)


def test_flips_spread_wider_than_the_window_never_flap() -> None:
    state = FlapState()
    for t in range(0, 3000, 250):
        state = track_flip(state, at(t), FLAPS)
    assert state.episode_start is None


def test_a_new_episode_starts_after_the_last_one_ended() -> None:
    state = FlapState(recent=(at(0),), episode_start=at(0), last_flip=at(0))
    state = track_flip(state, at(1000), FLAPS)
    assert state.episode_start is None


def test_flap_detection_can_be_turned_off() -> None:
    state = FlapState()
    for t in range(10):
        state = track_flip(state, at(t), FlapPolicy(flips=0))
    assert state.episode_start is None


def test_reconcile_resolves_recovered_and_removed_and_finds_missed_outages() -> None:
    states = {
        1: CheckState(1, Status.UP),
        2: CheckState(2, Status.DOWN),
        3: CheckState(3, Status.DOWN),
    }
    open_incidents = [incident(10, 1), incident(11, 2), incident(12, 4)]
    checks = {i: c for i, c in CHECKS.items() if i != 4}
    resolve, down = reconcile(open_incidents, checks, states)
    assert [(i.id, why) for i, why in resolve] == [(10, "recovery"), (12, "check removed")]
    assert down == [3]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42, "42s"), (60, "1m"), (303, "5m 3s"), (7800, "2h 10m"), (3600, "1h"), (273600, "3d 4h")],
)
def test_format_span(seconds: int, text: str) -> None:
    assert format_span(timedelta(seconds=seconds)) == text
