"""Loading `pulsewatch.yaml`: YAML → pydantic sections → domain objects, or a ConfigError listing it all.

Every problem is one line, `FILE:LINE:COL: field.path: what was expected`, and all of them are reported
at once. The modules, in the order the text goes through them:
  config_yaml    text → plain data + a map of positions; `${VAR}` interpolation; the problem report
  config_schema  the pydantic models, validated one section or list item at a time (here)
  config_build   references and uniqueness across sections → LoadedConfig
  config_checks  the checks: kind from the URL, defaults, conditions, dependencies
  config_types   the frozen dataclasses a LoadedConfig is made of
This one holds the public API and turns pydantic's errors into sentences. Pure: pydantic, PyYAML and
the standard library only; the only I/O is reading the file in `load_config`.
"""

from __future__ import annotations

import difflib
import json
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pulsewatch.config_build import Validated, build_config
from pulsewatch.config_schema import ConfigFile
from pulsewatch.config_types import (
    ChannelConfig,
    ConsoleSettings,
    EngineSettings,
    LoadedConfig,
    MemberConfig,
    Money,
    OrganizationConfig,
    PlanConfig,
    PlanLimits,
    TeamConfig,
)
from pulsewatch.config_yaml import Loc, Report, YamlProblem, interpolate, quote, read_yaml
from pulsewatch.errors import ConfigError

__all__ = [
    "ChannelConfig",
    "ConsoleSettings",
    "EngineSettings",
    "LoadedConfig",
    "MemberConfig",
    "Money",
    "OrganizationConfig",
    "PlanConfig",
    "PlanLimits",
    "TeamConfig",
    "default_config_path",
    "load_config",
    "parse_config",
]

_MESSAGES = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "missing": "required field missing",
}


def default_config_path() -> Path:
    """The config file used when none is named: $PULSEWATCH_CONFIG, else ./pulsewatch.yaml."""
    return Path(os.environ.get("PULSEWATCH_CONFIG") or "pulsewatch.yaml")


def load_config(path: str | os.PathLike[str]) -> LoadedConfig:
    """Read and validate a config file.

    Args:
        path: the YAML file; problems are reported with this path as written.

    Returns:
        The whole configuration; never a partial one.

    Raises:
        ConfigError: the file is missing, unreadable, or has problems (all listed in `.problems`).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    return _parse(text, str(path), None, file)


def parse_config(
    text: str, source: str = "<string>", environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Validate config text (what `load_config` does after reading the file).

    Args:
        text: the YAML document.
        source: the name used in problem lines (a file name, or `<string>`).
        environ: variables for `${VAR}` interpolation and $PULSEWATCH_DATABASE_URL; default os.environ.

    Raises:
        ConfigError: with every problem in `.problems`.
    """
    return _parse(text, source, environ, None)


def _parse(text: str, source: str, environ: Mapping[str, str] | None, path: Path | None) -> LoadedConfig:
    env = os.environ if environ is None else environ
    try:
        raw, smap = read_yaml(text)
    except YamlProblem as exc:
        raise _error(source, [exc.problem.render(source)]) from None
    report = Report(smap)
    raw, unresolved = interpolate(raw, smap, env)
    for loc, message in unresolved:
        report.add(loc, message)
        report.block(loc)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        report.add(
            (), "expected sections like database:, engine:, channels: and checks: at the top of the file"
        )
        raise _error(source, report.rendered(source))
    valid = _validate_sections(raw, report)
    config = build_config(valid, report, env, path)
    if report:
        raise _error(source, report.rendered(source))
    return config


def _error(source: str, problems: list[str]) -> ConfigError:
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    return ConfigError(f"{source}: {count} in the configuration:\n" + "\n".join(problems), problems)


