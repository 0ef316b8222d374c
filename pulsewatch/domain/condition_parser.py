"""The condition parser: condition text → the AST of `conditions`, with column-precise errors.

Recursive descent over the characters (the language is small enough that a separate tokenizer would
only add a layer): every error names the column where it was found and, where it can, what to write
instead. It also rejects what can never be true ([STATUS] == 2XX, [CONNECTED] == yes, [IP] < 5).
Callers use `pulsewatch.domain.conditions.parse_condition`.
"""

from __future__ import annotations

import difflib
from typing import Final

from pulsewatch.domain.condition_values import DURATION_LIKE, parse_duration, parse_number
from pulsewatch.domain.conditions import (
    DURATION_PLACEHOLDERS,
    ORDERING,
    PLACEHOLDER_KINDS,
    AnyOf,
    Condition,
    ConditionSyntaxError,
    Has,
    JsonPath,
    Length,
    Literal,
    Operand,
    Pattern,
    Placeholder,
    placeholders_of,
)

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
        return PLACEHOLDER_KINDS[node.name]
    if isinstance(node, Length):
        return "number"
    if isinstance(node, Has):
        return "bool"
    return "any"


def _literal(text: str, *, bare: bool) -> Literal:
    if bare and text.lower() in ("true", "false"):
        return Literal(text.lower())
    number = parse_number(text)
    return Literal(text, parse_duration(text) if number is None else number)


class Parser:
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
        if not placeholders_of(left, right):
            hint = "compare a placeholder such as [STATUS] with a value"
            if isinstance(left, Literal) and f"[{left.text.upper()}]" in PLACEHOLDER_KINDS:
                hint = f"did you mean [{left.text.upper()}]?"
            raise ConditionSyntaxError("neither side uses a placeholder", lcol, hint)
        if op in ORDERING:
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
            if literal.number is None and (kind == "number" or op in ORDERING):
                timed = isinstance(other, Placeholder) and other.name in DURATION_PLACEHOLDERS
                if timed and DURATION_LIKE.match(literal.text):
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
        if name not in PLACEHOLDER_KINDS:
            close_match = difflib.get_close_matches(name, PLACEHOLDER_KINDS, n=1)
            hint = (
                f"did you mean {close_match[0]}?"
                if close_match
                else f"expected one of {', '.join(PLACEHOLDER_KINDS)}"
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
                    return Pattern.from_glob(glob, text[start : self.pos])
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
        return Pattern.from_glob(glob, text[start : self.pos])

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
