"""Peewee records: the tables, and the translation between their rows and the domain objects.

Record classes never leave `engine.storage`; each has `to_domain()` and `from_domain()`.

Every instant is a BIGINT of microseconds since the Unix epoch, UTC (`fields.InstantField`, which
says why). Each record also has `COLUMNS` and `row()`: the database values of a domain object in one
tuple, which the store's batch writes hand straight to the driver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import (
    BigAutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DoubleField,
    IntegerField,
    Model,
    TextField,
)

from engine.storage.fields import InstantField, StableAutoField, to_micros
from engine.storage.shared_parts import parsed_conditions, shared
from pulsewatch.domain.heartbeats import HeartbeatSpec
from pulsewatch.domain.monitoring import (
    CONFIG_ORIGIN,
    Check,
    CheckState,
    ConditionOutcome,
    Flip,
    HttpOptions,
    ProbeResult,
    Status,
    StreamOptions,
    TlsOptions,
)
from pulsewatch.errors import StorageError

database = DatabaseProxy()
"""Bound to the open store's database by `open_store` (one open store per process)."""

TEXT_LIMIT = 4000
"""Free-text columns (messages, errors, reasons) are cut here: one absurd probe message must not make a
whole batch fail on MySQL's TEXT limit, and both backends then keep the same text."""

WORD_LIMIT = 64
"""Short machine words (error kind, engine name)."""