def _validate_sections(raw: dict[str, Any], report: Report) -> Validated:
    """Validate each section, and each item of the list sections, on its own.

    One model for the whole file would give either everything or nothing; item by item, a bad check
    leaves the good ones available for the cross-reference checks, so those are reported too.
    """
    valid = Validated(raw=raw)
    allowed = list(ConfigFile.model_fields)
    for key, value in raw.items():
        if not isinstance(key, str) or key not in ConfigFile.model_fields:
            report.add((str(key),), _unknown_key(str(key), allowed), at_key=True)
            continue
        if value is None:
            continue
        annotation = _unwrap(ConfigFile.model_fields[key].annotation)
        if get_origin(annotation) is list:
            if not isinstance(value, list):
                report.add((key,), f"expected a list{_got(value, (key,))}")
                continue
            item_model = get_args(annotation)[0]
            valid.items[key] = []
            for i, item in enumerate(value):
                model = _validate(item_model, item, (key, i), report, valid)
                if model is not None:
                    valid.items[key].append((i, model))
        else:
            model = _validate(annotation, value, (key,), report, valid)
            if model is not None:
                valid.sections[key] = model
    return valid


def _validate(
    model: type[BaseModel], value: Any, prefix: Loc, report: Report, valid: Validated
) -> BaseModel | None:
    """Validate one section or item; on errors, report them and salvage what is left.

    The salvage validates again without the faulty fields, so a check with a bad interval still has
    its `notify` and `depends_on` checked. Its dropped fields are blocked in the report, so defaults
    standing in for them cause no second error; the config fails anyway.
    """
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors()
    for error in errors:
        _report_error(model, error, prefix, report)
    faulty = {e["loc"][0] for e in errors if e["loc"] and e["type"] != "missing"}
    if not isinstance(value, dict) or not faulty or any(not e["loc"] for e in errors):
        return None
    try:
        salvaged = model.model_validate({k: v for k, v in value.items() if k not in faulty})
    except ValidationError:
        return None
    for key in faulty:
        report.block((*prefix, key))
    valid.dropped[prefix] = frozenset(str(key) for key in faulty)
    return salvaged


def _report_error(model: type[BaseModel], error: ErrorDetails, prefix: Loc, report: Report) -> None:
    """Turn one pydantic error into a sentence at the right place (secret inputs never echoed)."""
    relative: Loc = tuple(error["loc"])
    on_key = relative[-1:] == ("[key]",)  # a bad mapping key (a header name): point at the key itself
    if on_key:
        relative = relative[:-1]
    loc = (*prefix, *relative)
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, relative[:-1])
        allowed = list(owner.model_fields) if owner else []
        report.add(loc, _unknown_key(str(relative[-1]), allowed), at_key=True)
        return
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        message = _MESSAGES[kind]
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal"):
        word = {
            "greater_than_equal": "at least",
            "greater_than": "greater than",
            "less_than_equal": "at most",
        }
        limit = next(iter(ctx.values()), "?")
        message = f"must be {word[kind]} {limit}"
    elif kind in ("too_short", "string_too_short"):
        message = "must not be empty"
    else:
        message = error["msg"]
    if kind != "missing":
        message += _got(error["input"], loc[:-1] if on_key else loc)
    report.add(loc, message, at_key=on_key)


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f"unknown key {quote(key)}; {hint}allowed keys: {', '.join(allowed)}"


def _is_secret(loc: Loc) -> bool:
    """Paths whose values may be credentials: database URL, channel URLs, headers, bodies, tokens."""
    head = loc[:1]
    if head == ("database",):
        return True
    if head == ("channels",) and "urls" in loc:
        return True
    return head in (("checks",), ("defaults",)) and any(
        part in ("headers", "body", "heartbeat", "auth", "proxy", "send") for part in loc
    )


def _got(value: Any, loc: Loc) -> str:
    if _is_secret(loc):
        return ""
    if value is None:
        return ", got nothing"
    if isinstance(value, dict):
        return ", got a mapping"
    if isinstance(value, list):
        return ", got a list"
    text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, str) else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return f", got {text if len(text) <= 80 else text[:77] + '...'}"


def _unwrap(annotation: Any) -> Any:
    """`X | None` → X; `Annotated[X, ...]` → X."""
    while True:
        origin = get_origin(annotation)
        args = get_args(annotation)
        if origin in (Union, types.UnionType):
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        elif args and hasattr(annotation, "__metadata__"):
            annotation = args[0]
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class found by following `loc` from `model` (to list its allowed keys)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int) and get_origin(current) is list:
            current = get_args(current)[0]
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = current.model_fields[str(part)].annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
