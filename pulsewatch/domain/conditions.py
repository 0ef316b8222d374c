"""The condition language (Gatus placeholders): parsed once into a small AST, evaluated for every probe.

A condition is `<side> <operator> <side>`:
  sides      [STATUS] [RESPONSE_TIME] [BODY] [CONNECTED] [CERTIFICATE_EXPIRATION] [DNS_RCODE] [IP]
             [PACKET_LOSS],
             JSON paths [BODY].a.b[0].c and [BODY][0].x, len(<placeholder>), has(<[BODY] or a path>),
             literals (numbers, durations like 48h or 1h30m read as milliseconds, true/false, bare words,
             "quoted strings" with backslash escapes); on the right only: pat(<glob with * and ?>) and
             any(v1, v2, ...), both with == and != only
  operators  == != < <= > >=  (spaces around them are optional)
Equality compares numbers numerically when both sides read as numbers, else as text, as Gatus does;
ordering needs numbers. A value the probe did not produce (no status, body not JSON, path missing)
fails the condition whatever the operator, and says so.

Parsing (`condition_parser`) happens at config load, so a typo is a config error with a column rather
than a surprise at 3 a.m.; it also rejects what can never be true ([STATUS] == 2XX, [IP] < 5).
This module holds the AST and its evaluation; `condition_values` the numbers, globs and display.
Evaluation is on the engine's hot path: a few attribute reads per side, the body parsed as JSON at
most once per ProbeFacts however many conditions use it, and failure text built only on failure.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from pulsewatch.domain.condition_values import (
    Segment,
    at,
    clip,
    find,
    glob_segments,
    parse_number,
    quote,
    show_duration,
    show_number,
)
from pulsewatch.domain.monitoring import ConditionOutcome


class ConditionSyntaxError(ValueError):
    """A condition that cannot be parsed.

    `message` says what is wrong and what was expected; `column` is the 0-based offset of the problem
    in the condition text; str() reads "unexpected ')' at column 12: expected a value".
    """

    def __init__(self, problem: str, column: int, hint: str = "") -> None:
        super().__init__(problem, column, hint)
        self.problem = problem
        self.column = column
        self.hint = hint
        self.message = f"{problem}: {hint}" if hint else problem

    def __str__(self) -> str:
        where = f"{self.problem} at column {self.column}"
        return f"{where}: {self.hint}" if self.hint else where


@dataclass(frozen=True)
class ProbeFacts:
    """What one probe observed: the values placeholders resolve to. None means "not observed".

    The parsed JSON body is cached on the instance (outside the dataclass fields, so equality and
    `replace()` ignore it): every condition of a check shares one `json.loads`.
    """

    status: int | None = None
    response_time_ms: float | None = None
    body: str | None = None
    connected: bool | None = None
    certificate_expiration_s: float | None = None
    """Seconds until the certificate expires; negative once it has."""
    dns_rcode: str | None = None
    ip: str | None = None
    packet_loss: float | None = None
    """Percent of ICMP echo requests left unanswered (0-100)."""


class _Missing:
    """A value the probe did not give; `reason` completes "expected <condition>, but ..."."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_NO_BODY: Final = _Missing("there was no body")
_NOT_JSON: Final = _Missing("the body is not JSON")
_JSON_CACHE: Final = "_conditions_json"


def _body_json(facts: ProbeFacts) -> object:
    """The body parsed as JSON, or a _Missing; computed once per facts (a benign race across threads)."""
    cache = facts.__dict__
    try:
        return cache[_JSON_CACHE]
    except KeyError:
        pass
    value: object = _NO_BODY
    if facts.body is not None:
        try:
            value = json.loads(facts.body)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting, still "not JSON"
            value = _NOT_JSON
    cache[_JSON_CACHE] = value
    return value


