"""Condition properties: parsing is total, well-formed text round-trips, no evaluation raises."""

from __future__ import annotations

import json
import operator
import re
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pulsewatch.domain.conditions import (
    Condition,
    ConditionSyntaxError,
    JsonPath,
    Pattern,
    ProbeFacts,
    check_conditions,
    parse_condition,
)

quick = settings(max_examples=200, deadline=None)

FRAGMENTS = [
    "[STATUS]",
    "[BODY]",
    "[body]",
    "[IP]",
    "[CONNECTED]",
    "[CERTIFICATE_EXPIRATION]",
    "[DNS_RCODE]",
    "[RESPONSE_TIME]",
    "[NOPE]",
    "[",
    "]",
    "(",
    ")",
    ".",
    ",",
    " ",
    "  ",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "len(",
    "has(",
    "pat(",
    "any(",
    "foo(",
    '"',
    "'",
    "\\",
    "*",
    "?",
    "a",
    "0",
    "12",
    "-1",
    "1.5",
    "48h",
    "1h30m",
    "2x",
    "true",
    "false",
    "NOERROR",
    "[0]",
    ".a",
    "ok",
    "\n",
    "é",
]


def parses_or_fails_cleanly(text: str) -> Condition | None:
    """parse_condition either returns a Condition of exactly this text or raises a located error."""
    try:
        condition = parse_condition(text)
    except ConditionSyntaxError as caught:
        error = caught
    else:
        assert condition.source == text
        assert condition.placeholders
        return condition
    assert 0 <= error.column <= len(text)
    assert error.message
    assert f" at column {error.column}" in str(error)
    return None


class TestParsingIsTotal:
    @quick
    @given(st.text(max_size=80))
    def test_arbitrary_text(self, text: str) -> None:
        parses_or_fails_cleanly(text)

    @quick
    @given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
    @example("[BODY].a[99999999999999999999999999] == 1")
    @example("[BODY] == pat(" + "(" * 500)
    @example("[STATUS] == " + "9" * 5000)
    @example("[CERTIFICATE_EXPIRATION] > " + "9" * 400 + "d")
    def test_grammar_soup(self, text: str) -> None:
        parses_or_fails_cleanly(text)


# --- well-formed conditions -------------------------------------------------------------------------

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,7}", fullmatch=True)
steps = st.lists(st.one_of(keys, st.integers(0, 20)), min_size=1, max_size=4)
spaces = st.sampled_from(["", " ", "  ", "\t"])
numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(-1e9, 1e9, allow_nan=False).map(lambda f: f"{f:.3f}"),
)
durations = st.lists(
    st.tuples(st.integers(0, 999), st.sampled_from(["ms", "s", "m", "h", "d"])), min_size=1, max_size=3
).map(lambda parts: "".join(f"{n}{unit}" for n, unit in parts))
words = st.from_regex(r"[A-Za-z0-9_.:/-]{1,12}", fullmatch=True).filter(
    lambda w: w.lower() not in ("true", "false")
)
quoted = st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"')
globs = st.from_regex(r"[A-Za-z0-9*?.<>/ -]{1,12}", fullmatch=True).filter(lambda g: g.strip())


def path_text(path_steps: list[str | int]) -> str:
    return "[BODY]" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path_steps)


