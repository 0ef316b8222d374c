"""Checks with the same conditions share one parsed tuple (config_checks), and bad ones are still
reported at every place they appear."""

from __future__ import annotations

import pytest

from pulsewatch.config import parse_config
from pulsewatch.errors import ConfigError

CHECKS = """
checks:
  - {name: a, url: "http://a.test/", conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]}
  - {name: b, url: "http://b.test/", conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]}
  - {name: c, url: "http://c.test/", conditions: ["[STATUS] == 201"]}
  - {name: d, url: "http://d.test/"}
  - {name: e, url: "http://e.test/"}
"""


def test_identical_condition_lists_are_one_tuple() -> None:
    a, b, c, d, e = parse_config(CHECKS).checks
    assert a.conditions is b.conditions
    assert [x.source for x in a.conditions] == ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
    assert c.conditions[0].source == "[STATUS] == 201"
    assert d.conditions is e.conditions  # the kind's built-in conditions
    assert d.conditions


def test_a_bad_condition_is_reported_for_each_check_that_has_it() -> None:
    text = """
checks:
  - {name: a, url: "http://a.test/", conditions: ["[STATUS] === 200"]}
  - {name: b, url: "http://b.test/", conditions: ["[STATUS] === 200"]}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    invalid = [p for p in caught.value.problems if "invalid condition" in p]
    assert len(invalid) == 2
    assert {p.split(": ")[0].split(":")[1] for p in invalid} == {"3", "4"}  # both lines named
