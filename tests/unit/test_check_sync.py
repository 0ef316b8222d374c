"""Config sync plans: checks are matched by (org, name) and compared by fingerprint."""

from __future__ import annotations

from dataclasses import replace

from pulsewatch.domain.monitoring import Check
from pulsewatch.services.check_sync import plan_check_sync


def check(name: str, url: str = "http://127.0.0.1/", **kw: object) -> Check:
    return Check(name=name, url=url, kind="http", **kw)  # type: ignore[arg-type]


def test_it_adds_changes_removes_and_keeps() -> None:
    stored = [check("a", id=1), check("b", id=2), check("c", id=3)]
    desired = [check("a"), check("b", url="http://127.0.0.1:81/"), check("d")]
    plan = plan_check_sync(desired, stored)
    assert [c.name for c in plan.added] == ["d"]
    assert [(c.name, c.id, c.url) for c in plan.changed] == [("b", 2, "http://127.0.0.1:81/")]
    assert [(c.name, c.id) for c in plan.removed] == [("c", 3)]
    assert [(c.name, c.id) for c in plan.unchanged] == [("a", 1)]
    assert not plan.is_empty


def test_same_name_in_two_orgs_are_different_checks() -> None:
    plan = plan_check_sync([check("a", org="x")], [check("a", org="y", id=1)])
    assert [c.org for c in plan.added] == ["x"]
    assert [c.org for c in plan.removed] == ["y"]


def test_an_identical_config_is_an_empty_plan() -> None:
    stored = [check("a", id=1, interval=30.0)]
    plan = plan_check_sync([replace(stored[0], id=None)], stored)
    assert plan.is_empty
    assert plan.unchanged == (stored[0],)


def test_every_definition_field_counts_as_a_change() -> None:
    base = check("a", id=1)
    for change in ({"interval": 5.0}, {"timeout": 1.0}, {"failure_threshold": 3}, {"tags": ("x",)},
                   {"retries": 2}, {"notify": ("ops",)}):
        plan = plan_check_sync([replace(base, id=None, **change)], [base])  # type: ignore[arg-type]
        assert len(plan.changed) == 1, change
