"""A small, fixed alerting world for the pure planner tests: checks, states, policies, incidents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pulsewatch.domain.alerting import (
    AlertingConfig,
    Channel,
    EscalationPolicy,
    EscalationStep,
    FlapPolicy,
    Incident,
    Route,
)
from pulsewatch.domain.alerting_plan import Existing
from pulsewatch.domain.alerting_policy import AlertWorld
from pulsewatch.domain.monitoring import Check, CheckState, Status
from pulsewatch.domain.notifications import DeliveryStatus, NotificationEvent

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def check(check_id: int, name: str, **fields: Any) -> Check:
    values: dict[str, Any] = {"url": f"http://{name}.test/", "kind": "http", "interval": 30.0, "timeout": 5.0}
    values.update(fields)
    return Check(name=name, id=check_id, **values)


CHECKS = {
    1: check(1, "api", notify=("ops",)),
    2: check(2, "db", team="data", tags=("prod",)),
    3: check(3, "web", depends_on=("db",), notify=("ops",)),
    4: check(4, "canary", notify=("ops",)),
}

ONCALL = EscalationPolicy(
    name="oncall",
    steps=(EscalationStep(0, ("ops",)), EscalationStep(600, ("pager",))),
    repeat=1800,
    flapping=FlapPolicy(flips=4, window=600, stable=300),
)

CONFIG = AlertingConfig(
    channels=(Channel("ops", ("json://127.0.0.1:1/x",)), Channel("pager", ("json://127.0.0.1:2/y",))),
    policies=(ONCALL,),
    routes=(Route(policy="oncall", teams=("data",)),),
)


def states(**by_name: Status | CheckState) -> dict[int, CheckState]:
    """States by check name; a bare Status means 'in that status since T0, last probed at T0'."""
    ids = {c.name: i for i, c in CHECKS.items()}
    out = {i: CheckState(check_id=i, status=Status.UP, since=T0, last_checked_at=T0) for i in CHECKS}
    for name, value in by_name.items():
        i = ids[name]
        if isinstance(value, Status):
            failures = 1 if value == Status.DOWN else 0
            value = CheckState(
                i,
                value,
                since=T0,
                last_checked_at=T0,
                consecutive_failures=failures,
                last_error="boom" if value == Status.DOWN else "",
            )
        out[i] = replace(value, check_id=i)
    return out


def world(**fields: Any) -> AlertWorld:
    values: dict[str, Any] = {"config": CONFIG, "checks": CHECKS, "states": states()}
    values.update(fields)
    return AlertWorld(**values)


def incident(incident_id: int, check_id: int, opened: float = 0, **fields: Any) -> Incident:
    return Incident(
        check_id=check_id,
        check_name=CHECKS[check_id].name,
        opened_at=at(opened),
        reason="boom",
        id=incident_id,
        **fields,
    )


def row(
    key: str,
    status: DeliveryStatus = DeliveryStatus.SENT,
    created: float = 0,
    event: NotificationEvent | None = None,
    incident_id: int | None = None,
) -> Existing:
    parts = key.split(":")
    channel = parts[-1].removesuffix("~suppressed")
    if event is None:
        event = NotificationEvent.DOWN if "step0" in key else NotificationEvent.ESCALATION
    if incident_id is None and key.startswith("inc:"):
        incident_id = int(parts[1])
    return Existing(key, channel, event, status, at(created), incident_id)
