"""The condition language (Gatus placeholders): parsed once into a small AST, evaluated for every probe.

A condition is `<side> <operator> <side>`:
  sides      [STATUS] [RESPONSE_TIME] [BODY] [CONNECTED] [CERTIFICATE_EXPIRATION] [DNS_RCODE] [IP],
             JSON paths [BODY].a.b[0].c and [BODY][0].x, len(<placeholder>), has(<[BODY] or a path>),
             literals (numbers, durations like 48h or 1h30m read as milliseconds, true/false, bare words,
             "quoted strings" with backslash escapes); on the right only: pat(<glob with * and ?>) and
             any(v1, v2, ...), both with == and != only
  operators  == != < <= > >=  (spaces around them are optional)
Equality compares numbers numerically when both sides read as numbers, else as text, as Gatus does;
ordering needs numbers. A value the probe did not produce (no status, body not JSON, path missing)
fails the condition whatever the operator, and says so.

Parsing happens at config load, so a typo is a config error with a column rather than a surprise at
3 a.m.; it also rejects what can never be true ([STATUS] == 2XX, [CONNECTED] == yes, [IP] < 5).
Evaluation is on the engine's hot path: a few attribute reads per side, the body parsed as JSON at
most once per ProbeFacts however many conditions use it, and failure text built only on failure.
"""

from __future__ import annotations

import difflib
import json
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

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
}
_UNAVAILABLE: Final = {
    "[STATUS]": _Missing("there was no HTTP status"),
    "[RESPONSE_TIME]": _Missing("there was no response time"),
    "[BODY]": _NO_BODY,
    "[CONNECTED]": _Missing("the connection state is unknown"),
    "[CERTIFICATE_EXPIRATION]": _Missing("there was no certificate"),
    "[DNS_RCODE]": _Missing("there was no DNS response code"),
    "[IP]": _Missing("the IP address is unknown"),
}
_KINDS: Final = {
    "[STATUS]": "number",
    "[RESPONSE_TIME]": "number",
    "[CERTIFICATE_EXPIRATION]": "number",
    "[CONNECTED]": "bool",
    "[DNS_RCODE]": "text",
    "[IP]": "text",
    "[BODY]": "any",
}
_DURATION_PLACEHOLDERS: Final = ("[CERTIFICATE_EXPIRATION]", "[RESPONSE_TIME]")


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


_Segment = tuple[str, re.Pattern[str] | None]


