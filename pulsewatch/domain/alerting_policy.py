"""The alerting rules that need no outbox: which policy a check gets, what a flip does to incidents,
when a check is flapping, and what holds or suppresses its alerts right now.

All pure; `now` is always passed in. `alerting_plan` builds the notification plan on top of these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.alerting import EscalationPolicy, EscalationStep, FlapPolicy, Incident
from pulsewatch.domain.monitoring import Status

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from pulsewatch.domain.alerting import AlertingConfig, Silence
    from pulsewatch.domain.monitoring import Check, CheckState, Flip

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SETTLE_SLACK = timedelta(seconds=1)
"""Clock slack when comparing a parent's or canary's probe time with an incident's opening."""


def micros(instant: datetime) -> int:
    """An instant as integer microseconds since the epoch: a stable part of notification keys."""
    return (instant - EPOCH) // timedelta(microseconds=1)


# --- routing ---------------------------------------------------------------------------------------


def policy_for(check: Check, config: AlertingConfig) -> EscalationPolicy | None:
    """The escalation policy that applies to `check`, or None when nobody is to be told.

    The first route that matches picks a policy; the check's own `notify:` channels are notified
    at once in any case (a check with only `notify:` gets exactly that: immediate notice and a
    recovery notice), so a route can add people but never takes the check's own channels away.
    """
    severity = config.severity_of(check)
    routed = next(
        (p for r in config.routes if r.matches(check, severity) and (p := config.policy(r.policy))), None
    )
    own = tuple(check.notify)
    if routed is None:
        return EscalationPolicy(name="notify", steps=(EscalationStep(0.0, own),)) if own else None
    if not own:
        return routed
    steps = list(routed.steps)
    if steps and steps[0].after == 0:
        merged = tuple(dict.fromkeys((*steps[0].channels, *own)))
        steps[0] = EscalationStep(0.0, merged)
    else:
        steps.insert(0, EscalationStep(0.0, own))
    return replace(routed, steps=tuple(steps))


def flap_policy_of(check: Check, config: AlertingConfig) -> FlapPolicy:
    """The flap thresholds for `check`: its policy's, or the defaults when it has none."""
    policy = policy_for(check, config)
    return policy.flapping if policy is not None else FlapPolicy()


# --- flips and incidents -------------------------------------------------------------------------


class FlipAction(enum.Enum):
    """What a flip does to the check's incidents."""

    OPEN = "open"
    """A new incident (the check went down and none is open)."""
    RESOLVE = "resolve"
    """The open incident ends (the check left DOWN for something better)."""
    NOTE = "note"
    """The open incident gets a timeline entry only."""
    NONE = "none"


def decide_flip(open_incident: Incident | None, flip: Flip) -> FlipAction:
    """What `flip` does, given the check's open incident (if any)."""
    if flip.new == Status.DOWN:
        return FlipAction.NOTE if open_incident is not None else FlipAction.OPEN
    if open_incident is None:
        return FlipAction.NONE
    if flip.new in (Status.UP, Status.PAUSED, Status.MAINTENANCE, Status.UNKNOWN):
        return FlipAction.RESOLVE
    return FlipAction.NOTE  # DEGRADED while an incident is open: still an outage, note it


def reconcile(
    open_incidents: Sequence[Incident], checks: Mapping[int, Check], states: Mapping[int, CheckState]
) -> tuple[list[tuple[Incident, str]], list[int]]:
    """Bring incidents in line with states when a flip was missed (a crash, a full queue).

    Returns:
        (incidents to resolve with the reason, check ids that are DOWN without an open incident).
        Whether a DOWN check already had an incident for this outage (one a person resolved by
        hand) is for the caller to check against the state's `since`.
    """
    resolve: list[tuple[Incident, str]] = []
    covered = set()
    for incident in open_incidents:
        covered.add(incident.check_id)
        state = states.get(incident.check_id)
        if incident.check_id not in checks:
            resolve.append((incident, "check removed"))
        elif state is not None and state.status not in (Status.DOWN, Status.DEGRADED):
            resolve.append(
                (incident, "recovery" if state.status == Status.UP else f"check {state.status.value}")
            )
    down = [i for i, s in states.items() if s.status == Status.DOWN and i in checks and i not in covered]
    return resolve, down


# --- flapping --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlapState:
    """A check's recent flips and its current flapping episode (identified by when it started)."""

    recent: tuple[datetime, ...] = ()
    episode_start: datetime | None = None
    last_flip: datetime | None = None


class FlapPhase(enum.Enum):
    QUIET = "quiet"
    FLAPPING = "flapping"
    SETTLED = "settled"
    """The episode is over (stable long enough) but not yet announced."""


def track_flip(state: FlapState, at: datetime, policy: FlapPolicy) -> FlapState:
    """Add a flip at `at`; an episode starts when `policy.flips` flips fall within `policy.window`."""
    if policy.flips <= 0:
        return FlapState(last_flip=at)
    window = timedelta(seconds=policy.window)
    recent = (*(t for t in state.recent if at - t < window), at)
    start = state.episode_start
    if (
        start is not None
        and state.last_flip is not None
        and at - state.last_flip >= timedelta(seconds=policy.stable)
    ):
        start = None  # the previous episode ended before this flip
    if start is None and len(recent) >= policy.flips:
        start = at
    return FlapState(recent=recent, episode_start=start, last_flip=at)


