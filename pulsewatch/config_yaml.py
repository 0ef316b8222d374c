"""Reading the config's YAML: plain data plus a map from every value back to its line and column.

pydantic reports errors by location (`("checks", 2, "interval")`); a person needs `pulsewatch.yaml:14:15`.
So the document is composed into YAML nodes first (which carry their marks), constructed into plain data
by PyYAML's safe constructor, and every path is indexed to the node it came from. `${VAR}` interpolation
also happens here, on the plain data, with its errors located the same way.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

Loc = tuple[str | int, ...]
"""A path into the document, as pydantic spells it: `("checks", 2, "interval")`."""

_MAX_INDEXED_VALUES = 200_000
"""Alias expansion can make a small file enormous ("billion laughs"); a config never needs this many."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml when present: the pure-Python parser needs seconds for a few thousand checks. Both give
the same marks (0-based lines, columns in characters) and the same safe constructors."""

_INTERPOLATION = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, located for a person: 1-based line and column, dotted path."""

    line: int
    column: int
    path: str
    message: str

    def render(self, source: str) -> str:
        """The one-line form `FILE:LINE:COL: field.path: what was expected`."""
        where = f"{self.path}: " if self.path else ""
        # Quoted user text is already escaped; this guards the one-problem-one-line promise anyway.
        message = self.message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{source}:{self.line}:{self.column}: {where}{message}"


def quote(text: str) -> str:
    """User text inside a message: double-quoted, escapes visible, never spanning lines."""
    return json.dumps(text, ensure_ascii=False)