_GETTERS: Final[dict[str, Callable[[ProbeFacts], object]]] = {
    "[STATUS]": lambda f: f.status,
    "[RESPONSE_TIME]": lambda f: f.response_time_ms,
    "[BODY]": lambda f: None if f.body is None else f.body.strip(),
    "[CONNECTED]": lambda f: f.connected,
    "[CERTIFICATE_EXPIRATION]": lambda f: (
        None if f.certificate_expiration_s is None else f.certificate_expiration_s * 1000.0
    ),
    "[DNS_RCODE]": lambda f: f.dns_rcode,
    "[IP]": lambda f: f.ip,
    "[PACKET_LOSS]": lambda f: f.packet_loss,
}
_UNAVAILABLE: Final = {
    "[STATUS]": _Missing("there was no HTTP status"),
    "[RESPONSE_TIME]": _Missing("there was no response time"),
    "[BODY]": _NO_BODY,
    "[CONNECTED]": _Missing("the connection state is unknown"),
    "[CERTIFICATE_EXPIRATION]": _Missing("there was no certificate"),
    "[DNS_RCODE]": _Missing("there was no DNS response code"),
    "[IP]": _Missing("the IP address is unknown"),
    "[PACKET_LOSS]": _Missing("there was no packet loss figure"),
}
PLACEHOLDER_KINDS: Final = {
    "[STATUS]": "number",
    "[RESPONSE_TIME]": "number",
    "[BODY]": "any",
    "[CONNECTED]": "bool",
    "[CERTIFICATE_EXPIRATION]": "number",
    "[DNS_RCODE]": "text",
    "[IP]": "text",
    "[PACKET_LOSS]": "number",
}
"""Every placeholder (in the order messages list them) and the kind of value it holds."""
DURATION_PLACEHOLDERS: Final = ("[CERTIFICATE_EXPIRATION]", "[RESPONSE_TIME]")
"""Placeholders compared in milliseconds, so a duration literal like 48h fits them."""


# --- the AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A constant: compared as `text`, or numerically as `number` when it reads as a number/duration."""

    text: str
    number: int | float | None = None

    def resolve(self, facts: ProbeFacts) -> object:
        return self


@dataclass(frozen=True)
class Placeholder:
    """A fact of the probe, e.g. [STATUS]; `name` is upper-cased with its brackets."""

    name: str

    @property
    def text(self) -> str:
        return self.name

    def resolve(self, facts: ProbeFacts) -> object:
        value = _GETTERS[self.name](facts)
        return _UNAVAILABLE[self.name] if value is None else value


@dataclass(frozen=True)
class JsonPath:
    """[BODY].a.b[0].c: a value inside a JSON body; `steps` are object keys (str) and array indexes (int)."""

    text: str
    steps: tuple[str | int, ...]

    def resolve(self, facts: ProbeFacts) -> object:
        value = _body_json(facts)
        if isinstance(value, _Missing):
            return value
        for step in self.steps:
            if isinstance(step, int):
                if isinstance(value, list) and step < len(value):
                    value = value[step]
                    continue
            elif isinstance(value, dict) and step in value:
                value = value[step]
                continue
            return _Missing(f"{self.text} is missing")
        return value


@dataclass(frozen=True)
class Length:
    """len(x): items of a JSON array or object, characters of anything else (as its text)."""

    arg: Placeholder | JsonPath
    text: str

    def resolve(self, facts: ProbeFacts) -> object:
        value = self.arg.resolve(facts)
        if isinstance(value, _Missing):
            return value
        if isinstance(self.arg, Placeholder) and self.arg.name == "[BODY]":
            parsed = _body_json(facts)
            if isinstance(parsed, (list, dict)):
                return len(parsed)
        if isinstance(value, (str, list, dict)):
            return len(value)
        return len(_text(value))


@dataclass(frozen=True)
class Has:
    """has(x): whether a JSON path exists (null counts) or the body is non-empty; never unavailable."""

    arg: Placeholder | JsonPath
    text: str

    def resolve(self, facts: ProbeFacts) -> object:
        value = self.arg.resolve(facts)
        return not isinstance(value, _Missing) and (isinstance(self.arg, JsonPath) or value != "")


@dataclass(frozen=True)
class Pattern:
    """pat(glob): the whole value must match; `*` is any run of characters, `?` exactly one.

    Matched segment by segment (str.find between the stars) rather than with a `.*` regex, whose
    backtracking on a 1 MiB body with several stars could stall the engine.
    """

    glob: str
    text: str
    segments: tuple[Segment, ...] = field(repr=False)

    @classmethod
    def from_glob(cls, glob: str, text: str) -> Pattern:
        """The pattern for `glob`, written as `text` (e.g. `pat(2*)`)."""
        return cls(glob, text, glob_segments(glob))

    def matches(self, value: str) -> bool:
        """Whether the whole of `value` matches the glob."""
        segments = self.segments
        if len(segments) == 1:
            return at(segments[0], value, 0) and len(value) == len(segments[0][0])
        first, last = segments[0], segments[-1]
        start, end = len(first[0]), len(value) - len(last[0])
        if end < start or not at(first, value, 0) or not at(last, value, end):
            return False
        for segment in segments[1:-1]:
            found = find(segment, value, start, end)
            if found < 0:
                return False
            start = found + len(segment[0])
        return True