def flap_phase(state: FlapState | None, policy: FlapPolicy, now: datetime) -> FlapPhase:
    """Whether the check is flapping at `now`, stable again after an episode, or neither."""
    if state is None or state.episode_start is None or state.last_flip is None:
        return FlapPhase.QUIET
    if now - state.last_flip < timedelta(seconds=policy.stable):
        return FlapPhase.FLAPPING
    return FlapPhase.SETTLED


# --- what stops an alert now -----------------------------------------------------------------------


class BlockKind(enum.Enum):
    HELD = "held"
    """Not now, maybe later: nothing is written, the next planning round decides again."""
    SUPPRESSED = "suppressed"
    """Deliberately not sent: recorded as a suppressed notification."""


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    cause: str
    """A short word for the cause: gate, canaries, flapping, dependency, maintenance, silence."""
    reason: str


@dataclass(frozen=True)
class AlertWorld:
    """Everything outside the outbox that decides alerts: config, checks, live states, silences,
    flap states. The notifier rebuilds it from memory each round; tests build it by hand."""

    config: AlertingConfig
    checks: Mapping[int, Check]
    states: Mapping[int, CheckState]
    silences: Sequence[Silence] = ()
    flaps: Mapping[int, FlapState] = field(default_factory=dict)

    def by_key(self, org: str, name: str) -> Check | None:
        return next((c for c in self.checks.values() if c.org == org and c.name == name), None)


def block_for(
    check: Check, opened_at: datetime, world: AlertWorld, now: datetime, *, flapping: bool = True
) -> Block | None:
    """What holds or suppresses an alert about `check` (an outage that began at `opened_at`) now.

    In order: the connectivity gate (all canaries failing: the engine itself is cut off), the check
    flapping, its parents (a parent down explains the child; a parent still being judged makes the
    child wait for its verdict), maintenance windows, silences.
    """
    for rule in (_gate, _flapping if flapping else None, _dependencies):
        if rule is not None and (block := rule(check, opened_at, world, now)) is not None:
            return block
    for window in world.config.maintenance:
        if window.scope.covers(check) and window.active_at(now):
            return Block(BlockKind.SUPPRESSED, "maintenance", f"maintenance window {window.name}")
    for silence in world.silences:
        if silence.scope.covers(check) and silence.active_at(now):
            until = silence.until.strftime("%Y-%m-%d %H:%M UTC")
            return Block(
                BlockKind.SUPPRESSED,
                "silence",
                f"silenced by {silence.created_by} until {until}: {silence.reason}",
            )
    return None


def _gate(check: Check, opened_at: datetime, world: AlertWorld, now: datetime) -> Block | None:
    canaries = [c for c in world.checks.values() if c.key in world.config.canaries and c.id is not None]
    if not canaries:
        return None
    states = [world.states.get(c.id or 0) for c in canaries]
    if any(s is not None and s.consecutive_failures == 0 and _probed_since(s, opened_at) for s in states):
        return None  # a canary got through after this outage began: the engine is connected
    if all(s is not None and s.consecutive_failures > 0 for s in states):
        return Block(BlockKind.HELD, "gate", "connectivity gate: every canary check is failing")
    waiting = [
        c
        for c, s in zip(canaries, states, strict=True)
        if (s is None or not _probed_since(s, opened_at)) and now < opened_at + _verdict_time(c, 1)
    ]
    if waiting:
        return Block(BlockKind.HELD, "canaries", "waiting for the canary checks' next probe")
    return None


def _flapping(check: Check, opened_at: datetime, world: AlertWorld, now: datetime) -> Block | None:
    state = world.flaps.get(check.id or 0)
    if flap_phase(state, flap_policy_of(check, world.config), now) == FlapPhase.FLAPPING:
        return Block(BlockKind.HELD, "flapping", "the check is flapping")
    return None


def _dependencies(check: Check, opened_at: datetime, world: AlertWorld, now: datetime) -> Block | None:
    held: Block | None = None
    for name in check.depends_on:
        parent = world.by_key(check.org, name)
        state = world.states.get(parent.id or 0) if parent is not None else None
        if parent is None or state is None:
            continue
        if state.status == Status.DOWN:
            return Block(BlockKind.SUPPRESSED, "dependency", f"parent check {name} is down")
        if state.status == Status.UP and state.since is not None and state.since > opened_at - SETTLE_SLACK:
            # The parent came back after this outage began: give the child time to follow it.
            if now < state.since + _verdict_time(check, check.success_threshold + 1):
                return Block(BlockKind.SUPPRESSED, "dependency", f"parent check {name} was down")
            continue
        if held is None and state.consecutive_failures > 0:
            if now < opened_at + _verdict_time(parent, parent.failure_threshold + 1):
                held = Block(BlockKind.HELD, "dependency", f"waiting for parent check {name}'s verdict")
        elif (
            held is None
            and not _probed_since(state, opened_at)
            and now < opened_at + _verdict_time(parent, 1)
        ):
            held = Block(BlockKind.HELD, "dependency", f"waiting for parent check {name}'s next probe")
    return held


def _probed_since(state: CheckState, instant: datetime) -> bool:
    return state.last_checked_at is not None and state.last_checked_at >= instant - SETTLE_SLACK


def _verdict_time(check: Check, probes: int) -> timedelta:
    """How long `probes` more probes of `check` can take: the most a decision waits for it."""
    return timedelta(seconds=check.interval * probes + check.timeout)
