"""Checks read back from the store share their common parts (engine.storage.shared_parts).

An engine restarted on a synced database rebuilds every check from its stored spec; thousands of
checks with the same options and conditions then hold one copy of them, not thousands.
"""

from __future__ import annotations

import pytest

from engine.storage.store import SqlStore
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import HttpOptions
from pulsewatch.errors import StorageError
from tests.storage.backends import raw_sql
from tests.storage.factories import make_check


def conditions(*sources: str) -> tuple[object, ...]:
    return tuple(parse_condition(s) for s in sources)


def test_checks_with_equal_options_and_conditions_share_them(store: SqlStore) -> None:
    options = HttpOptions(method="HEAD", headers=(("X-Probe", "1"),))
    store.sync_checks([
        make_check("a", http=options, conditions=conditions("[STATUS] == 200", "[RESPONSE_TIME] < 300")),
        make_check("b", http=options, conditions=conditions("[STATUS] == 200", "[RESPONSE_TIME] < 300")),
        make_check("c", http=HttpOptions(method="POST"), conditions=conditions("[STATUS] == 201")),
    ])

    a, b, c = store.load_checks()
    assert a.http is b.http
    assert a.http == options
    assert a.conditions is b.conditions
    assert [x.source for x in a.conditions] == ["[STATUS] == 200", "[RESPONSE_TIME] < 300"]
    assert c.http.method == "POST"
    assert [x.source for x in c.conditions] == ["[STATUS] == 201"]


def test_a_stored_condition_that_no_longer_parses_is_named(store: SqlStore) -> None:
    store.sync_checks([make_check("a", conditions=conditions("[STATUS] == 200", "[BODY] == ok"))])
    raw_sql(store, "UPDATE checks SET spec = REPLACE(spec, '[BODY] == ok', '[BODY] === ok')")

    with pytest.raises(StorageError, match=r"check default/a: stored condition '\[BODY\] === ok' no longer"):
        store.load_checks()
