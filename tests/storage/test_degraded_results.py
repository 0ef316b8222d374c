"""Degraded results and the new check options survive storage, on both backends; step 5 adds the column."""

from __future__ import annotations

import pytest

from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import ConditionOutcome, ProbeResult, StreamOptions, TlsOptions
from tests.storage.backends import raw_sql
from tests.storage.factories import at, make_check


@pytest.fixture
def check_id(store: SqlStore) -> int:
    (check,) = store.sync_checks([make_check("api")]).added
    assert check.id is not None
    return check.id


def degraded(check_id: int) -> ProbeResult:
    return ProbeResult(
        check_id=check_id,
        started_at=at(1),
        duration_ms=1203.5,
        ok=True,
        status_code=200,
        error="degraded",
        message="expected [RESPONSE_TIME] < 800, got 1203.5",
        outcomes=(
            ConditionOutcome("[STATUS] == 200", True, "[STATUS] == 200"),
            ConditionOutcome("[RESPONSE_TIME] < 800", False, "expected [RESPONSE_TIME] < 800, got 1203.5"),
        ),
        engine="engine-eu-1",
        degraded=True,
    )


class TestDegradedResults:
    def test_a_degraded_result_reads_back_identical_with_its_outcomes(
        self, store: SqlStore, check_id: int
    ) -> None:
        healthy = ProbeResult(check_id=check_id, started_at=at(0), duration_ms=12.0, ok=True, status_code=200)
        store.record([healthy, degraded(check_id)], [], [])

        assert store.recent_results(check_id, 10) == [degraded(check_id), healthy]

    def test_step_5_adds_the_column_to_an_older_database(self, store_url: str) -> None:
        store = open_store(store_url)
        try:
            raw_sql(store, "ALTER TABLE results DROP COLUMN degraded")
            raw_sql(store, "DELETE FROM schema_version WHERE version >= 5")
            before = store.schema_version()
            assert before < 5
            assert store.upgrade()[1] >= 5
            assert "degraded" in {c.name for c in store._db.get_columns("results")}
            (check,) = store.sync_checks([make_check("api")]).added
            assert check.id is not None
            store.record([degraded(check.id)], [], [])
            assert store.recent_results(check.id, 1) == [degraded(check.id)]
        finally:
            store.close()


class TestCheckOptions:
    def test_probe_options_of_every_kind_survive_a_round_trip(self, store: SqlStore) -> None:
        check = make_check(
            "redis",
            url="tcp://127.0.0.1:6379",
            kind="tcp",
            soft_conditions=(parse_condition("[RESPONSE_TIME] < 50"),),
            retry_interval=2.5,
            ip_version=6,
            packets=5,
            tls=TlsOptions(ca_file="/etc/ca.pem", client_cert="/etc/c.pem", client_key="/etc/k.pem"),
            stream=StreamOptions(send="PING\r\n", expect="+PONG"),
        )
        (saved,) = store.sync_checks([check]).added

        (loaded,) = store.load_checks()

        assert loaded == saved
        assert loaded.fingerprint() == check.fingerprint()
        assert store.sync_checks([check]).is_empty
