"""Domain objects for the storage tests, built directly (no config file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulsewatch.domain.monitoring import Check, HttpOptions

T0 = datetime(2025, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC)
"""A fixed instant with microseconds, so round-trips prove sub-second precision survives."""


def at(seconds: float) -> datetime:
    """`T0` plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def make_check(name: str, **fields: object) -> Check:
    """An HTTP check on a local URL; keyword arguments override any field."""
    values: dict[str, object] = {"url": f"http://127.0.0.1:8080/{name}", "kind": "http"}
    values.update(fields)
    return Check(name=name, **values)  # type: ignore[arg-type]


def rich_check(name: str = "api") -> Check:
    """A check with every field away from its default."""
    return make_check(
        name,
        url="https://api.example.test:8443/health?deep=1",
        kind="https",
        interval=30.0,
        timeout=2.5,
        failure_threshold=3,
        success_threshold=2,
        retries=1,
        org="acme",
        team="web",
        tags=("prod", "eu"),
        depends_on=("db",),
        notify=("ops", "pager"),
        paused=False,
        http=HttpOptions(
            method="POST",
            headers=(("Accept", "application/json"), ("X-Token", "t0k")),
            body='{"ping": true}',
            follow_redirects=False,
            max_redirects=0,
            verify_tls=False,
            max_body_bytes=4096,
        ),
    )
