"""The spool: records that wait for the database on local disk, once the recorder's memory bound is reached.

One append-only JSON-lines file per engine under the data directory (`spool/<engine>.jsonl`), locked
with `flock` while its engine runs. Appends are fsync'd per batch; the recorder reads the file back in
order from a read offset that is itself saved (`.offset` beside it) after each batch the database has
taken, so a crash mid-replay writes nothing twice. A fully replayed file is truncated.

A file no running engine holds (its engine crashed, or was force-stopped during an outage) is an
*orphan*: the next engine to start on the host replays its results and flips. Its states are not
replayed: they are older than whatever the checks' current engines have written since.

Every method blocks (file I/O): the recorder calls them in a worker thread.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.evaluator import Record
from pulsewatch.domain.monitoring import CheckState, ConditionOutcome, Flip, ProbeResult, Status

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger("pulsewatch.engine.spool")

SUFFIX = ".jsonl"


def spool_path(directory: Path, engine: str) -> Path:
    """The spool file of the engine called `engine` in `directory`."""
    return directory / (re.sub(r"[^A-Za-z0-9._-]", "_", engine) + SUFFIX)


class Spool:
    """One spool file. Call `open()` first; it fails (returns False) when another process holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset_path = path.with_suffix(".offset")
        self._file: IO[bytes] | None = None
        self._read_offset = 0
        self.unread = 0
        """Records appended and not yet committed as written to the database."""

    def open(self) -> bool:
        """Create or open the file and lock it; False when another process has it locked."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        self._drop_torn_tail()
        self._read_offset = self._saved_offset()
        self.unread = self._count_lines_from(self._read_offset)
        return True

    def append(self, records: Sequence[Record]) -> None:
        """Append records at the end and fsync: they survive a crash from here on."""
        if not records:
            return
        handle = self._handle()
        handle.seek(0, os.SEEK_END)
        handle.write(b"".join(encode(r) + b"\n" for r in records))
        handle.flush()
        os.fsync(handle.fileno())
        self.unread += len(records)

    def prepend(self, records: Sequence[Record]) -> None:
        """Put records *before* everything unread (older records held in memory, at a stop during an
        outage). The file is rewritten beside and swapped in, locked before it is visible."""
        if not records:
            return
        handle = self._handle()
        temporary = self.path.with_suffix(".jsonl.tmp")
        fresh = temporary.open("w+b")
        fcntl.flock(fresh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fresh.write(b"".join(encode(r) + b"\n" for r in records))
        handle.seek(self._read_offset)
        shutil.copyfileobj(handle, fresh)
        fresh.flush()
        os.fsync(fresh.fileno())
        os.replace(temporary, self.path)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
        self._file = fresh
        self._read_offset = 0
        self._offset_path.unlink(missing_ok=True)
        self.unread += len(records)

    def read(self, limit: int) -> tuple[list[Record], int, int]:
        """The next `limit` unread records, oldest first, without consuming them.

        Returns:
            (records, offset after them, lines consumed): pass the last two to `commit()` once the
            database has taken the records. Lines that cannot be decoded are skipped (and logged).
        """
        handle = self._handle()
        handle.seek(self._read_offset)
        records: list[Record] = []
        lines = 0
        while lines < limit:
            line = handle.readline()
            if not line.endswith(b"\n"):
                break
            lines += 1
            try:
                records.append(decode(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("skipping an unreadable spool line in %s: %s", self.path, exc)
        return records, handle.tell(), lines

    def commit(self, offset: int, lines: int) -> None:
        """Mark everything before `offset` as written; an empty spool is truncated."""
        handle = self._handle()
        self._read_offset = offset
        self.unread = max(0, self.unread - lines)
        if self.unread == 0 and offset >= handle.seek(0, os.SEEK_END):
            handle.truncate(0)
            handle.flush()
            os.fsync(handle.fileno())
            self._read_offset = 0
            self._offset_path.unlink(missing_ok=True)
            return
        temporary = self._offset_path.with_suffix(".offset.tmp")
        temporary.write_text(str(offset))
        os.replace(temporary, self._offset_path)

    def close(self) -> None:
        """Unlock and close; an empty spool's files are removed."""
        if self._file is None:
            return
        if self.unread == 0:
            self.path.unlink(missing_ok=True)
            self._offset_path.unlink(missing_ok=True)
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    # -- internals ------------------------------------------------------------------------------

    def _handle(self) -> IO[bytes]:
        if self._file is None:
            raise RuntimeError(f"spool {self.path} is not open")
        return self._file

    def _saved_offset(self) -> int:
        try:
            return int(self._offset_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _drop_torn_tail(self) -> None:
        """A crash during an append can leave half a line: cut it, or the next append would glue to it."""
        handle = self._handle()
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(max(0, size - 65536))
        tail = handle.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        keep = size - len(tail) + cut + 1 if cut >= 0 else 0
        log.warning("cutting a torn last line from spool %s", self.path)
        handle.truncate(keep)

    def _count_lines_from(self, offset: int) -> int:
        handle = self._handle()
        handle.seek(offset)
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def orphans(directory: Path, own: Path) -> list[Path]:
    """Spool files in `directory` other than `own` (whether their engines still run is up to `open()`)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p != own)


# -- the line format -------------------------------------------------------------------------------


def encode(record: Record) -> bytes:
    """One record as one line of compact JSON (no newline)."""
    payload: dict[str, Any] = {"s": _state_out(record.state)}
    if record.result is not None:
        payload["r"] = _result_out(record.result)
    if record.flip is not None:
        payload["f"] = _flip_out(record.flip)
    if not record.writes_state:
        payload["o"] = 1
    if record.ping is not None:
        payload["p"] = record.ping
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def decode(line: bytes) -> Record:
    """A record from its line.

    Raises:
        ValueError, KeyError, TypeError: the line is not a record.
    """
    payload = json.loads(line)
    result = _result_in(payload["r"]) if "r" in payload else None
    flip = _flip_in(payload["f"]) if "f" in payload else None
    return Record(
        result=result, state=_state_in(payload["s"]), flip=flip, writes_state="o" not in payload,
        ping=int(payload["p"]) if "p" in payload else None,
    )


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when_in(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _result_out(r: ProbeResult) -> dict[str, Any]:
    return {
        "c": r.check_id, "t": r.started_at.isoformat(), "d": r.duration_ms, "ok": r.ok, "sc": r.status_code,
        "e": r.error, "m": r.message, "oc": [[o.source, o.passed, o.description] for o in r.outcomes],
        "en": r.engine, "dg": r.degraded,
    }


def _result_in(d: dict[str, Any]) -> ProbeResult:
    return ProbeResult(
        check_id=int(d["c"]), started_at=datetime.fromisoformat(d["t"]), duration_ms=float(d["d"]),
        ok=bool(d["ok"]), status_code=d["sc"], error=d["e"], message=d["m"],
        outcomes=tuple(ConditionOutcome(s, bool(p), t) for s, p, t in d["oc"]), engine=d["en"],
        degraded=bool(d["dg"]),
    )


def _state_out(s: CheckState) -> dict[str, Any]:
    return {
        "c": s.check_id, "st": s.status.value, "since": _when(s.since), "cf": s.consecutive_failures,
        "cs": s.consecutive_successes, "lc": _when(s.last_checked_at), "ll": s.last_latency_ms,
        "le": s.last_error, "fl": s.flapping,
    }


def _state_in(d: dict[str, Any]) -> CheckState:
    return CheckState(
        check_id=int(d["c"]), status=Status(d["st"]), since=_when_in(d["since"]),
        consecutive_failures=int(d["cf"]), consecutive_successes=int(d["cs"]),
        last_checked_at=_when_in(d["lc"]), last_latency_ms=d["ll"], last_error=d["le"],
        flapping=bool(d["fl"]),
    )


def _flip_out(f: Flip) -> dict[str, Any]:
    return {"c": f.check_id, "at": f.at.isoformat(), "o": f.old.value, "n": f.new.value, "why": f.reason}


def _flip_in(d: dict[str, Any]) -> Flip:
    return Flip(
        check_id=int(d["c"]), at=datetime.fromisoformat(d["at"]), old=Status(d["o"]), new=Status(d["n"]),
        reason=d["why"],
    )