@dataclass(frozen=True)
class Pattern:
    """pat(glob): the whole value must match; `*` is any run of characters, `?` exactly one.

    Matched segment by segment (str.find between the stars) rather than with a `.*` regex, whose
    backtracking on a 1 MiB body with several stars could stall the engine.
    """

    glob: str
    text: str
    segments: tuple[_Segment, ...] = field(repr=False)

    def matches(self, value: str) -> bool:
        segments = self.segments
        if len(segments) == 1:
            return _at(segments[0], value, 0) and len(value) == len(segments[0][0])
        first, last = segments[0], segments[-1]
        start, end = len(first[0]), len(value) - len(last[0])
        if end < start or not _at(first, value, 0) or not _at(last, value, end):
            return False
        for segment in segments[1:-1]:
            found = _find(segment, value, start, end)
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
_ORDER: Final[dict[str, Callable[[float, float], bool]]] = {
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
        return _placeholders(self.left, self.right)

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
                passed = _ORDER[self.operator](a, b)
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


def _placeholders(*nodes: object) -> frozenset[str]:
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
    return _Parser(text).condition()


def check_conditions(conditions: Iterable[Condition], facts: ProbeFacts) -> tuple[ConditionOutcome, ...]:
    """Evaluate every condition against one probe's facts (they share one JSON parse of the body)."""
    return tuple(condition.evaluate(facts) for condition in conditions)


# --- values: comparison and display -------------------------------------------------------------

_NUMBER: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DURATION: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+")
_DURATION_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_DURATION_LIKE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?[A-Za-z]")
_UNIT_MS: Final = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_MAX_SHOWN: Final = 80


def _parse_number(text: str) -> int | float | None:
    if _NUMBER.fullmatch(text) is None:
        return None
    if "." not in text and "e" not in text and "E" not in text:
        try:
            return int(text)
        except ValueError:  # more digits than int() accepts from text: a float is close enough
            pass
    return float(text)


def _parse_duration(text: str) -> int | float | None:
    if _DURATION.fullmatch(text) is None:
        return None
    total = sum((float(amount) * _UNIT_MS[unit] for amount, unit in _DURATION_PART.findall(text)), 0.0)
    return int(total) if total.is_integer() else total


def _number(value: object) -> int | float | None:
    if isinstance(value, Literal):
        return value.number
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return _parse_number(value)
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


def _at(segment: _Segment, value: str, position: int) -> bool:
    plain, regex = segment
    return value.startswith(plain, position) if regex is None else regex.match(value, position) is not None


def _find(segment: _Segment, value: str, start: int, end: int) -> int:
    plain, regex = segment
    if regex is None:
        return value.find(plain, start, end)
    found = regex.search(value, start, end)
    return -1 if found is None else found.start()


def _glob_segments(glob: str) -> tuple[_Segment, ...]:
    segments: list[_Segment] = []
    for part in glob.split("*"):
        regex = None
        if "?" in part:
            regex = re.compile("".join("." if c == "?" else re.escape(c) for c in part), re.DOTALL)
        segments.append((part, regex))
    return tuple(segments)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _quote(text: str) -> str:
    if len(text) > _MAX_SHOWN - 3:
        text = text[: _MAX_SHOWN - 4] + "…"
    return json.dumps(text, ensure_ascii=False)


def _show_number(value: float) -> str:
    if abs(value) >= 1e15 or value != value:
        return repr(value)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _show_duration(ms: float) -> str:
    if abs(ms) == float("inf") or ms != ms:
        return repr(ms)
    sign, ms = ("-" if ms < 0 else ""), abs(ms)
    if ms < 1000:
        return f"{sign}{ms:.0f}ms"
    if ms >= 1e15:  # some 30,000 years: a broken clock or certificate, shown short rather than in 300 digits
        return f"{sign}{ms / 86_400_000:.3g}d"
    seconds = int(ms // 1000)
    units = ((86_400, "d"), (3_600, "h"), (60, "m"), (1, "s"))
    for i, (size, unit) in enumerate(units):
        if seconds >= size:
            shown = f"{seconds // size}{unit}"
            if i + 1 < len(units) and (rest := seconds % size // units[i + 1][0]):
                shown += f" {rest}{units[i + 1][1]}"
            return sign + shown
    return sign + "0s"  # unreachable: seconds >= 1 here


def _show(node: object, value: object) -> str:
    """A resolved value as a person should read it: short, strings quoted, durations humanized."""
    if isinstance(node, Placeholder):
        if node.name == "[CERTIFICATE_EXPIRATION]" and isinstance(value, float):
            return _show_duration(value)
        if node.name in ("[IP]", "[DNS_RCODE]"):
            return _clip(_text(value))
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, float):
        return _show_number(value)
    return _clip(_text(value))


# --- the parser ---------------------------------------------------------------------------------

_OPERATORS: Final = ("==", "!=", "<", "<=", ">", ">=")
_OPERATOR_LIST: Final = "==, !=, <, <=, >, >="
_OP_CHARS: Final = "=!<>"
_FUNCTIONS: Final = ("len", "has", "pat", "any")
_LEFT_STOPS: Final = "()[]" + _OP_CHARS
_RIGHT_STOPS: Final = "()[]"
_KEY_STOPS: Final = "()[].,\"'" + _OP_CHARS
_DURATION_HINT: Final = "use milliseconds or a duration such as 500ms, 30s, 5m, 48h, 14d or 1h30m"


def _kind(node: object) -> str:
    if isinstance(node, Placeholder):
        return _KINDS[node.name]
    if isinstance(node, Length):
        return "number"
    if isinstance(node, Has):
        return "bool"
    return "any"


def _literal(text: str, *, bare: bool) -> Literal:
    if bare and text.lower() in ("true", "false"):
        return Literal(text.lower())
    number = _parse_number(text)
    return Literal(text, _parse_duration(text) if number is None else number)


class _Parser:
    """Recursive descent over the characters; every error names the column where it was found."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.literals: list[tuple[Literal, int, str, bool]] = []  # literal, column, as written, on the left

    def condition(self) -> Condition:
        text = self.text
        self._skip_spaces()
        if self.pos == len(text):
            raise ConditionSyntaxError("empty condition", 0, "write e.g. [STATUS] == 200")
        if text[self.pos] in _OP_CHARS:
            op = text[self.pos : self.pos + 2] if text[self.pos + 1 : self.pos + 2] == "=" else text[self.pos]
            raise ConditionSyntaxError(
                f"missing value before '{op}'", self.pos, "expected a placeholder such as [STATUS]"
            )
        left_start = self.pos
        left = self._operand(left_side=True)
        if isinstance(left, (Pattern, AnyOf)):
            raise ConditionSyntaxError(
                f"{left.text[:3]}() belongs on the right-hand side", left_start, "e.g. [IP] == pat(10.0.*)"
            )
        left_text = text[left_start : self.pos]
        self._skip_spaces()
        op = self._operator(left_text)
        self._skip_spaces()
        if self.pos == len(text):
            raise ConditionSyntaxError(f"missing value after '{op}'", self.pos, "expected a value")
        right_start = self.pos
        right = self._operand(left_side=False)
        self._skip_spaces()
        if self.pos < len(text):
            hint = (
                "a condition has one operator"
                if text[self.pos] in _OP_CHARS
                else "expected the end of the condition"
            )
            if text[self.pos] not in _OP_CHARS + _RIGHT_STOPS:
                hint += '; quote values that contain spaces ("like this")'
            raise ConditionSyntaxError(f"unexpected {self._token(self.pos)}", self.pos, hint)
        self._check(left, op, right, left_start, right_start)
        return Condition(text, left, op, right)

    def _check(self, left: Operand, op: str, right: Operand | Pattern | AnyOf, lcol: int, rcol: int) -> None:
        """Reject what can never be true: constants only, text ordered, non-numbers against numbers."""
        if not _placeholders(left, right):
            hint = "compare a placeholder such as [STATUS] with a value"
            if isinstance(left, Literal) and f"[{left.text.upper()}]" in _GETTERS:
                hint = f"did you mean [{left.text.upper()}]?"
            raise ConditionSyntaxError("neither side uses a placeholder", lcol, hint)
        if op in _ORDER:
            if isinstance(right, (Pattern, AnyOf)):
                raise ConditionSyntaxError(f"{right.text[:3]}() works only with == and !=", rcol)
            for node, column in ((left, lcol), (right, rcol)):
                if _kind(node) in ("bool", "text"):
                    raise ConditionSyntaxError(
                        f"'{op}' compares numbers and {node.text} is not one", column, "use == or !="
                    )
        for literal, column, written, on_left in self.literals:
            other = right if on_left else left
            kind = _kind(other)
            if kind == "bool" and literal.text not in ("true", "false"):
                raise ConditionSyntaxError(
                    f"{written} is not true or false", column, f"{other.text} is true or false"
                )
            if literal.number is None and (kind == "number" or op in _ORDER):
                timed = isinstance(other, Placeholder) and other.name in _DURATION_PLACEHOLDERS
                if timed and _DURATION_LIKE.match(literal.text):
                    raise ConditionSyntaxError(f"bad duration {written}", column, _DURATION_HINT)
                hint = f"{other.text} is a number" if kind == "number" else f"'{op}' compares numbers"
                if timed:
                    hint += f"; {_DURATION_HINT}"
                elif isinstance(other, Placeholder) and other.name == "[STATUS]":
                    hint += "; for a range use pat(2*) or [STATUS] < 300"
                raise ConditionSyntaxError(f"{written} is not a number", column, hint)

    # -- pieces

    def _skip_spaces(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def _token(self, pos: int) -> str:
        """The token at `pos` quoted for a message: one bracket, or a run of characters."""
        if pos >= len(self.text):
            return "end of condition"
        end = pos + 1
        if self.text[pos] not in "()[],\"'":
            while end < len(self.text) and not self.text[end].isspace() and self.text[end] not in "()[],":
                end += 1
        token = self.text[pos:end]
        return repr(token if len(token) <= 20 else token[:19] + "…")

    def _word(self, stops: str) -> str:
        text, start = self.text, self.pos
        pos = start
        while pos < len(text) and not text[pos].isspace() and text[pos] not in stops:
            pos += 1
        self.pos = pos
        return text[start:pos]

    def _operator(self, left_text: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _OP_CHARS:
            self.pos += 1
        op = self.text[start : self.pos]
        if not op:
            if start == len(self.text):
                raise ConditionSyntaxError(
                    f"missing operator after {left_text}", start, f"expected {_OPERATOR_LIST}"
                )
            raise ConditionSyntaxError(
                f"unexpected {self._token(start)}", start, f"expected an operator: {_OPERATOR_LIST}"
            )
        if op not in _OPERATORS:
            raise ConditionSyntaxError(f"unknown operator '{op}'", start, f"expected {_OPERATOR_LIST}")
        return op

    def _operand(self, *, left_side: bool) -> Operand | Pattern | AnyOf:
        start = self.pos
        char = self.text[start]
        if char == "[":
            return self._placeholder()
        if char in "\"'":
            literal = self._quoted()
            self.literals.append((literal, start, self.text[start : self.pos], left_side))
            return literal
        word = self._word(_LEFT_STOPS if left_side else _RIGHT_STOPS)
        if self.pos < len(self.text) and self.text[self.pos] == "(" and word.isidentifier():
            return self._call(word, start, left_side=left_side)
        if not word:
            raise ConditionSyntaxError(f"unexpected {self._token(start)}", start, "expected a value")
        literal = _literal(word, bare=True)
        self.literals.append((literal, start, repr(word), left_side))
        return literal

    def _placeholder(self) -> Placeholder | JsonPath:
        text, start = self.text, self.pos
        close = start + 1
        while close < len(text) and (text[close].isalnum() or text[close] == "_"):
            close += 1
        if close >= len(text) or text[close] != "]":
            raise ConditionSyntaxError("unclosed '['", start, "expected a placeholder such as [STATUS]")
        name = f"[{text[start + 1 : close].upper()}]"
        if name not in _GETTERS:
            close_match = difflib.get_close_matches(name, _GETTERS, n=1)
            hint = (
                f"did you mean {close_match[0]}?" if close_match else f"expected one of {', '.join(_GETTERS)}"
            )
            raise ConditionSyntaxError(f"unknown placeholder {text[start : close + 1]}", start, hint)
        self.pos = close + 1
        if self.pos >= len(text) or text[self.pos] not in ".[":
            return Placeholder(name)
        if name != "[BODY]":
            raise ConditionSyntaxError(
                f"{name} has no JSON path", self.pos, "only [BODY] takes one, e.g. [BODY].a.b"
            )
        steps: list[str | int] = []
        while self.pos < len(text) and text[self.pos] in ".[":
            if text[self.pos] == ".":
                self.pos += 1
                key = self._word(_KEY_STOPS)
                if not key:
                    raise ConditionSyntaxError("missing key after '.'", self.pos - 1, "e.g. [BODY].status")
                steps.append(key)
            else:
                steps.append(self._index())
        return JsonPath(text[start : self.pos], tuple(steps))

    def _index(self) -> int:
        text, bracket = self.text, self.pos
        at = bracket + 1
        while at < len(text) and text[at] in "0123456789":
            at += 1
        digits = text[bracket + 1 : at]
        if at < len(text) and text[at] == "]" and digits:
            if len(digits) > 18:
                raise ConditionSyntaxError("array index too large", bracket + 1)
            self.pos = at + 1
            return int(digits)
        if at >= len(text) or text[at].isspace():
            raise ConditionSyntaxError("unclosed '['", bracket, "expected an array index like [0]")
        if digits:
            raise ConditionSyntaxError(f"unexpected {self._token(at)}", at, "expected ']'")
        raise ConditionSyntaxError("expected an array index", at, "a whole number such as [0]")

    def _quoted(self) -> Literal:
        text, start = self.text, self.pos
        quote, pos, chars = text[start], start + 1, []
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                chars.append(text[pos + 1])
                pos += 2
                continue
            if char == quote:
                self.pos = pos + 1
                return _literal("".join(chars), bare=False)
            chars.append(char)
            pos += 1
        raise ConditionSyntaxError("unclosed quote", start, f"add the closing {quote}")

    def _call(self, name: str, start: int, *, left_side: bool) -> Operand | Pattern | AnyOf:
        function = name.lower()
        paren = self.pos
        if function not in _FUNCTIONS:
            close_match = difflib.get_close_matches(function, _FUNCTIONS, n=1)
            hint = f"did you mean {close_match[0]}()?" if close_match else "expected len, has, pat or any"
            raise ConditionSyntaxError(f"unknown function '{name}()'", start, hint)
        self.pos += 1
        if function in ("pat", "any") and left_side:
            raise ConditionSyntaxError(
                f"{function}() belongs on the right-hand side", start, "e.g. [IP] == pat(10.0.*)"
            )
        if function == "pat":
            return self._pattern(start, paren)
        if function == "any":
            return self._any(start, paren)
        self._skip_spaces()
        if self.pos >= len(self.text):
            raise ConditionSyntaxError("unclosed '('", paren, "expected ')'")
        if self.text[self.pos] != "[":
            problem = (
                f"{function}() needs a placeholder"
                if self.text[self.pos] == ")"
                else (f"unexpected {self._token(self.pos)}")
            )
            raise ConditionSyntaxError(problem, self.pos, f"e.g. {function}([BODY].items)")
        arg_start = self.pos
        arg = self._placeholder()
        if function == "has" and isinstance(arg, Placeholder) and arg.name != "[BODY]":
            raise ConditionSyntaxError("has() works only on [BODY] and its JSON paths", arg_start)
        self._skip_spaces()
        if self.pos >= len(self.text):
            raise ConditionSyntaxError("unclosed '('", paren, "expected ')'")
        if self.text[self.pos] in _OP_CHARS:
            raise ConditionSyntaxError("unclosed '('", paren, f"expected ')' after {arg.text}")
        if self.text[self.pos] != ")":
            raise ConditionSyntaxError(f"unexpected {self._token(self.pos)}", self.pos, "expected ')'")
        self.pos += 1
        node = Length if function == "len" else Has
        return node(arg, self.text[start : self.pos])

    def _pattern(self, start: int, paren: int) -> Pattern:
        self._skip_spaces()
        text = self.text
        if self.pos < len(text) and text[self.pos] in "\"'":
            saved = self.pos
            try:
                glob = self._quoted().text
                self._skip_spaces()
                if self.pos < len(text) and text[self.pos] == ")":
                    self.pos += 1
                    return Pattern(glob, text[start : self.pos], _glob_segments(glob))
            except ConditionSyntaxError:
                pass  # not a quoted pattern after all: the quote is part of a raw one, e.g. pat(*"ok"*)
            self.pos = saved
        depth, pos = 0, self.pos  # a raw pattern may hold balanced parentheses: pat(*(beta)*)
        while pos < len(text) and (text[pos] != ")" or depth):
            if text[pos] == "(":
                depth += 1
            elif text[pos] == ")":
                depth -= 1
            pos += 1
        if pos >= len(text):
            raise ConditionSyntaxError("unclosed '('", paren, "expected ')'")
        glob = text[self.pos : pos].strip()
        if not glob:
            raise ConditionSyntaxError("pat() needs a pattern", pos, 'e.g. pat(2*) or pat(*"ok"*)')
        self.pos = pos + 1
        return Pattern(glob, text[start : self.pos], _glob_segments(glob))

    def _any(self, start: int, paren: int) -> AnyOf:
        text, options = self.text, list[Literal]()
        while True:
            self._skip_spaces()
            column = self.pos
            if column >= len(text):
                raise ConditionSyntaxError("unclosed '('", paren, "expected ')'")
            if text[column] in "\"'":
                literal = self._quoted()
                written = text[column : self.pos]
            else:
                while self.pos < len(text) and text[self.pos] not in ",()":
                    self.pos += 1
                written = text[column : self.pos].strip()
                if not written:
                    problem = (
                        "any() needs at least one value"
                        if not options and text[column] == ")"
                        else ("empty value in any()")
                    )
                    raise ConditionSyntaxError(problem, column, "e.g. any(200, 204)")
                literal = _literal(written, bare=True)
                written = repr(written)
            options.append(literal)
            self.literals.append((literal, column, written, False))
            self._skip_spaces()
            if self.pos >= len(text):
                raise ConditionSyntaxError("unclosed '('", paren, "expected ')'")
            char = text[self.pos]
            self.pos += 1
            if char == ")":
                return AnyOf(tuple(options), text[start : self.pos])
            if char != ",":
                column = self.pos - 1
                raise ConditionSyntaxError(f"unexpected {self._token(column)}", column, "expected ',' or ')'")