def _cut(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BaseRecord(Model):  # type: ignore[misc]
    """Every table lives in the store's database."""

    class Meta:
        database = database
        legacy_table_names = False


@dataclass(frozen=True)
class AppliedMigration:
    """One row of the schema_version table."""

    version: int
    description: str
    applied_at: datetime


class SchemaVersionRecord(BaseRecord):
    """Which schema versions have been applied; the highest is the database's version."""

    version = IntegerField(primary_key=True)
    description = CharField(max_length=200, default="")
    applied_at = InstantField()

    class Meta:
        table_name = "schema_version"

    def to_domain(self) -> AppliedMigration:
        return AppliedMigration(self.version, self.description, self.applied_at)

    @classmethod
    def from_domain(cls, applied: AppliedMigration) -> SchemaVersionRecord:
        return cls(version=applied.version, description=applied.description, applied_at=applied.applied_at)


class CheckRecord(BaseRecord):
    """A configured check. Columns hold what is queried; `spec` (JSON) holds every other field, so a
    new Check field needs no migration — a spec without it loads with the field's default."""

    id = StableAutoField()
    org = CharField(max_length=100)
    name = CharField(max_length=200)
    kind = CharField(max_length=16)
    url = TextField()
    spec = TextField()
    fingerprint = CharField(max_length=64)
    created_at = InstantField()
    updated_at = InstantField()

    class Meta:
        table_name = "checks"
        indexes = ((("org", "name"), True),)

    def to_domain(self) -> Check:
        """The domain Check; stored condition sources are parsed again.

        Raises:
            StorageError: the spec is unreadable or a stored condition no longer parses.
        """
        try:
            spec: dict[str, Any] = json.loads(self.spec)
        except ValueError as exc:
            raise StorageError(f"check {self.org}/{self.name}: unreadable stored spec: {exc}") from None
        kwargs: dict[str, Any] = {k: spec[k] for k in _SCALAR_SPEC_KEYS if k in spec}
        kwargs.update({k: tuple(spec[k]) for k in _TUPLE_SPEC_KEYS if k in spec})
        if "http" in spec:
            http = dict(spec["http"])
            http["headers"] = tuple((str(k), str(v)) for k, v in http.get("headers", ()))
            kwargs["http"] = shared(HttpOptions(**http))
        if "tls" in spec:
            kwargs["tls"] = shared(TlsOptions(**spec["tls"]))
        if "stream" in spec:
            kwargs["stream"] = shared(StreamOptions(**spec["stream"]))
        if spec.get("soft_conditions"):
            kwargs["soft_conditions"] = _parse_conditions(self.org, self.name, spec["soft_conditions"])
        if spec.get("heartbeat"):
            kwargs["heartbeat"] = HeartbeatSpec(**spec["heartbeat"])
        conditions = spec.get("conditions") or ()
        if conditions:
            kwargs["conditions"] = _parse_conditions(self.org, self.name, conditions)
        return Check(id=self.id, org=self.org, name=self.name, kind=self.kind, url=self.url, **kwargs)

    @classmethod
    def from_domain(cls, check: Check, *, now: datetime) -> CheckRecord:
        """A record for `check` (its id kept when it has one), stamped created/updated at `now`."""
        spec = {
            "interval": check.interval,
            "timeout": check.timeout,
            "conditions": [c.source for c in check.conditions],
            "failure_threshold": check.failure_threshold,
            "success_threshold": check.success_threshold,
            "retries": check.retries,
            "team": check.team,
            "tags": list(check.tags),
            "depends_on": list(check.depends_on),
            "notify": list(check.notify),
            "paused": check.paused,
            "http": {
                "method": check.http.method,
                "headers": [list(h) for h in check.http.headers],
                "body": check.http.body,
                "follow_redirects": check.http.follow_redirects,
                "max_redirects": check.http.max_redirects,
                "verify_tls": check.http.verify_tls,
                "max_body_bytes": check.http.max_body_bytes,
                "proxy": check.http.proxy,
            },
            "soft_conditions": [c.source for c in check.soft_conditions],
            "retry_interval": check.retry_interval,
            "ip_version": check.ip_version,
            "packets": check.packets,
            "tls": {
                "ca_file": check.tls.ca_file,
                "client_cert": check.tls.client_cert,
                "client_key": check.tls.client_key,
            },
            "stream": {"send": check.stream.send, "expect": check.stream.expect},
        }
        if check.heartbeat is not None:
            spec["heartbeat"] = check.heartbeat.as_dict()
        if check.origin != CONFIG_ORIGIN:  # only then: config checks keep the spec text they had
            spec["origin"] = check.origin
        return cls(
            id=check.id,
            org=check.org,
            name=check.name,
            kind=check.kind,
            url=check.url,
            spec=json.dumps(spec, sort_keys=True, separators=(",", ":")),
            fingerprint=check.fingerprint(),
            created_at=now,
            updated_at=now,
        )


_SCALAR_SPEC_KEYS = (
    "interval",
    "timeout",
    "failure_threshold",
    "success_threshold",
    "retries",
    "team",
    "paused",
    "retry_interval",
    "ip_version",
    "packets",
    "origin",
)
_TUPLE_SPEC_KEYS = ("tags", "depends_on", "notify")


def _parse_conditions(org: str, name: str, sources: list[str]) -> tuple[Any, ...]:
    # Imported here so storage works (with condition-less checks) even where the conditions
    # module is being rebuilt; it is pure and cheap to import.
    from pulsewatch.domain.conditions import ConditionSyntaxError, parse_condition

    try:
        return parsed_conditions(tuple(sources))  # checks with the same list share one tuple
    except ConditionSyntaxError:
        pass
    for source in sources:  # which one fails, for the message
        try:
            parse_condition(source)
        except ConditionSyntaxError as exc:
            raise StorageError(
                f"check {org}/{name}: stored condition {source!r} no longer parses ({exc.message}); "
                "apply the configuration again"
            ) from None
    raise AssertionError("a condition list failed to parse, but none of its conditions does")


class CheckStateRecord(BaseRecord):
    """What is believed about a check now: one row per check, upserted by the engine.

    No foreign key to `checks`, on purpose: a result for a check that a config sync removed a moment
    earlier must not make the engine's whole batch fail. Orphans are ignored on read and swept by
    the next sync.
    """

    check_id = IntegerField(primary_key=True)
    status = CharField(max_length=16)
    since = InstantField(null=True)
    consecutive_failures = IntegerField(default=0)
    consecutive_successes = IntegerField(default=0)
    last_checked_at = InstantField(null=True)
    last_latency_ms = DoubleField(null=True)
    last_error = TextField(default="")
    flapping = BooleanField(default=False)

    class Meta:
        table_name = "check_states"
        indexes = ((("since",), False),)  # attach mode reads states whose status changed lately

    COLUMNS = (
        "check_id",
        "status",
        "since",
        "consecutive_failures",
        "consecutive_successes",
        "last_checked_at",
        "last_latency_ms",
        "last_error",
        "flapping",
    )

    @staticmethod
    def row(state: CheckState) -> tuple[Any, ...]:
        """The database values of `state`, in `COLUMNS` order: the batch-write fast path."""
        return (
            state.check_id,
            state.status.value,
            None if state.since is None else to_micros(state.since),
            state.consecutive_failures,
            state.consecutive_successes,
            None if state.last_checked_at is None else to_micros(state.last_checked_at),
            state.last_latency_ms,
            _cut(state.last_error),
            state.flapping,
        )

    def to_domain(self) -> CheckState:
        return CheckState(
            check_id=self.check_id,
            status=Status(self.status),
            since=self.since,
            consecutive_failures=self.consecutive_failures,
            consecutive_successes=self.consecutive_successes,
            last_checked_at=self.last_checked_at,
            last_latency_ms=self.last_latency_ms,
            last_error=self.last_error,
            flapping=bool(self.flapping),
        )

    @classmethod
    def from_domain(cls, state: CheckState) -> CheckStateRecord:
        record = cls(**dict(zip(cls.COLUMNS, cls.row(state), strict=True)))
        record.since, record.last_checked_at = state.since, state.last_checked_at
        return record


class ResultRecord(BaseRecord):
    """One probe attempt, kept compact: the engine writes thousands a second.

    Condition outcomes are kept (as compact JSON) only for failed and degraded results: for a success
    they are all "passed" and would only repeat the check's conditions, so successes read back with none.
    """

    id = BigAutoField()
    check_id = IntegerField()
    started_at = InstantField()
    duration_ms = DoubleField()
    ok = BooleanField()
    status_code = IntegerField(null=True)
    error = CharField(max_length=WORD_LIMIT, null=True)
    message = TextField(default="")
    outcomes = TextField(null=True)
    engine = CharField(max_length=WORD_LIMIT, default="")
    degraded = BooleanField(default=False)

    class Meta:
        table_name = "results"
        indexes = ((("check_id", "started_at"), False),)

    COLUMNS = (
        "check_id",
        "started_at",
        "duration_ms",
        "ok",
        "status_code",
        "error",
        "message",
        "outcomes",
        "engine",
        "degraded",
    )

    @staticmethod
    def row(result: ProbeResult) -> tuple[Any, ...]:
        """The database values of `result`, in `COLUMNS` order: the batch-write fast path."""
        outcomes = None
        if (not result.ok or result.degraded) and result.outcomes:
            outcomes = json.dumps(
                [[o.source, o.passed, _cut(o.description)] for o in result.outcomes],
                separators=(",", ":"),
                ensure_ascii=False,
            )
        return (
            result.check_id,
            to_micros(result.started_at),
            result.duration_ms,
            result.ok,
            result.status_code,
            None if result.error is None else _cut(result.error, WORD_LIMIT),
            _cut(result.message),
            outcomes,
            _cut(result.engine, WORD_LIMIT),
            result.degraded,
        )

    def to_domain(self) -> ProbeResult:
        outcomes: tuple[ConditionOutcome, ...] = ()
        if self.outcomes:
            outcomes = tuple(ConditionOutcome(s, bool(p), d) for s, p, d in json.loads(self.outcomes))
        return ProbeResult(
            check_id=self.check_id,
            started_at=self.started_at,
            duration_ms=self.duration_ms,
            ok=bool(self.ok),
            status_code=self.status_code,
            error=self.error,
            message=self.message,
            outcomes=outcomes,
            engine=self.engine,
            degraded=bool(self.degraded),
        )

    @classmethod
    def from_domain(cls, result: ProbeResult) -> ResultRecord:
        record = cls(**dict(zip(cls.COLUMNS, cls.row(result), strict=True)))
        record.started_at = result.started_at
        return record


class FlipRecord(BaseRecord):
    """A persisted status transition."""

    id = BigAutoField()
    check_id = IntegerField()
    at = InstantField()
    old = CharField(max_length=16)
    new = CharField(max_length=16)
    reason = TextField(default="")

    class Meta:
        table_name = "flips"
        indexes = ((("check_id", "at"), False),)

    COLUMNS = ("check_id", "at", "old", "new", "reason")

    @staticmethod
    def row(flip: Flip) -> tuple[Any, ...]:
        """The database values of `flip` (its id is assigned by the database), in `COLUMNS` order."""
        return (flip.check_id, to_micros(flip.at), flip.old.value, flip.new.value, _cut(flip.reason))

    def to_domain(self) -> Flip:
        return Flip(
            check_id=self.check_id,
            at=self.at,
            old=Status(self.old),
            new=Status(self.new),
            reason=self.reason,
            id=self.id,
        )

    @classmethod
    def from_domain(cls, flip: Flip) -> FlipRecord:
        record = cls(**dict(zip(cls.COLUMNS, cls.row(flip), strict=True)))
        record.at = flip.at
        if flip.id is not None:
            record.id = flip.id
        return record