@st.composite
def well_formed(draw: st.DrawFn, *, operators: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=")) -> str:
    """A condition built from the grammar, respecting the parse-time rules (numbers against numbers...)."""
    path = path_text(draw(steps))
    left, kind = draw(
        st.sampled_from(
            [
                ("[STATUS]", "number"),
                ("[RESPONSE_TIME]", "number"),
                ("[CERTIFICATE_EXPIRATION]", "number"),
                (f"len({path})", "number"),
                ("len([BODY])", "number"),
                ("[CONNECTED]", "bool"),
                (f"has({path})", "bool"),
                ("has([BODY])", "bool"),
                ("[IP]", "text"),
                ("[DNS_RCODE]", "text"),
                ("[BODY]", "any"),
                (path, "any"),
                ("[body]", "any"),
            ]
        )
    )
    allowed = [o for o in operators if o in ("==", "!=") or kind in ("number", "any")]
    op = draw(st.sampled_from(allowed))
    numeric = numbers | durations if left != "[STATUS]" else numbers
    if kind == "bool":
        right = draw(st.sampled_from(["true", "false", "TRUE", "False"]))
    elif op not in ("==", "!="):
        right = draw(numeric | st.sampled_from(["[STATUS]", "[RESPONSE_TIME]", path]))
    elif kind == "number":
        right = draw(numeric | numeric.map(lambda n: f"any({n}, 200)") | globs.map(lambda g: f"pat({g})"))
    else:
        value = words | quoted | numbers
        right = draw(
            value
            | globs.map(lambda g: f"pat({g})")
            | st.lists(
                value.filter(lambda v: "," not in v and "(" not in v and ")" not in v), min_size=1, max_size=3
            ).map(lambda vs: f"any({', '.join(vs)})")
            | st.just(path)
        )
    return f"{draw(spaces)}{left}{draw(spaces)}{op}{draw(spaces)}{right}{draw(spaces)}"


# --- arbitrary probe facts ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "items", "status", "id", "0", "x-y"]), children, max_size=4
        )
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.none(),
    st.text(max_size=60),
    json_values.map(json.dumps),
    st.sampled_from(["", "   ", "[" * 5000, '{"a":' * 3000, "NaN", "1e999", "-0", '"a"', "<html>ok</html>"]),
)
floats_any = st.none() | st.floats() | st.integers(-(10**6), 10**6).map(float)
probe_facts = st.builds(
    ProbeFacts,
    status=st.none() | st.integers(),
    response_time_ms=floats_any,
    body=bodies,
    connected=st.none() | st.booleans(),
    certificate_expiration_s=floats_any,
    dns_rcode=st.none()
    | st.sampled_from(["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"])
    | st.text(max_size=8),
    ip=st.none() | st.ip_addresses().map(str) | st.text(max_size=20),
)

present_facts = st.builds(
    ProbeFacts,
    status=st.integers(100, 599),
    response_time_ms=st.floats(0, 1e5),
    body=json_values.map(json.dumps) | st.text(max_size=20),
    connected=st.booleans(),
    certificate_expiration_s=st.floats(-1e8, 1e8),
    dns_rcode=st.sampled_from(["NOERROR", "NXDOMAIN"]),
    ip=st.ip_addresses().map(str),
)
"""Facts where every placeholder has a value, so only JSON paths can be unavailable."""

FIXED = [
    parse_condition(text)
    for text in (
        "[STATUS] == 200",
        "[STATUS] < 300",
        "[STATUS] == any(200, 429)",
        "[STATUS] == pat(2*)",
        "[RESPONSE_TIME] < 500",
        "[RESPONSE_TIME] >= 1s",
        "[BODY] == ok",
        "[BODY] != pat(*error*)",
        "[BODY] > 5",
        "[BODY].status == ok",
        "[BODY].a.b[0] != 1",
        "[BODY][0].id <= 3",
        "[BODY].items > [BODY].id",
        "[BODY].a == [BODY].b",
        "len([BODY].items) > 0",
        "len([BODY]) == 3",
        "len([IP]) > 1",
        "has([BODY].errors) == false",
        "has([BODY]) == true",
        "[CONNECTED] == true",
        "[CERTIFICATE_EXPIRATION] > 14d",
        "[CERTIFICATE_EXPIRATION] <= 1h30m",
        "[DNS_RCODE] == NOERROR",
        "[DNS_RCODE] == any(NOERROR, NXDOMAIN)",
        "[IP] == 127.0.0.1",
        "[IP] == pat(192.168.*)",
        '[BODY].status == any(ok, "fine", 1)',
        "[BODY].0 == x",
        "[BODY].x-y != null",
    )
]


