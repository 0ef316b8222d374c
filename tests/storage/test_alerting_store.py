"""AlertStore on SQLite and MariaDB: incidents, timeline, silences, the outbox protocol, channel health."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from engine.storage.alerting_outbox_store import INTERRUPTED
from engine.storage.alerting_store import AlertStore
from engine.storage.store import SqlStore
from pulsewatch.domain.alerting import IncidentStatus, Scope, Severity, Silence, TimelineKind
from pulsewatch.domain.alerting_plan import Hold
from pulsewatch.domain.monitoring import Check, CheckState, Flip, Status
from pulsewatch.domain.notifications import (
    DeliveryAttempt,
    DeliveryStatus,
    NewNotification,
    NotificationEvent,
    RetryPolicy,
)
from pulsewatch.errors import NotFoundError, PulseWatchError
from tests.storage.factories import at, make_check


@pytest.fixture
def alerts(store: SqlStore) -> Iterator[AlertStore]:
    return AlertStore(store)


@pytest.fixture
def api(store: SqlStore) -> Check:
    plan = store.sync_checks([make_check("api")])
    return plan.added[0]


def down(check: Check, seconds: float = 0) -> Flip:
    assert check.id is not None
    return Flip(check_id=check.id, at=at(seconds), old=Status.UP, new=Status.DOWN, reason="HTTP 503")


def up(check: Check, seconds: float) -> Flip:
    assert check.id is not None
    return Flip(check_id=check.id, at=at(seconds), old=Status.DOWN, new=Status.UP, reason="recovered")


def page(
    key: str,
    incident_id: int | None,
    check_id: int,
    channel: str = "ops",
    event: NotificationEvent = NotificationEvent.DOWN,
) -> NewNotification:
    return NewNotification(
        key=key,
        check_id=check_id,
        channel=channel,
        event=event,
        title="DOWN: api",
        body="api is DOWN",
        incident_id=incident_id,
    )


class TestIncidents:
    def test_a_down_flip_opens_one_incident_and_recovery_resolves_it(
        self, alerts: AlertStore, api: Check
    ) -> None:
        opened = alerts.apply_flip(down(api), api, Severity.CRITICAL)
        assert opened is not None
        assert opened.status == IncidentStatus.OPEN
        assert opened.reason == "HTTP 503"
        assert opened.check_name == "api"
        assert opened.opened_at == at(0)
        resolved = alerts.apply_flip(up(api, 60), api, Severity.CRITICAL)
        assert resolved is not None
        assert resolved.id == opened.id
        assert resolved.status == IncidentStatus.RESOLVED
        assert resolved.resolved_by == "recovery"
        assert resolved.resolved_at == at(60)
        assert [i.id for i in alerts.incidents(open_only=True)] == []
        assert [e.kind for e in alerts.timeline(opened.id or 0)] == [
            TimelineKind.OPENED,
            TimelineKind.RESOLVED,
        ]

    def test_an_up_flip_without_incident_does_nothing(self, alerts: AlertStore, api: Check) -> None:
        assert alerts.apply_flip(up(api, 5), api, Severity.CRITICAL) is None
        assert alerts.incidents() == []

    def test_resolving_supersedes_pages_not_yet_sent(self, alerts: AlertStore, api: Check) -> None:
        incident = alerts.apply_flip(down(api), api, Severity.CRITICAL)
        assert incident is not None
        assert api.id is not None
        alerts.write_plan([page("inc:1:step0:ops", incident.id, api.id)], [], [], at(1))
        alerts.apply_flip(up(api, 2), api, Severity.CRITICAL)
        [row] = alerts.notifications(incident_id=incident.id)
        assert row.status == DeliveryStatus.SUPERSEDED
        assert alerts.claim_due(at(3), "e1", 10) == []

    def test_open_from_state_respects_an_incident_resolved_by_hand(
        self, alerts: AlertStore, api: Check
    ) -> None:
        assert api.id is not None
        state = CheckState(api.id, Status.DOWN, since=at(0), last_error="refused")
        incident = alerts.open_from_state(api, state, Severity.CRITICAL, at(5))
        assert incident is not None
        assert incident.opened_at == at(0)
        assert incident.reason == "refused"
        alerts.resolve(incident.id or 0, "ana@x.test", at(10))
        assert alerts.open_from_state(api, state, Severity.CRITICAL, at(20)) is None
        later = replace(state, since=at(100))
        assert alerts.open_from_state(api, later, Severity.CRITICAL, at(120)) is not None

    def test_acknowledge_note_and_resolve_by_hand(self, alerts: AlertStore, api: Check) -> None:
        incident = alerts.apply_flip(down(api), api, Severity.WARNING)
        assert incident is not None
        assert incident.id is not None
        assert api.id is not None
        alerts.write_plan(
            [page("inc:x:step1:pager", incident.id, api.id, "pager", NotificationEvent.ESCALATION)],
            [],
            [],
            at(1),
        )
        acked = alerts.acknowledge(incident.id, "ana@x.test", "looking", at(30))
        assert acked.status == IncidentStatus.ACKNOWLEDGED
        assert acked.acknowledged_by == "ana@x.test"
        assert acked.ack_note == "looking"
        assert acked.acknowledged_at == at(30)
        assert alerts.notifications(incident_id=incident.id)[0].status == DeliveryStatus.SUPERSEDED
        alerts.add_note(incident.id, "bo@x.test", "db restarted", at(40))
        resolved = alerts.resolve(incident.id, "bo@x.test", at(50))
        assert resolved.resolved_by == "bo@x.test"
        with pytest.raises(PulseWatchError, match="already resolved"):
            alerts.acknowledge(incident.id, "ana@x.test", "", at(60))
        kinds = [
            (e.kind, e.actor) for e in alerts.timeline(incident.id) if e.kind != TimelineKind.NOTIFICATION
        ]
        assert kinds == [
            (TimelineKind.OPENED, None),
            (TimelineKind.ACKNOWLEDGED, "ana@x.test"),
            (TimelineKind.NOTE, "bo@x.test"),
            (TimelineKind.RESOLVED, "bo@x.test"),
        ]

    def test_unknown_incidents_are_not_found(self, alerts: AlertStore) -> None:
        with pytest.raises(NotFoundError):
            alerts.incident(99)
        with pytest.raises(NotFoundError):
            alerts.acknowledge(99, "a", "", at(0))


class TestOutbox:
    def test_planning_twice_writes_one_row_and_holds_are_noted_once(
        self, alerts: AlertStore, api: Check
    ) -> None:
        incident = alerts.apply_flip(down(api), api, Severity.CRITICAL)
        assert incident is not None
        assert incident.id is not None
        assert api.id is not None
        hold = Hold(incident.id, api.id, "gate", "connectivity gate")
        for _ in range(2):
            alerts.write_plan([page("k1", incident.id, api.id)], [hold], [], at(1))
        assert len(alerts.notifications()) == 1
        held = [e for e in alerts.timeline(incident.id) if e.kind == TimelineKind.HELD]
        assert len(held) == 1
        [existing] = alerts.planning_rows([incident.id], [])
        assert existing.key == "k1"
        assert existing.status == DeliveryStatus.PENDING

    def test_claim_send_fail_retry_and_give_up(self, alerts: AlertStore, api: Check) -> None:
        assert api.id is not None
        alerts.write_plan([page("k1", None, api.id)], [], [], at(0))
        [claimed] = alerts.claim_due(at(0), "e1", 10)
        assert claimed.status == DeliveryStatus.SENDING
        assert alerts.claim_due(at(0), "e2", 10) == []  # nobody claims a row twice
        retry = RetryPolicy(attempts=2, first=5, failing_after=1)
        failed = DeliveryAttempt(claimed.id, at(0), at(1), False, "connection refused", "e1")
        row = alerts.finish_delivery(claimed.id, failed, frozenset(), retry=retry)
        assert row.status == DeliveryStatus.PENDING
        assert row.next_attempt_at == at(6)
        assert row.attempts == 1
        assert alerts.next_due() == at(6)
        assert alerts.claim_due(at(5), "e1", 10) == []
        [again] = alerts.claim_due(at(6), "e1", 10)
        row = alerts.finish_delivery(
            again.id, replace(failed, started_at=at(6), finished_at=at(7)), frozenset(), retry=retry
        )
        assert row.status == DeliveryStatus.FAILED
        assert row.last_error == "connection refused"
        assert [a.error for a in alerts.attempts(claimed.id)] == ["connection refused"] * 2
        [health] = alerts.channel_health()
        assert health.failing
        assert health.consecutive_failures == 1
        assert health.last_error == "connection refused"

    def test_a_success_is_recorded_and_heals_the_channel(self, alerts: AlertStore, api: Check) -> None:
        assert api.id is not None
        alerts.write_plan([page("k1", None, api.id)], [], [], at(0))
        [claimed] = alerts.claim_due(at(0), "e1", 10)
        row = alerts.finish_delivery(
            claimed.id, DeliveryAttempt(claimed.id, at(0), at(1), True, "", "e1"), frozenset({0})
        )
        assert row.status == DeliveryStatus.SENT
        assert row.sent_at == at(1)
        assert row.delivered_urls == {0}
        [health] = alerts.channel_health()
        assert not health.failing
        assert health.last_success_at == at(1)

    def test_a_permanent_error_fails_at_once(self, alerts: AlertStore, api: Check) -> None:
        assert api.id is not None
        alerts.write_plan([page("k1", None, api.id)], [], [], at(0))
        [claimed] = alerts.claim_due(at(0), "e1", 10)
        attempt = DeliveryAttempt(claimed.id, at(0), at(1), False, "not an Apprise URL", "e1")
        row = alerts.finish_delivery(claimed.id, attempt, frozenset(), permanent=True)
        assert row.status == DeliveryStatus.FAILED
        assert alerts.channel_health()[0].failing

    def test_rows_left_sending_by_a_crash_are_sent_again(self, alerts: AlertStore, api: Check) -> None:
        assert api.id is not None
        alerts.write_plan([page("k1", None, api.id), page("k2", None, api.id)], [], [], at(0))
        claimed = alerts.claim_due(at(0), "old-engine", 1)
        assert len(claimed) == 1
        assert alerts.release_stale("other", at(-100), at(10)) == 0  # a live claim is left alone
        assert alerts.release_stale("old-engine", at(-100), at(10)) == 1
        [row] = [n for n in alerts.notifications() if n.id == claimed[0].id]
        assert row.status == DeliveryStatus.PENDING
        assert row.attempts == 1
        assert row.last_error == INTERRUPTED
        assert [a.error for a in alerts.attempts(row.id)] == [INTERRUPTED]
        assert len(alerts.claim_due(at(10), "new-engine", 10)) == 2

    def test_pages_of_acknowledged_incidents_are_superseded_at_claim(
        self, alerts: AlertStore, api: Check
    ) -> None:
        incident = alerts.apply_flip(down(api), api, Severity.CRITICAL)
        assert incident is not None
        assert incident.id is not None
        assert api.id is not None
        alerts.acknowledge(incident.id, "ana", "", at(1))
        alerts.write_plan(
            [page("late", incident.id, api.id)], [], [], at(2)
        )  # planned before the ack was seen
        recovery = replace(page("rec", incident.id, api.id), event=NotificationEvent.RECOVERED)
        alerts.write_plan([recovery], [], [], at(2))
        claimed = alerts.claim_due(at(3), "e1", 10)
        assert [c.key for c in claimed] == ["rec"]
        statuses = {n.key: n.status for n in alerts.notifications()}
        assert statuses["late"] == DeliveryStatus.SUPERSEDED

    def test_suppressed_rows_are_never_claimed(self, alerts: AlertStore, api: Check) -> None:
        assert api.id is not None
        row = replace(
            page("k~suppressed", None, api.id), status=DeliveryStatus.SUPPRESSED, reason="maintenance"
        )
        alerts.write_plan([row], [], [], at(0))
        assert alerts.claim_due(at(1), "e1", 10) == []
        assert alerts.notifications()[0].reason == "maintenance"

    def test_settled_incidents_leave_the_planning_set(self, alerts: AlertStore, api: Check) -> None:
        incident = alerts.apply_flip(down(api), api, Severity.CRITICAL)
        assert incident is not None
        assert incident.id is not None
        alerts.apply_flip(up(api, 5), api, Severity.CRITICAL)
        assert [i.id for i in alerts.unsettled_incidents()] == [incident.id]
        alerts.write_plan([], [], [incident.id], at(6))
        assert alerts.unsettled_incidents() == []

    def test_open_flap_episodes_are_found_from_their_keys(self, alerts: AlertStore, api: Check) -> None:
        assert api.id is not None
        alerts.write_plan(
            [
                page(f"flap:{api.id}:1000:ops", None, api.id),
                page(f"flap:{api.id}:500:ops", None, api.id),
                page(f"flap:{api.id}:500:stable:ops", None, api.id),
            ],
            [],
            [],
            at(0),
        )
        episodes = alerts.open_flap_episodes(at(-10))
        assert list(episodes) == [api.id]
        assert int(episodes[api.id].timestamp() * 1_000_000) == 1000


class TestSilences:
    def test_add_list_and_end(self, alerts: AlertStore) -> None:
        silence = alerts.add_silence(
            Silence(Scope(tags=("prod",)), at(3600), "ana@x.test", "migration", at(0))
        )
        assert silence.id is not None
        assert silence.scope.tags == ("prod",)
        assert [s.id for s in alerts.silences(at(10))] == [silence.id]
        assert alerts.silences(at(3600)) == []
        ended = alerts.end_silence(silence.id, at(20))
        assert ended.ended_at == at(20)
        assert alerts.silences(at(30)) == []
        assert [s.id for s in alerts.silences(at(30), include_ended=True)] == [silence.id]
        with pytest.raises(NotFoundError):
            alerts.end_silence(999, at(0))
