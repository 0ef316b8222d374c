"""The spool file: records survive the line format, appends are read back in order, offsets and locks hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from engine.evaluator import Record
from engine.spool import Spool, decode, encode, orphans, spool_path
from pulsewatch.domain.monitoring import CheckState, ConditionOutcome, Flip, ProbeResult, Status

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2025, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC)


def record(i: int, *, ok: bool = True, observed: bool = False) -> Record:
    at = T0 + timedelta(seconds=i)
    result = ProbeResult(
        check_id=i % 3 + 1, started_at=at, duration_ms=12.5 + i, ok=ok, status_code=200 if ok else 503,
        error=None if ok else "condition", message="" if ok else "expected [STATUS] == 200, got 503 «x»",
        outcomes=() if ok else (ConditionOutcome("[STATUS] == 200", False, "got 503"),), engine="e-1",
        degraded=False,
    )
    state = CheckState(check_id=result.check_id, status=Status.UP if ok else Status.DOWN, since=T0,
                       consecutive_failures=0 if ok else 3, consecutive_successes=i, last_checked_at=at,
                       last_latency_ms=12.5, last_error="" if ok else "boom", flapping=not ok)
    flip = None if ok else Flip(check_id=result.check_id, at=at, old=Status.UP, new=Status.DOWN, reason="x")
    return Record(result=result, state=state, flip=flip, writes_state=not observed)


class TestLineFormat:
    @pytest.mark.parametrize("rec", [record(1), record(2, ok=False), record(3, observed=True),
                                     Record(result=None, state=CheckState(check_id=9, status=Status.PAUSED))])
    def test_a_record_reads_back_equal(self, rec: Record) -> None:
        line = encode(rec)

        assert b"\n" not in line
        assert decode(line) == rec


class TestSpoolFile:
    def test_appended_records_are_read_in_order_and_consumed_on_commit(self, tmp_path: Path) -> None:
        spool = Spool(spool_path(tmp_path, "eu/engine 1"))
        assert spool.open()
        spool.append([record(i) for i in range(5)])
        spool.append([record(i) for i in range(5, 8)])

        first, offset, lines = spool.read(6)
        assert first == [record(i) for i in range(6)]
        assert spool.unread == 8
        spool.commit(offset, lines)
        rest, offset, lines = spool.read(100)
        assert rest == [record(i) for i in range(6, 8)]
        spool.commit(offset, lines)

        assert spool.unread == 0
        assert spool.path.stat().st_size == 0  # truncated once empty
        spool.close()
        assert not spool.path.exists()

    def test_a_reopened_spool_resumes_after_the_committed_offset(self, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "e.jsonl")
        assert spool.open()
        spool.append([record(i) for i in range(4)])
        _, offset, lines = spool.read(3)
        spool.commit(offset, lines)
        spool.close()

        again = Spool(tmp_path / "e.jsonl")
        assert again.open()

        assert again.unread == 1
        assert again.read(10)[0] == [record(3)]

    def test_prepended_records_come_before_the_unread_ones_and_stay_locked(self, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "e.jsonl")
        assert spool.open()
        spool.append([record(i) for i in range(3, 6)])
        _, offset, lines = spool.read(1)
        spool.commit(offset, lines)  # record 3 is written

        spool.prepend([record(1), record(2)])

        assert spool.unread == 4
        assert spool.read(10)[0] == [record(1), record(2), record(4), record(5)]
        assert not Spool(tmp_path / "e.jsonl").open()  # the new file is locked too

    def test_a_torn_last_line_is_cut(self, tmp_path: Path) -> None:
        path = tmp_path / "e.jsonl"
        path.write_bytes(encode(record(1)) + b"\n" + encode(record(2))[:20])
        spool = Spool(path)
        assert spool.open()
        spool.append([record(3)])

        assert spool.read(10)[0] == [record(1), record(3)]

    def test_a_spool_in_use_cannot_be_opened_again(self, tmp_path: Path) -> None:
        first = Spool(tmp_path / "e.jsonl")
        assert first.open()

        assert not Spool(tmp_path / "e.jsonl").open()
        first.close()
        assert Spool(tmp_path / "e.jsonl").open()

    def test_orphans_are_the_other_spool_files(self, tmp_path: Path) -> None:
        for name in ("a.jsonl", "b.jsonl", "b.offset"):
            (tmp_path / name).write_text("")

        assert orphans(tmp_path, tmp_path / "a.jsonl") == [tmp_path / "b.jsonl"]
        assert orphans(tmp_path / "missing", tmp_path / "a.jsonl") == []