def assert_sane(condition: Condition, probe: ProbeFacts) -> None:
    outcome = condition.evaluate(probe)
    assert outcome.source == condition.source
    assert isinstance(outcome.passed, bool)
    if outcome.passed:
        assert outcome.description == condition.source.strip()
    else:
        assert outcome.description.startswith(f"expected {condition.source.strip()}, ")
    # shown values are clipped: a failing description stays readable whatever the body
    assert len(outcome.description) <= 2 * len(condition.source) + 200


class TestWellFormedConditions:
    @quick
    @given(well_formed())
    def test_they_parse_and_keep_their_text(self, text: str) -> None:
        condition = parse_condition(text)
        assert condition.source == text
        assert condition == parse_condition(text)
        assert condition.placeholders <= {  # every name the language knows
            "[STATUS]",
            "[RESPONSE_TIME]",
            "[BODY]",
            "[CONNECTED]",
            "[CERTIFICATE_EXPIRATION]",
            "[DNS_RCODE]",
            "[IP]",
        }
        assert_sane(condition, ProbeFacts())

    @quick
    @given(steps, spaces)
    def test_json_paths_round_trip(self, path_steps: list[str | int], space: str) -> None:
        text = f"{path_text(path_steps)}{space}=={space}1"
        left = parse_condition(text).left
        assert left == JsonPath(path_text(path_steps), tuple(path_steps))


class TestEvaluationIsTotal:
    @quick
    @given(st.sampled_from(FIXED), probe_facts)
    def test_fixed_conditions_on_arbitrary_facts(self, condition: Condition, probe: ProbeFacts) -> None:
        assert_sane(condition, probe)

    @quick
    @given(well_formed(), probe_facts)
    def test_generated_conditions_on_arbitrary_facts(self, text: str, probe: ProbeFacts) -> None:
        assert_sane(parse_condition(text), probe)

    @quick
    @given(probe_facts)
    def test_check_conditions_gives_one_outcome_each(self, probe: ProbeFacts) -> None:
        outcomes = check_conditions(FIXED, probe)
        assert [o.source for o in outcomes] == [c.source for c in FIXED]


class TestSemantics:
    @quick
    @given(well_formed(operators=("==",)), present_facts)
    def test_not_equal_is_the_opposite_of_equal_when_the_value_is_there(
        self, text: str, probe: ProbeFacts
    ) -> None:
        equal = parse_condition(text).evaluate(probe)
        different = parse_condition(text.replace("==", "!=", 1)).evaluate(probe)
        if ", but " in equal.description:  # unavailable values fail both ways
            assert not equal.passed
            assert not different.passed
        else:
            assert equal.passed != different.passed

    @quick
    @given(
        st.integers(-(10**6), 10**6),
        st.integers(-(10**6), 10**6),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    )
    def test_status_compares_like_python(self, status: int, value: int, op: str) -> None:
        python_operators = {
            "==": operator.eq,
            "!=": operator.ne,
            "<": operator.lt,
            "<=": operator.le,
            ">": operator.gt,
            ">=": operator.ge,
        }
        compare = python_operators[op]
        outcome = parse_condition(f"[STATUS] {op} {value}").evaluate(ProbeFacts(status=status))
        assert outcome.passed is compare(status, value)

    @quick
    @given(st.integers(-(10**9), 10**9) | st.booleans() | st.text(alphabet="abc xyz", min_size=1, max_size=8))
    def test_a_json_value_equals_itself_written_as_a_literal(self, value: Any) -> None:
        literal = json.dumps(value)  # strings come out quoted, as the language wants them
        probe = ProbeFacts(body=json.dumps({"k": value}))
        assert parse_condition(f"[BODY].k == {literal}").evaluate(probe).passed

    @quick
    @given(st.text(alphabet="ab*?", min_size=1, max_size=10), st.text(alphabet="ab", max_size=12))
    def test_globs_match_like_the_equivalent_regex(self, glob: str, value: str) -> None:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
        right = parse_condition(f"[BODY] == pat({glob})").right
        assert isinstance(right, Pattern)
        assert right.matches(value) is (re.fullmatch(regex, value, re.DOTALL) is not None)
