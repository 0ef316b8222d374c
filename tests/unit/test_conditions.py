"""The condition language: what parses, what is refused (and at which column), and what on-call reads."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from pulsewatch.domain.conditions import (
    AnyOf,
    ConditionSyntaxError,
    Has,
    JsonPath,
    Length,
    Literal,
    Pattern,
    Placeholder,
    ProbeFacts,
    check_conditions,
    parse_condition,
)
from pulsewatch.domain.monitoring import Check, ConditionOutcome

DAY = 86_400.0


class TestParse:
    @pytest.mark.parametrize(
        ("text", "placeholders"),
        [
            ("[STATUS] == 200", {"[STATUS]"}),
            ("[STATUS]==200", {"[STATUS]"}),
            ("[STATUS]<=299", {"[STATUS]"}),
            ("\t [STATUS] == 200 \n", {"[STATUS]"}),
            ("[status] == 200", {"[STATUS]"}),
            ("[RESPONSE_TIME] < 500", {"[RESPONSE_TIME]"}),
            ("[RESPONSE_TIME] < 1s", {"[RESPONSE_TIME]"}),
            ("[BODY] == 1", {"[BODY]"}),
            ("[BODY].a.b[0].c == x", {"[BODY]"}),
            ("[BODY][0].x == 2", {"[BODY]"}),
            ("[BODY].x-request-id == abc", {"[BODY]"}),
            ("[BODY].age == [BODY].id", {"[BODY]"}),
            ("[CONNECTED] == true", {"[CONNECTED]"}),
            ("[CERTIFICATE_EXPIRATION] > 48h", {"[CERTIFICATE_EXPIRATION]"}),
            ("[CERTIFICATE_EXPIRATION] > 1h30m", {"[CERTIFICATE_EXPIRATION]"}),
            ("[CERTIFICATE_EXPIRATION] > 172800000", {"[CERTIFICATE_EXPIRATION]"}),
            ("[DNS_RCODE] == NOERROR", {"[DNS_RCODE]"}),
            ("[IP] == 127.0.0.1", {"[IP]"}),
            ("[IP] == any(127.0.0.1, ::1)", {"[IP]"}),
            ("len([BODY].items) > 0", {"[BODY]"}),
            ("LEN([BODY].items) > 0", {"[BODY]"}),
            ("len([IP]) == 9", {"[IP]"}),
            ("has([BODY]) == true", {"[BODY]"}),
            ("has([BODY].errors) == false", {"[BODY]"}),
            ("[BODY] == pat(*<h1>Example Domain</h1>*)", {"[BODY]"}),
            ('[BODY] == pat(*"status":"ok"*)', {"[BODY]"}),
            ('[BODY] == pat("*a)b*")', {"[BODY]"}),
            ("[STATUS] < [RESPONSE_TIME]", {"[STATUS]", "[RESPONSE_TIME]"}),
            ("-1 < [STATUS]", {"[STATUS]"}),
            ('[BODY].msg == "say \\"hi\\""', {"[BODY]"}),
            ("[BODY].url == http://x/?a=1", {"[BODY]"}),
        ],
    )
    def test_it_parses_and_names_its_placeholders(self, text: str, placeholders: set[str]) -> None:
        condition = parse_condition(text)
        assert condition.source == text
        assert str(condition) == text
        assert condition.placeholders == frozenset(placeholders)

    @pytest.mark.parametrize(
        ("text", "left", "operator", "right"),
        [
            ("[STATUS] == 200", Placeholder("[STATUS]"), "==", Literal("200", 200)),
            (
                "[BODY].data[0].id != 1.5",
                JsonPath("[BODY].data[0].id", ("data", 0, "id")),
                "!=",
                Literal("1.5", 1.5),
            ),
            ("[BODY][2][0] == x", JsonPath("[BODY][2][0]", (2, 0)), "==", Literal("x")),
            (
                "[CERTIFICATE_EXPIRATION] >= 14d",
                Placeholder("[CERTIFICATE_EXPIRATION]"),
                ">=",
                Literal("14d", 14 * 86_400_000),
            ),
            ("[RESPONSE_TIME] < 1.5s", Placeholder("[RESPONSE_TIME]"), "<", Literal("1.5s", 1500)),
            ("[CONNECTED] == TRUE", Placeholder("[CONNECTED]"), "==", Literal("true")),
            ('[BODY] == "a b"', Placeholder("[BODY]"), "==", Literal("a b")),
            (
                "len([BODY].a) > 0",
                Length(JsonPath("[BODY].a", ("a",)), "len([BODY].a)"),
                ">",
                Literal("0", 0),
            ),
            ("has( [BODY] ) == false", Has(Placeholder("[BODY]"), "has( [BODY] )"), "==", Literal("false")),
            (
                '[STATUS] == any(200, "429")',
                Placeholder("[STATUS]"),
                "==",
                AnyOf((Literal("200", 200), Literal("429", 429)), 'any(200, "429")'),
            ),
        ],
    )
    def test_it_builds_the_ast(self, text: str, left: object, operator: str, right: object) -> None:
        condition = parse_condition(text)
        assert (condition.left, condition.operator, condition.right) == (left, operator, right)

    def test_a_pattern_keeps_its_glob(self) -> None:
        right = parse_condition("[BODY] == pat( *<h1>Example Domain</h1>* )").right
        assert isinstance(right, Pattern)
        assert right.glob == "*<h1>Example Domain</h1>*"

    def test_it_is_a_value_object(self) -> None:
        a, b = parse_condition("[BODY].a == pat(x*)"), parse_condition("[BODY].a == pat(x*)")
        assert a == b
        assert hash(a) == hash(b)
        assert a != parse_condition("[BODY].a == pat(y*)")

    def test_a_check_can_hold_conditions(self) -> None:
        check = Check(
            name="api", url="http://127.0.0.1/", kind="http", conditions=(parse_condition("[STATUS] == 200"),)
        )
        assert hash(check) == hash(replace(check))
        assert check.fingerprint() == replace(check).fingerprint()


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        ("text", "column", "message"),
        [
            # empty, missing sides, missing or bad operators
            ("", 0, "empty condition"),
            ("   ", 0, "empty condition"),
            ("== 200", 0, "missing value before '=='"),
            (" < 5", 1, "missing value before '<'"),
            ("[STATUS] ==", 11, "missing value after '=='"),
            ("[STATUS] == ", 12, "missing value after '=='"),
            ("[STATUS]", 8, "missing operator after [STATUS]"),
            ("[STATUS] 200", 9, "unexpected '200': expected an operator"),
            ("[STATUS] = 200", 9, "unknown operator '='"),
            ("[STATUS] => 200", 9, "unknown operator '=>'"),
            ("[STATUS] === 200", 9, "unknown operator '==='"),
            ("[STATUS] == 200 == 300", 16, "unexpected '==': a condition has one operator"),
            ("[STATUS] == 200 300", 16, "unexpected '300'"),
            ("[BODY] == hello world", 16, "quote values that contain spaces"),
            # unknown placeholders and functions
            ("[STAUS] == 200", 0, "unknown placeholder [STAUS]: did you mean [STATUS]?"),
            ("[DOMAIN_EXPIRATION] > 720h", 0, "unknown placeholder [DOMAIN_EXPIRATION]"),
            ("[STATUS] == [NOPE]", 12, "unknown placeholder [NOPE]"),
            ("foo([BODY]) == 1", 0, "unknown function 'foo()'"),
            ("lem([BODY].a) == 1", 0, "did you mean len()?"),
            ("[STATUS] == size(3)", 12, "unknown function 'size()'"),
            ("STATUS == 200", 0, "neither side uses a placeholder: did you mean [STATUS]?"),
            ("1 == 1", 0, "neither side uses a placeholder"),
            # brackets, parentheses, quotes
            ("[STATUS == 200", 0, "unclosed '['"),
            ("[STATUS]] == 200", 8, "unexpected ']'"),
            ("[STATUS]) == 200", 8, "unexpected ')'"),
            ("[STATUS] == )", 12, "unexpected ')': expected a value"),
            ("[STATUS] == (200)", 12, "unexpected '('"),
            ("[STATUS] == 200)", 15, "unexpected ')'"),
            ("len([BODY].a == 1", 3, "unclosed '('"),
            ("len([BODY].a", 3, "unclosed '('"),
            ("len([BODY].a x) == 1", 13, "unexpected 'x'"),
            ("[BODY] == pat(abc", 13, "unclosed '('"),
            ("[BODY] == pat(a(b)", 13, "unclosed '('"),
            ("[STATUS] == any(1, 2", 15, "unclosed '('"),
            ("[STATUS] == any(1 (2))", 18, "unexpected '('"),
            ('[BODY] == "abc', 10, "unclosed quote"),
            ("[BODY] == 'abc", 10, "unclosed quote"),
            # JSON paths
            ("[BODY].a[0 == 1", 8, "unclosed '['"),
            ("[BODY].a[x] == 1", 9, "expected an array index"),
            ("[BODY].a[] == 1", 9, "expected an array index"),
            ("[BODY].a[-1] == 1", 9, "expected an array index"),
            ("[BODY].a[0x] == 1", 10, "unexpected 'x': expected ']'"),
            ("[BODY].a[99999999999999999999] == 1", 9, "array index too large"),
            ("[BODY]. == 1", 6, "missing key after '.'"),
            ("[BODY].a..b == 1", 8, "missing key after '.'"),
            ("[STATUS].code == 1", 8, "[STATUS] has no JSON path"),
            # functions in the wrong place, with the wrong argument
            ("pat(a*) == [IP]", 0, "pat() belongs on the right-hand side"),
            ("any(1, 2) == [STATUS]", 0, "any() belongs on the right-hand side"),
            ("[STATUS] < any(1, 2)", 11, "any() works only with == and !="),
            ("[STATUS] >= pat(2*)", 12, "pat() works only with == and !="),
            ("len() == 1", 4, "len() needs a placeholder"),
            ("len(5) == 1", 4, "unexpected '5'"),
            ("len(len([BODY])) == 1", 4, "unexpected 'len'"),
            ("has([STATUS]) == true", 4, "has() works only on [BODY]"),
            ("[STATUS] == any()", 16, "any() needs at least one value"),
            ("[STATUS] == any(1,,2)", 18, "empty value in any()"),
            ("[STATUS] == any(1,)", 18, "empty value in any()"),
            ("[BODY] == pat()", 14, "pat() needs a pattern"),
            # values that can never match
            ("[CERTIFICATE_EXPIRATION] > 48x", 27, "bad duration '48x'"),
            ("[CERTIFICATE_EXPIRATION] > 2w", 27, "bad duration '2w'"),
            ("[CERTIFICATE_EXPIRATION] > 14days", 27, "bad duration '14days'"),
            ("[RESPONSE_TIME] < 1sec", 18, "bad duration '1sec'"),
            ("[CERTIFICATE_EXPIRATION] > soon", 27, "'soon' is not a number"),
            ("[STATUS] == 2XX", 12, "'2XX' is not a number: [STATUS] is a number; for a range use pat(2*)"),
            ("[STATUS] == ok", 12, "'ok' is not a number"),
            ("[STATUS] == any(200, ok)", 21, "'ok' is not a number"),
            ("[BODY].count > many", 15, "'many' is not a number: '>' compares numbers"),
            ('[BODY].count > "7 days"', 15, '"7 days" is not a number'),
            ("len([BODY].a) == x", 17, "'x' is not a number: len([BODY].a) is a number"),
            ("[CONNECTED] == yes", 15, "'yes' is not true or false: [CONNECTED] is true or false"),
            ("has([BODY].a) == 1", 17, "'1' is not true or false"),
            ("[IP] < 5", 0, "'<' compares numbers and [IP] is not one"),
            ("5 > [IP]", 4, "'>' compares numbers and [IP] is not one"),
            ("[DNS_RCODE] > 1", 0, "[DNS_RCODE] is not one"),
            ("[CONNECTED] >= true", 0, "[CONNECTED] is not one"),
            ("has([BODY].a) < 1", 0, "has([BODY].a) is not one"),
        ],
    )
    def test_it_names_the_problem_and_its_column(self, text: str, column: int, message: str) -> None:
        with pytest.raises(ConditionSyntaxError) as caught:
            parse_condition(text)
        error = caught.value
        assert message in error.message
        assert error.column == column
        assert f"at column {column}" in str(error)

    def test_the_error_reads_like_a_sentence(self) -> None:
        with pytest.raises(ConditionSyntaxError) as caught:
            parse_condition("[STATUS] == )")
        assert str(caught.value) == "unexpected ')' at column 12: expected a value"
        assert caught.value.message == "unexpected ')': expected a value"
        assert isinstance(caught.value, ValueError)

    def test_an_error_without_a_hint_has_no_trailing_colon(self) -> None:
        error = ConditionSyntaxError("bad", 3)
        assert (str(error), error.message) == ("bad at column 3", "bad")


def facts(**kwargs: Any) -> ProbeFacts:
    return ProbeFacts(**kwargs)


class TestEvaluate:
    @pytest.mark.parametrize(
        ("text", "probe", "passed", "description"),
        [
            # [STATUS] with every operator, any() and pat()
            ("[STATUS] == 200", facts(status=200), True, "[STATUS] == 200"),
            ("[STATUS] == 200", facts(status=503), False, "expected [STATUS] == 200, got 503"),
            ("  [STATUS]==200 ", facts(status=503), False, "expected [STATUS]==200, got 503"),
            ("[STATUS] != 500", facts(status=500), False, "expected [STATUS] != 500, got 500"),
            ("[STATUS] != 500", facts(status=200), True, "[STATUS] != 500"),
            ("[STATUS] < 300", facts(status=299), True, "[STATUS] < 300"),
            ("[STATUS] < 300", facts(status=301), False, "expected [STATUS] < 300, got 301"),
            ("[STATUS] <= 299", facts(status=299), True, "[STATUS] <= 299"),
            ("[STATUS] > 400", facts(status=400), False, "expected [STATUS] > 400, got 400"),
            ("[STATUS] >= 400", facts(status=400), True, "[STATUS] >= 400"),
            ("200 == [STATUS]", facts(status=503), False, "expected 200 == [STATUS], got 503"),
            ("[STATUS] == any(200, 429)", facts(status=429), True, "[STATUS] == any(200, 429)"),
            (
                "[STATUS] == any(200, 429)",
                facts(status=503),
                False,
                "expected [STATUS] == any(200, 429), got 503",
            ),
            ("[STATUS] != any(500, 502)", facts(status=200), True, "[STATUS] != any(500, 502)"),
            (
                "[STATUS] != any(500, 502)",
                facts(status=502),
                False,
                "expected [STATUS] != any(500, 502), got 502",
            ),
            ("[STATUS] == pat(2*)", facts(status=204), True, "[STATUS] == pat(2*)"),
            ("[STATUS] == pat(2*)", facts(status=404), False, "expected [STATUS] == pat(2*), got 404"),
            ("[STATUS] == 200", facts(), False, "expected [STATUS] == 200, but there was no HTTP status"),
            ("[STATUS] != 200", facts(), False, "expected [STATUS] != 200, but there was no HTTP status"),
            # [RESPONSE_TIME]: milliseconds, durations accepted
            (
                "[RESPONSE_TIME] < 500",
                facts(response_time_ms=812.0),
                False,
                "expected [RESPONSE_TIME] < 500, got 812",
            ),
            (
                "[RESPONSE_TIME] < 500",
                facts(response_time_ms=812.37),
                False,
                "expected [RESPONSE_TIME] < 500, got 812.4",
            ),
            ("[RESPONSE_TIME] < 500", facts(response_time_ms=499.6), True, "[RESPONSE_TIME] < 500"),
            ("[RESPONSE_TIME] < 1s", facts(response_time_ms=999.0), True, "[RESPONSE_TIME] < 1s"),
            (
                "[RESPONSE_TIME] < 1s",
                facts(response_time_ms=1200.0),
                False,
                "expected [RESPONSE_TIME] < 1s, got 1200",
            ),
            (
                "[RESPONSE_TIME] < 500",
                facts(),
                False,
                "expected [RESPONSE_TIME] < 500, but there was no response time",
            ),
            # [BODY]: the whole text, trimmed as Gatus does
            ("[BODY] == 1", facts(body="1\n"), True, "[BODY] == 1"),
            ("[BODY] == ok", facts(body="nope"), False, 'expected [BODY] == ok, got "nope"'),
            ('[BODY] == "hello world"', facts(body="hello world"), True, '[BODY] == "hello world"'),
            (
                "[BODY] == pat(*<h1>Example Domain</h1>*)",
                facts(body="<p><h1>Example Domain</h1></p>"),
                True,
                "[BODY] == pat(*<h1>Example Domain</h1>*)",
            ),
            (
                '[BODY] == pat(*"status":"ok"*)',
                facts(body='{"status":"ok"}'),
                True,
                '[BODY] == pat(*"status":"ok"*)',
            ),
            ("[BODY] != pat(*error*)", facts(body="all good"), True, "[BODY] != pat(*error*)"),
            (
                "[BODY] != pat(*error*)",
                facts(body="an error\n"),
                False,
                'expected [BODY] != pat(*error*), got "an error"',
            ),
            ("[BODY] == ok", facts(), False, "expected [BODY] == ok, but there was no body"),
            # JSON paths
            ("[BODY].status == ok", facts(body='{"status":"ok"}'), True, "[BODY].status == ok"),
            (
                "[BODY].status == ok",
                facts(body='{"status":"degraded"}'),
                False,
                'expected [BODY].status == ok, got "degraded"',
            ),
            ("[Body].Status == ok", facts(body='{"Status":"ok"}'), True, "[Body].Status == ok"),
            (
                "[BODY].user.name == john",
                facts(body='{"user":{"name":"john"}}'),
                True,
                "[BODY].user.name == john",
            ),
            ("[BODY].data[0].id == 1", facts(body='{"data":[{"id":1}]}'), True, "[BODY].data[0].id == 1"),
            ("[BODY][0].x == 2", facts(body='[{"x":2}]'), True, "[BODY][0].x == 2"),
            ("[BODY][1] == b", facts(body='["a","b"]'), True, "[BODY][1] == b"),
            ("[BODY].a[0][1] == 3", facts(body='{"a":[[2,3]]}'), True, "[BODY].a[0][1] == 3"),
            (
                "[BODY].x-request-id == abc",
                facts(body='{"x-request-id":"abc"}'),
                True,
                "[BODY].x-request-id == abc",
            ),
            (
                "[BODY].data.id == 1",
                facts(body='{"data":{}}'),
                False,
                "expected [BODY].data.id == 1, but [BODY].data.id is missing",
            ),
            (
                "[BODY].items[5] == 1",
                facts(body='{"items":[1]}'),
                False,
                "expected [BODY].items[5] == 1, but [BODY].items[5] is missing",
            ),
            (
                "[BODY].status.code == 1",
                facts(body='{"status":"ok"}'),
                False,
                "expected [BODY].status.code == 1, but [BODY].status.code is missing",
            ),
            (
                "[BODY].a == 1",
                facts(body='[{"a":1}]'),
                False,
                "expected [BODY].a == 1, but [BODY].a is missing",
            ),
            (
                "[BODY].msg != bad",
                facts(body="{}"),
                False,
                "expected [BODY].msg != bad, but [BODY].msg is missing",
            ),
            (
                "[BODY].a == 1",
                facts(body="<html>"),
                False,
                "expected [BODY].a == 1, but the body is not JSON",
            ),
            ("[BODY].a == 1", facts(body=""), False, "expected [BODY].a == 1, but the body is not JSON"),
            ("[BODY].a == 1", facts(), False, "expected [BODY].a == 1, but there was no body"),
            ("[BODY].id == 1", facts(body='{"id":1.0}'), True, "[BODY].id == 1"),
            ("[BODY].id == 1", facts(body='{"id":"1"}'), True, "[BODY].id == 1"),
            ("[BODY].id == 01", facts(body='{"id":1}'), True, "[BODY].id == 01"),
            ("[BODY].id == 1", facts(body='{"id":true}'), False, "expected [BODY].id == 1, got true"),
            ("[BODY].ok == true", facts(body='{"ok":true}'), True, "[BODY].ok == true"),
            ("[BODY].ok == true", facts(body='{"ok":false}'), False, "expected [BODY].ok == true, got false"),
            ("[BODY].v == null", facts(body='{"v":null}'), True, "[BODY].v == null"),
            (
                "[BODY].obj == x",
                facts(body='{"obj": {"a": 1}}'),
                False,
                'expected [BODY].obj == x, got {"a":1}',
            ),
            ("[BODY].ttl == 5m", facts(body='{"ttl":"5m"}'), True, "[BODY].ttl == 5m"),
            (
                "[BODY].url == http://x/?a=1",
                facts(body='{"url":"http://x/?a=1"}'),
                True,
                "[BODY].url == http://x/?a=1",
            ),
            ('[BODY].msg == "a b"', facts(body='{"msg":"a b"}'), True, '[BODY].msg == "a b"'),
            ("[BODY].age == [BODY].id", facts(body='{"age":1,"id":1}'), True, "[BODY].age == [BODY].id"),
            (
                "[BODY].age == [BODY].id",
                facts(body='{"age":1,"id":2}'),
                False,
                "expected [BODY].age == [BODY].id, got 1 and 2",
            ),
            (
                "[BODY].age < [BODY].id",
                facts(body='{"age":1}'),
                False,
                "expected [BODY].age < [BODY].id, but [BODY].id is missing",
            ),
            ("[BODY].count > 5", facts(body='{"count":7}'), True, "[BODY].count > 5"),
            ("[BODY].count > 5", facts(body='{"count":"7"}'), True, "[BODY].count > 5"),
            (
                "[BODY].count > 5",
                facts(body='{"count":"many"}'),
                False,
                'expected [BODY].count > 5, but [BODY].count is "many", not a number',
            ),
            (
                "[BODY].count > 5",
                facts(body='{"count":true}'),
                False,
                "expected [BODY].count > 5, but [BODY].count is true, not a number",
            ),
            (
                "[BODY].count > 5",
                facts(body='{"count":[1]}'),
                False,
                "expected [BODY].count > 5, but [BODY].count is [1], not a number",
            ),
            (
                "[BODY] > 5",
                facts(body="<html>"),
                False,
                'expected [BODY] > 5, but [BODY] is "<html>", not a number',
            ),
            (
                "[BODY].name == pat(john*)",
                facts(body='{"name":"john.doe"}'),
                True,
                "[BODY].name == pat(john*)",
            ),
            (
                "[BODY].name == pat(john*)",
                facts(body='{"name":"bob"}'),
                False,
                'expected [BODY].name == pat(john*), got "bob"',
            ),
            ("[BODY].id == any(1, 2)", facts(body='{"id":2}'), True, "[BODY].id == any(1, 2)"),
            (
                "[BODY].id == any(1, 2)",
                facts(body='{"id":3}'),
                False,
                "expected [BODY].id == any(1, 2), got 3",
            ),
            (
                "[BODY].ip == any(127.0.0.1, ::1)",
                facts(body='{"ip":"::1"}'),
                True,
                "[BODY].ip == any(127.0.0.1, ::1)",
            ),
            ('[BODY].s == any("a, b", c)', facts(body='{"s":"a, b"}'), True, '[BODY].s == any("a, b", c)'),
            # len()
            (
                "len([BODY].items) > 0",
                facts(body='{"items":[]}'),
                False,
                "expected len([BODY].items) > 0, got 0",
            ),
            ("len([BODY].data) < 5", facts(body='{"data":[{"id":1}]}'), True, "len([BODY].data) < 5"),
            ("len([BODY].name) == 8", facts(body='{"name":"john.doe"}'), True, "len([BODY].name) == 8"),
            (
                "len([BODY].name) == 8",
                facts(body='{"name":"bob"}'),
                False,
                "expected len([BODY].name) == 8, got 3",
            ),
            ("len([BODY].obj) == 2", facts(body='{"obj":{"a":1,"b":2}}'), True, "len([BODY].obj) == 2"),
            ("len([BODY].n) == 3", facts(body='{"n":123}'), True, "len([BODY].n) == 3"),
            ("len([BODY]) == 3", facts(body="[1, 2, 3]"), True, "len([BODY]) == 3"),
            ("len([BODY]) == 5", facts(body=" hello "), True, "len([BODY]) == 5"),
            (
                "len([BODY].items) > 0",
                facts(body="{}"),
                False,
                "expected len([BODY].items) > 0, but [BODY].items is missing",
            ),
            ("len([IP]) == 9", facts(ip="127.0.0.1"), True, "len([IP]) == 9"),
            # has()
            ("has([BODY].errors) == false", facts(body='{"name":"x"}'), True, "has([BODY].errors) == false"),
            (
                "has([BODY].errors) == false",
                facts(body='{"errors":[]}'),
                False,
                "expected has([BODY].errors) == false, got true",
            ),
            ("has([BODY].users) == true", facts(body='{"users":[]}'), True, "has([BODY].users) == true"),
            (
                "has([BODY].users) == true",
                facts(body="{}"),
                False,
                "expected has([BODY].users) == true, got false",
            ),
            ("has([BODY].name) == true", facts(body='{"name":""}'), True, "has([BODY].name) == true"),
            ("has([BODY].v) == true", facts(body='{"v":null}'), True, "has([BODY].v) == true"),
            ("has([BODY].a) == false", facts(body="not json"), True, "has([BODY].a) == false"),
            ("has([BODY].a) == false", facts(), True, "has([BODY].a) == false"),
            ("has([BODY]) == true", facts(body="x"), True, "has([BODY]) == true"),
            ("has([BODY]) == true", facts(body="  "), False, "expected has([BODY]) == true, got false"),
            # [CONNECTED]
            ("[CONNECTED] == true", facts(connected=True), True, "[CONNECTED] == true"),
            ("[CONNECTED] == TRUE", facts(connected=True), True, "[CONNECTED] == TRUE"),
            ("[CONNECTED] == true", facts(connected=False), False, "expected [CONNECTED] == true, got false"),
            ("[CONNECTED] == false", facts(connected=False), True, "[CONNECTED] == false"),
            (
                "[CONNECTED] == true",
                facts(),
                False,
                "expected [CONNECTED] == true, but the connection state is unknown",
            ),
            # [CERTIFICATE_EXPIRATION]: durations, shown humanized
            (
                "[CERTIFICATE_EXPIRATION] > 48h",
                facts(certificate_expiration_s=3 * DAY),
                True,
                "[CERTIFICATE_EXPIRATION] > 48h",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 14d",
                facts(certificate_expiration_s=3 * DAY + 4 * 3600 + 59),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 14d, got 3d 4h",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 14d",
                facts(certificate_expiration_s=3 * DAY + 30),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 14d, got 3d",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 30m",
                facts(certificate_expiration_s=90.0),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 30m, got 1m 30s",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 500ms",
                facts(certificate_expiration_s=0.2),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 500ms, got 200ms",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 0",
                facts(certificate_expiration_s=-2 * DAY),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 0, got -2d",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 86400000",
                facts(certificate_expiration_s=2 * DAY),
                True,
                "[CERTIFICATE_EXPIRATION] > 86400000",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 1h30m",
                facts(certificate_expiration_s=5460.0),
                True,
                "[CERTIFICATE_EXPIRATION] > 1h30m",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 1.5d",
                facts(certificate_expiration_s=1.4 * DAY),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 1.5d, got 1d 9h",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 48h",
                facts(),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 48h, but there was no certificate",
            ),
            (
                "[CERTIFICATE_EXPIRATION] > 14d",
                facts(certificate_expiration_s=-1e300),
                False,
                "expected [CERTIFICATE_EXPIRATION] > 14d, got -1.16e+295d",
            ),
            # [DNS_RCODE]
            ("[DNS_RCODE] == NOERROR", facts(dns_rcode="NOERROR"), True, "[DNS_RCODE] == NOERROR"),
            (
                "[DNS_RCODE] == NOERROR",
                facts(dns_rcode="NXDOMAIN"),
                False,
                "expected [DNS_RCODE] == NOERROR, got NXDOMAIN",
            ),
            (
                "[DNS_RCODE] == any(NOERROR, NXDOMAIN)",
                facts(dns_rcode="NXDOMAIN"),
                True,
                "[DNS_RCODE] == any(NOERROR, NXDOMAIN)",
            ),
            ("[DNS_RCODE] != SERVFAIL", facts(dns_rcode="REFUSED"), True, "[DNS_RCODE] != SERVFAIL"),
            (
                "[DNS_RCODE] == NOERROR",
                facts(),
                False,
                "expected [DNS_RCODE] == NOERROR, but there was no DNS response code",
            ),
            # [IP]
            ("[IP] == 127.0.0.1", facts(ip="127.0.0.1"), True, "[IP] == 127.0.0.1"),
            ("[IP] == 127.0.0.1", facts(ip="10.0.0.1"), False, "expected [IP] == 127.0.0.1, got 10.0.0.1"),
            ("[IP] == ::1", facts(ip="::1"), True, "[IP] == ::1"),
            ("[IP] == pat(192.168.*)", facts(ip="192.168.4.2"), True, "[IP] == pat(192.168.*)"),
            (
                "[IP] == pat(192.168.*)",
                facts(ip="10.0.0.1"),
                False,
                "expected [IP] == pat(192.168.*), got 10.0.0.1",
            ),
            (
                "[IP] == 127.0.0.1",
                facts(),
                False,
                "expected [IP] == 127.0.0.1, but the IP address is unknown",
            ),
            # two placeholders
            (
                "[STATUS] < [RESPONSE_TIME]",
                facts(status=200, response_time_ms=12.0),
                False,
                "expected [STATUS] < [RESPONSE_TIME], got 200 and 12",
            ),
        ],
    )
    def test_it_judges_and_explains(
        self, text: str, probe: ProbeFacts, passed: bool, description: str
    ) -> None:
        outcome = parse_condition(text).evaluate(probe)
        assert outcome == ConditionOutcome(source=text, passed=passed, description=description)

    @pytest.mark.parametrize(
        ("glob", "value", "matches"),
        [
            ("*", "", True),
            ("*", "anything at all", True),
            ("2*", "204", True),
            ("2*", "304", False),
            ("*ok*", "all ok here", True),
            ("a?c", "abc", True),
            ("a?c", "ac", False),
            ("a?c", "abbc", False),
            ("*a*b*c*", "xaxbxcx", True),
            ("*a*b*c*", "cba", False),
            ("a*a", "a", False),
            ("a*a", "aa", True),
            ("?*?", "a", False),
            ("?*?", "ab", True),
            ("*?x", "x", False),
            ("*?x", "ax", True),
            ("*.example.com", "api.example.com", True),
            ("*.example.com", "example.com", False),
            ("a.c", "abc", False),
            ("[ab]", "[ab]", True),
            ("[ab]", "a", False),
            ("a\\b", "a\\b", True),
            ("*ab*ab*", "abab", True),
            ("*ab*ab*", "aba", False),
            ("*é?", "café!", True),
        ],
    )
    def test_pat_matches_globs(self, glob: str, value: str, matches: bool) -> None:
        assert parse_condition(f"[BODY] == pat({glob})").evaluate(facts(body=value)).passed is matches

    def test_long_values_are_shortened(self) -> None:
        outcome = parse_condition("[BODY] == pat(*ok*)").evaluate(facts(body="x" * 10_000))
        assert outcome.description.startswith('expected [BODY] == pat(*ok*), got "xxxx')
        assert outcome.description.endswith('…"')
        assert len(outcome.description) < 120

    def test_long_json_values_are_shortened(self) -> None:
        body = json.dumps({"items": list(range(1000))})
        outcome = parse_condition("[BODY].items == x").evaluate(facts(body=body))
        assert outcome.description.startswith("expected [BODY].items == x, got [0,1,2,")
        assert outcome.description.endswith("…")
        assert len(outcome.description) < 120

    def test_control_characters_are_escaped_in_descriptions(self) -> None:
        outcome = parse_condition("[BODY] == ok").evaluate(facts(body="line 1\nline 2"))
        assert outcome.description == 'expected [BODY] == ok, got "line 1\\nline 2"'

    def test_absurdly_nested_json_is_just_not_json(self) -> None:
        outcome = parse_condition("[BODY].a == 1").evaluate(facts(body="[" * 100_000))
        assert outcome.description == "expected [BODY].a == 1, but the body is not JSON"


class TestProbeFacts:
    def test_the_body_is_parsed_once_for_all_conditions(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls: list[str] = []
        real_loads = json.loads

        def counting_loads(text: str) -> object:
            calls.append(text)
            return real_loads(text)

        monkeypatch.setattr(json, "loads", counting_loads)  # the module looks it up per call
        probe = facts(status=200, body='{"a": 1, "items": [1, 2]}')
        texts = [
            "[STATUS] == 200",
            "[BODY].a == 1",
            "len([BODY].items) == 2",
            "has([BODY].b) == false",
            "len([BODY]) == 2",
        ]
        outcomes = check_conditions([parse_condition(t) for t in texts], probe)
        assert [o.passed for o in outcomes] == [True] * 5
        assert len(calls) == 1

    def test_the_cache_is_invisible_to_equality_and_replace(self) -> None:
        probe = facts(body='{"a": 1}')
        assert parse_condition("[BODY].a == 1").evaluate(probe).passed
        assert probe == facts(body='{"a": 1}')
        assert hash(probe) == hash(facts(body='{"a": 1}'))
        assert "_conditions_json" not in repr(probe)
        changed = replace(probe, body='{"a": 2}')
        assert parse_condition("[BODY].a == 2").evaluate(changed).passed


class TestCheckConditions:
    def test_it_keeps_the_order_of_the_conditions(self) -> None:
        parsed = [
            parse_condition(t) for t in ("[STATUS] == 200", "[RESPONSE_TIME] < 500", "[BODY].ok == true")
        ]
        outcomes = check_conditions(parsed, facts(status=200, response_time_ms=900.0, body='{"ok": true}'))
        assert isinstance(outcomes, tuple)
        assert [(o.source, o.passed) for o in outcomes] == [
            ("[STATUS] == 200", True),
            ("[RESPONSE_TIME] < 500", False),
            ("[BODY].ok == true", True),
        ]

    def test_no_conditions_no_outcomes(self) -> None:
        assert check_conditions([], facts()) == ()

    def test_it_accepts_any_iterable(self) -> None:
        parsed = (parse_condition(t) for t in ("[STATUS] == 200", "[STATUS] == 201"))
        assert [o.passed for o in check_conditions(parsed, facts(status=201))] == [False, True]