def format_path(loc: Loc) -> str:
    """`("checks", 2, "interval")` → `checks[2].interval`; odd keys are quoted: `headers["a.b"]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{quote(part)}]"
    return text


class YamlProblem(Exception):
    """The text is not a usable YAML document; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class Spot(NamedTuple):
    """Where one value was written: 0-based marks, and for a scalar its text and quoting style.

    A source map holds one per value and key of the file; keeping these small tuples instead of the
    parser's nodes (each with two Mark objects) keeps a 10,000-check file's map a few MB, and lets
    the node tree go as soon as the document is built.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    style: str | None
    scalar: str | None
    """The scalar's text as written (None for a mapping or a sequence)."""

    @property
    def position(self) -> tuple[int, int]:
        """1-based (line, column), as problems are reported."""
        return (self.line + 1, self.column + 1)

    @classmethod
    def of(cls, node: yaml.Node) -> Spot:
        start, end = node.start_mark, node.end_mark
        scalar = node.value if isinstance(node, yaml.ScalarNode) else None
        style = node.style if isinstance(node, yaml.ScalarNode) else None
        return cls(start.line, start.column, end.line, end.column, style, scalar)


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of the document was written."""

    lines: list[str]
    values: dict[Loc, Spot] = field(default_factory=dict)
    keys: dict[Loc, Spot] = field(default_factory=dict)
    interpolated: set[Loc] = field(default_factory=set)
    """Paths whose string was changed by `${VAR}` interpolation (its text no longer matches the file)."""

    def position(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `loc`, or of its nearest written ancestor.

        Args:
            loc: the path of the value.
            key: point at the mapping key rather than its value (for "unknown key" errors).
        """
        if key and loc in self.keys:
            return self.keys[loc].position
        for end in range(len(loc), -1, -1):
            spot = self.values.get(loc[:end])
            if spot is not None:
                return spot.position
        return (1, 1)

    def scalar_column(self, loc: Loc, offset: int) -> tuple[int, int] | None:
        """The file position of character `offset` of the string at `loc`, when it can be known exactly.

        That is when the string is written on one line as a plain scalar, or quoted without escapes,
        and interpolation did not change it. Otherwise None: the caller points at the scalar instead.
        """
        spot = self.values.get(loc)
        if spot is None or spot.scalar is None or loc in self.interpolated:
            return None
        if spot.line != spot.end_line or spot.line >= len(self.lines):
            return None
        raw = self.lines[spot.line][spot.column : spot.end_column]
        value, style = spot.scalar, spot.style
        if not style and raw == value:  # plain: None from PyYAML, "" from libyaml
            skip = 0
        elif style in ('"', "'") and raw == f"{style}{value}{style}":
            skip = 1
        else:
            return None
        return (spot.line + 1, spot.column + 1 + skip + offset)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def read_yaml(text: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its source map.

    Raises:
        YamlProblem: a syntax error, several documents, a duplicate key, a recursive alias.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        smap = SourceMap(lines=text.splitlines())
        if node is None:
            return None, smap
        _check_duplicate_keys(node, set())
        data = loader.construct_document(node)
        # After construction merge keys (`<<: *defaults`) are flattened into each mapping node, so
        # the index below sees merged values where they were written: at the anchor.
        _index(node, (), smap, [0])
        return data, smap
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(Problem(line, column, "", f"YAML syntax error: {what}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(1, 1, "", f"YAML syntax error: {exc}")) from None
    finally:
        loader.dispose()


def _check_duplicate_keys(node: yaml.Node, active: set[int]) -> None:
    """PyYAML keeps the last of two equal keys silently; a config author almost always meant one."""
    if id(node) in active:
        line, column = _mark(node)
        raise YamlProblem(Problem(line, column, "", "recursive YAML alias: a value cannot contain itself"))
    if isinstance(node, yaml.MappingNode):
        active.add(id(node))
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                first = seen.get(key_node.value)
                if first is not None:
                    line, column = _mark(key_node)
                    message = (
                        f"duplicate key {quote(key_node.value)} (first written at line {_mark(first)[0]})"
                    )
                    raise YamlProblem(Problem(line, column, "", message))
                seen[key_node.value] = key_node
            _check_duplicate_keys(value_node, active)
        active.discard(id(node))
    elif isinstance(node, yaml.SequenceNode):
        active.add(id(node))
        for item in node.value:
            _check_duplicate_keys(item, active)
        active.discard(id(node))


def _index(node: yaml.Node, loc: Loc, smap: SourceMap, count: list[int]) -> None:
    count[0] += 1
    if count[0] > _MAX_INDEXED_VALUES:
        line, column = _mark(node)
        raise YamlProblem(Problem(line, column, "", "document too large once its aliases are expanded"))
    smap.values[loc] = Spot.of(node)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*loc, key_node.value)
                smap.keys[child] = Spot.of(key_node)
                _index(value_node, child, smap, count)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index(item, (*loc, position), smap, count)


def interpolate(data: Any, smap: SourceMap, environ: Mapping[str, str]) -> tuple[Any, list[tuple[Loc, str]]]:
    """Replace `${NAME}` and `${NAME:-default}` in every string value; `$${` stays a literal `${`.

    Keys are left alone: they are the schema's words, not the user's data.

    Returns:
        The new data, and (path, message) for each reference that cannot be resolved. Messages name
        the variable, never a value, so a secret cannot leak through an error.
    """
    problems: list[tuple[Loc, str]] = []

    def walk(value: Any, loc: Loc) -> Any:
        if isinstance(value, str):
            result = _substitute(value, environ, loc, problems)
            if result != value:
                smap.interpolated.add(loc)
            return result
        if isinstance(value, dict):
            return {k: walk(v, (*loc, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*loc, i)) for i, v in enumerate(value)]
        return value

    return walk(data, ()), problems


def _substitute(text: str, environ: Mapping[str, str], loc: Loc, problems: list[tuple[Loc, str]]) -> str:
    if "$" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        inner = match.group(1)
        reference = _VARIABLE.fullmatch(inner) if inner is not None else None
        if reference is None:
            problems.append(
                (loc, "invalid ${...} reference: write ${NAME} or ${NAME:-default} ($${ for a literal ${)")
            )
            return ""
        name, default = reference.group(1), reference.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        problems.append(
            (
                loc,
                f"${{{name}}} refers to the environment variable {name}, which is not set "
                f"(give a default with ${{{name}:-value}}, or write $${{ for a literal ${{)",
            )
        )
        return ""

    return _INTERPOLATION.sub(replace, text)


class Report:
    """Collects every problem of one file; `block` silences the echoes of a problem already reported."""

    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap
        self.problems: list[Problem] = []
        self._blocked: set[Loc] = set()

    def add(
        self, loc: Loc, message: str, *, at_key: bool = False, position: tuple[int, int] | None = None
    ) -> None:
        """Record a problem about the value at `loc` (at its key when `at_key`, or at `position`)."""
        if any(loc[:end] in self._blocked for end in range(len(loc) + 1)):
            return
        line, column = position or self.smap.position(loc, key=at_key)
        self.problems.append(Problem(line, column, format_path(loc), message))

    def block(self, loc: Loc) -> None:
        """Ignore later problems at or under `loc` (e.g. a value emptied by an unset ${VAR})."""
        self._blocked.add(loc)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def rendered(self, source: str) -> list[str]:
        """Every problem as one line, in file order."""
        ordered = sorted(self.problems, key=lambda p: (p.line, p.column))
        return [p.render(source) for p in ordered]


def first_seen(report: Report, seen: dict[Any, Loc], key: object, loc: Loc, what: str) -> bool:
    """Record a name; report `duplicate WHAT` at `loc` if it was already used. True for the first use."""
    first = seen.get(key)
    if first is None:
        seen[key] = loc
        return True
    line = report.smap.position(first)[0]
    report.add(loc, f"duplicate {what} (first declared at line {line})")
    return False


def suggest(word: str, choices: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f'; did you mean "{close[0]}"?' if close else ""


def listing(kind: str, names: set[str] | list[str]) -> str:
    return f"declared {kind}: {', '.join(sorted(names))}" if names else f"no {kind} are declared"