@dataclass(frozen=True)
class AnyOf:
    """any(v1, v2, ...): equal to at least one of the values."""

    options: tuple[Literal, ...]
    text: str


Operand = Placeholder | JsonPath | Length | Has | Literal
ORDERING: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Condition:
    """One parsed condition; `source` is the text exactly as written in the config."""

    source: str
    left: Operand
    operator: str
    right: Operand | Pattern | AnyOf
    _shown: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_shown", self.source.strip())

    def __str__(self) -> str:
        return self.source

    @property
    def placeholders(self) -> frozenset[str]:
        """The placeholders used, e.g. {"[BODY]", "[STATUS]"}; a JSON path, len() or has() counts as its own.

        The config uses it to refuse, say, [DNS_RCODE] on an HTTP check.
        """
        return placeholders_of(self.left, self.right)

    def evaluate(self, facts: ProbeFacts) -> ConditionOutcome:
        """Judge one probe. Never raises: unavailable or non-numeric values are failed outcomes."""
        left = self.left.resolve(facts)
        if isinstance(left, _Missing):
            return self._fail(f"but {left.reason}")
        node, right = self.right, None
        if isinstance(node, Pattern):
            passed = node.matches(_text(left))
        elif isinstance(node, AnyOf):
            passed = any(_equal(left, option) for option in node.options)
        else:
            right = node.resolve(facts)
            if isinstance(right, _Missing):
                return self._fail(f"but {right.reason}")
            if self.operator in ("==", "!="):
                passed = _equal(left, right)
            else:
                a, b = _number(left), _number(right)
                if a is None or b is None:
                    side, value = (self.left, left) if a is None else (node, right)
                    return self._fail(f"but {side.text} is {_show(side, value)}, not a number")
                passed = ORDERING[self.operator](a, b)
        if self.operator == "!=":
            passed = not passed
        if passed:
            return ConditionOutcome(self.source, True, self._shown)
        if isinstance(self.left, Literal):
            got = _show(node, right)
        elif right is None or isinstance(node, Literal):
            got = _show(self.left, left)
        else:
            got = f"{_show(self.left, left)} and {_show(node, right)}"
        return self._fail(f"got {got}")

    def _fail(self, detail: str) -> ConditionOutcome:
        return ConditionOutcome(self.source, False, f"expected {self._shown}, {detail}")


def placeholders_of(*nodes: object) -> frozenset[str]:
    """The placeholders the operands use; a JSON path, len() or has() counts as the placeholder inside."""
    found = set()
    for node in nodes:
        inner = node.arg if isinstance(node, (Length, Has)) else node
        if isinstance(inner, Placeholder):
            found.add(inner.name)
        elif isinstance(inner, JsonPath):
            found.add("[BODY]")
    return frozenset(found)


def parse_condition(text: str) -> Condition:
    """Parse one condition.

    Raises:
        ConditionSyntaxError: the text is not a valid condition; `.column` points at the problem.
    """
    # The parser builds this module's AST, so it is imported here rather than at the top (a cycle);
    # after the first call this is a dictionary lookup, and parsing happens at config load anyway.
    from pulsewatch.domain.condition_parser import Parser

    return Parser(text).condition()


def check_conditions(conditions: Iterable[Condition], facts: ProbeFacts) -> tuple[ConditionOutcome, ...]:
    """Evaluate every condition against one probe's facts (they share one JSON parse of the body)."""
    return tuple(condition.evaluate(facts) for condition in conditions)


# --- values: comparison and display -------------------------------------------------------------


def _number(value: object) -> int | float | None:
    if isinstance(value, Literal):
        return value.number
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return parse_number(value)
    return None


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Literal):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    try:
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):  # huge ints, absurd nesting: shown, never compared equal
        return f"<unprintable {type(value).__name__}>"


def _equal(left: object, right: object) -> bool:
    right_number = _number(right)
    if right_number is not None:
        left_number = _number(left)
        if left_number is not None:
            return left_number == right_number
    return _text(left) == _text(right)


def _show(node: object, value: object) -> str:
    """A resolved value as a person should read it: short, strings quoted, durations humanized."""
    if isinstance(node, Placeholder):
        if node.name == "[CERTIFICATE_EXPIRATION]" and isinstance(value, float):
            return show_duration(value)
        if node.name in ("[IP]", "[DNS_RCODE]"):
            return clip(_text(value))
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, float):
        return show_number(value)
    return clip(_text(value))
