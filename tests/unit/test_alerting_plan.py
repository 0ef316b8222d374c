"""plan_notifications: which notifications should exist now, table-driven over small fixed worlds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pulsewatch.domain.alerting import IncidentStatus, MaintenanceWindow, Scope, Silence
from pulsewatch.domain.alerting_plan import Plan, plan_notifications
from pulsewatch.domain.alerting_policy import FlapState
from pulsewatch.domain.monitoring import CheckState, Status
from pulsewatch.domain.notifications import DeliveryStatus, NotificationEvent
from tests.unit.alerting_world import CONFIG, at, incident, row, states, world

SENT, PENDING, SENDING, FAILED, SUPPRESSED = (
    DeliveryStatus.SENT,
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.FAILED,
    DeliveryStatus.SUPPRESSED,
)


def keys(plan: Plan) -> list[str]:
    return sorted(n.key for n in plan.notifications)


MAINTENANCE = replace(
    CONFIG, maintenance=(MaintenanceWindow("deploy", Scope(checks=("api",)), start=at(-60), end=at(3600)),)
)
GATED = replace(CONFIG, canaries=(("default", "canary"),))


# (description, incidents, existing rows, world overrides, now) -> expected new keys
CASES: list[tuple[str, list[Any], list[Any], dict[str, Any], float, list[str]]] = [
    (
        "a new incident pages the check's own channel at once",
        [incident(1, 1)],
        [],
        {"states": states(api=Status.DOWN)},
        0,
        ["inc:1:step0:ops"],
    ),
    (
        "planning twice adds nothing",
        [incident(1, 1)],
        [row("inc:1:step0:ops")],
        {"states": states(api=Status.DOWN)},
        5,
        [],
    ),
    (
        "an escalation step waits for its time",
        [incident(1, 2)],
        [row("inc:1:step0:ops")],
        {"states": states(db=Status.DOWN)},
        599,
        [],
    ),
    (
        "an unacknowledged incident escalates after the step's delay",
        [incident(1, 2)],
        [row("inc:1:step0:ops")],
        {"states": states(db=Status.DOWN)},
        600,
        ["inc:1:step1:pager"],
    ),
    (
        "reminders go to every channel already paged",
        [incident(1, 2)],
        [row("inc:1:step0:ops"), row("inc:1:step1:pager", created=600)],
        {"states": states(db=Status.DOWN)},
        1800,
        ["inc:1:reminder1:ops", "inc:1:reminder1:pager"],
    ),
    (
        "after a long stop only the latest reminder is created",
        [incident(1, 2)],
        [row("inc:1:step0:ops"), row("inc:1:step1:pager", created=600)],
        {"states": states(db=Status.DOWN)},
        5 * 1800 + 7,
        ["inc:1:reminder5:ops", "inc:1:reminder5:pager"],
    ),
    (
        "steps count from the first page, not from the opening, after a suppression",
        [incident(1, 2)],
        [row("inc:1:step0:ops", created=3600)],
        {"states": states(db=Status.DOWN)},
        4000,
        [],
    ),
    (
        "an acknowledged incident stops escalating",
        [incident(1, 2, status=IncidentStatus.ACKNOWLEDGED)],
        [row("inc:1:step0:ops")],
        {"states": states(db=Status.DOWN)},
        7200,
        [],
    ),
    (
        "a resolved incident sends recovery where the page was sent",
        [incident(1, 1, status=IncidentStatus.RESOLVED, resolved_at=at(90), resolved_by="recovery")],
        [row("inc:1:step0:ops")],
        {},
        90,
        ["inc:1:recovered:ops"],
    ),
    (
        "no recovery notice where the page was never sent",
        [incident(1, 1, status=IncidentStatus.RESOLVED, resolved_at=at(90), resolved_by="recovery")],
        [row("inc:1:step0:ops", FAILED)],
        {},
        90,
        [],
    ),
    (
        "a page being sent makes the recovery wait",
        [incident(1, 1, status=IncidentStatus.RESOLVED, resolved_at=at(90), resolved_by="recovery")],
        [row("inc:1:step0:ops", SENDING)],
        {},
        90,
        [],
    ),
    (
        "a child of a down parent is suppressed and recorded",
        [incident(1, 3)],
        [],
        {"states": states(db=Status.DOWN, web=Status.DOWN)},
        0,
        ["inc:1:step0:ops~suppressed"],
    ),
    (
        "a child waits while its parent is failing but not yet down",
        [incident(1, 3)],
        [],
        {
            "states": states(
                db=CheckState(0, Status.UP, since=at(-100), last_checked_at=at(1), consecutive_failures=1),
                web=Status.DOWN,
            )
        },
        2,
        [],
    ),
    (
        "a child waits for its parent's next probe",
        [incident(1, 3, opened=10)],
        [],
        {"states": states(web=Status.DOWN)},
        20,
        [],
    ),
    (
        "a child pages once its parent's probe is overdue",
        [incident(1, 3, opened=10)],
        [],
        {"states": states(web=Status.DOWN)},
        46,
        ["inc:1:step0:ops"],
    ),
    (
        "a child pages when its parent is fine",
        [incident(1, 3, opened=-5)],
        [],
        {
            "states": states(
                db=CheckState(0, Status.UP, since=at(-900), last_checked_at=at(0)), web=Status.DOWN
            )
        },
        0,
        ["inc:1:step0:ops"],
    ),
    (
        "a parent that just came back still explains its child",
        [incident(1, 3)],
        [],
        {
            "states": states(
                db=CheckState(0, Status.UP, since=at(40), last_checked_at=at(40)), web=Status.DOWN
            )
        },
        50,
        ["inc:1:step0:ops~suppressed"],
    ),
    (
        "a child still down well after its parent came back pages",
        [incident(1, 3)],
        [row("inc:1:step0:ops~suppressed", SUPPRESSED)],
        {
            "states": states(
                db=CheckState(0, Status.UP, since=at(40), last_checked_at=at(400)), web=Status.DOWN
            )
        },
        400,
        ["inc:1:step0:ops"],
    ),
    (
        "maintenance suppresses and records",
        [incident(1, 1)],
        [],
        {"config": MAINTENANCE, "states": states(api=Status.DOWN)},
        0,
        ["inc:1:step0:ops~suppressed"],
    ),
    (
        "after maintenance an ongoing outage pages",
        [incident(1, 1)],
        [row("inc:1:step0:ops~suppressed", SUPPRESSED)],
        {"config": MAINTENANCE, "states": states(api=Status.DOWN)},
        3600,
        ["inc:1:step0:ops"],
    ),
    (
        "a silence by tag suppresses",
        [incident(1, 2)],
        [],
        {
            "silences": [Silence(Scope(tags=("prod",)), at(600), "ana@x.test", "migration", at(-10))],
            "states": states(db=Status.DOWN),
        },
        0,
        ["inc:1:step0:ops~suppressed"],
    ),
    (
        "an expired silence does not",
        [incident(1, 2)],
        [],
        {
            "silences": [Silence(Scope(tags=("prod",)), at(-1), "ana@x.test", "migration", at(-10))],
            "states": states(db=Status.DOWN),
        },
        0,
        ["inc:1:step0:ops"],
    ),
    (
        "the connectivity gate holds everything while every canary fails",
        [incident(1, 1)],
        [],
        {"config": GATED, "states": states(api=Status.DOWN, canary=Status.DOWN)},
        0,
        [],
    ),
    (
        "a canary that got through after the outage began opens the gate",
        [incident(1, 1, opened=-5)],
        [],
        {"config": GATED, "states": states(api=Status.DOWN)},
        0,
        ["inc:1:step0:ops"],
    ),
    (
        "a flapping check's pages are held but the flapping notice goes out once",
        [incident(1, 1)],
        [],
        {
            "states": states(api=Status.DOWN),
            "flaps": {1: FlapState((at(-30), at(-20), at(-10), at(0)), at(0), at(0))},
        },
        1,
        [f"flap:1:{1748779200000000}:ops"],
    ),
    (
        "a check stable again after flapping is announced",
        [],
        [row(f"flap:1:{1748779200000000}:ops", event=NotificationEvent.FLAPPING)],
        {"flaps": {1: FlapState((at(0),), at(0), at(0))}},
        900,
        [f"flap:1:{1748779200000000}:stable:ops"],
    ),
]


@pytest.mark.parametrize(
    ("incidents", "existing", "overrides", "now", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_it_plans(
    incidents: list[Any], existing: list[Any], overrides: dict[str, Any], now: float, expected: list[str]
) -> None:
    plan = plan_notifications(incidents, existing, world(**overrides), at(now))
    assert keys(plan) == expected


def test_it_settles_resolved_incidents_unless_a_page_is_in_flight() -> None:
    resolved = incident(1, 1, status=IncidentStatus.RESOLVED, resolved_at=at(90), resolved_by="recovery")
    assert plan_notifications([resolved], [row("inc:1:step0:ops")], world(), at(90)).settled == (1,)
    in_flight = [row("inc:1:step0:ops", SENDING)]
    assert plan_notifications([resolved], in_flight, world(), at(90)).settled == ()


def test_it_writes_the_message_with_check_status_reason_duration_and_incident() -> None:
    plan = plan_notifications([incident(7, 1, opened=-300)], [], world(states=states(api=Status.DOWN)), at(0))
    [note] = plan.notifications
    assert note.event == NotificationEvent.DOWN
    assert note.title == "DOWN: api"
    assert "api is DOWN: boom" in note.body
    assert "Incident #7" in note.body
    assert "5m" in note.body


def test_it_records_why_a_notification_was_suppressed() -> None:
    plan = plan_notifications(
        [incident(1, 3)], [], world(states=states(db=Status.DOWN, web=Status.DOWN)), at(0)
    )
    [note] = plan.notifications
    assert note.status == DeliveryStatus.SUPPRESSED
    assert note.reason == "parent check db is down"


def test_it_reports_holds_once_per_cause() -> None:
    plan = plan_notifications(
        [incident(1, 1)], [], world(config=GATED, states=states(api=Status.DOWN, canary=Status.DOWN)), at(0)
    )
    assert [(h.incident_id, h.cause) for h in plan.holds] == [(1, "gate")]


def test_it_ends_a_flap_episode_once_announced() -> None:
    plan = plan_notifications([], [], world(flaps={1: FlapState((at(0),), at(0), at(0))}), at(900))
    assert plan.flaps_ended == (1,)
    assert (
        plan_notifications([], [], world(flaps={1: FlapState((at(0),), at(0), at(0))}), at(100)).flaps_ended
        == ()
    )


def test_a_recovery_says_who_resolved_by_hand() -> None:
    resolved = incident(1, 1, status=IncidentStatus.RESOLVED, resolved_at=at(60), resolved_by="ana@x.test")
    [note] = plan_notifications([resolved], [row("inc:1:step0:ops")], world(), at(60)).notifications
    assert "resolved by ana@x.test" in note.body
    assert note.title == "RECOVERED: api"


def test_pending_rows_count_as_existing() -> None:
    plan = plan_notifications(
        [incident(1, 1)], [row("inc:1:step0:ops", PENDING)], world(states=states(api=Status.DOWN)), at(10)
    )
    assert plan.notifications == ()


def test_a_degraded_flip_notifies_the_first_channels_once_per_flip() -> None:
    from pulsewatch.domain.alerting_plan import degraded_notices
    from tests.unit.alerting_world import CHECKS

    plan = degraded_notices(CHECKS[1], at(0), "[RESPONSE_TIME] < 300 failed", world(), at(0))
    [note] = plan.notifications
    assert note.event == NotificationEvent.DEGRADED
    assert note.key == "flip:1:1748779200000000:degraded:ops"
    assert note.title == "DEGRADED: api"
    assert "RESPONSE_TIME" in note.body
    maintenance = degraded_notices(CHECKS[1], at(0), "slow", world(config=MAINTENANCE), at(0))
    assert [n.status for n in maintenance.notifications] == [SUPPRESSED]
