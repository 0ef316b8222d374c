"""The building blocks of the config schema: single-value types and the `Section` base every section uses.

A value type (`Duration`, `Name`, `Listen`...) checks one scalar on its own and says what it expected;
how values relate to each other is `config_build`'s and `config_checks`' business. They live apart from
the section models so that every section module (`config_schema`, `config_schema_checks`,
`config_schema_orgs`, and later the pure-pydantic `config_alerting` and `config_retention`) can import
them without importing each other: one rule per value, and no import cycles.
Error messages are written without the offending value: `pulsewatch.config` appends `got ...` itself,
and leaves it out for secret fields.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, SecretStr
from pydantic_core import PydanticCustomError

DURATION_HINT = "expected a duration like 500ms, 30s, 5m, 1h or 2d"
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_SIZE = re.compile(r"(\d+)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)")
_SIZE_UNITS = {
    "B": 1,
    "kB": 1000,
    "KB": 1000,
    "KiB": 1024,
    "MB": 10**6,
    "MiB": 2**20,
    "GB": 10**9,
    "GiB": 2**30,
}
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s+([A-Z]{3})")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_LISTEN = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s:\[\]]+)):(?P<port>\d{1,5})")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ROLES = ("owner", "admin", "member", "viewer")


# --- single values ---------------------------------------------------------------------------------


def parse_duration(value: object) -> float:
    """`500ms`, `30s`, `5m`, `1h`, `2d`, `1w` and sums like `1h30m` → float seconds (> 0).

    A bare number is refused: `30` could mean seconds or milliseconds, and a monitor that probes
    1000 times too often is worse than an error.
    """
    if isinstance(value, str):
        text = value.strip()
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
            if seconds > 0:
                return seconds
            raise PydanticCustomError("duration", "expected a duration longer than zero")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("duration", DURATION_HINT + " (a bare number has no unit)")
    raise PydanticCustomError("duration", DURATION_HINT)


def _watch(value: object) -> float:
    """`engine.watch`: a duration, or `off` / false for "reload on SIGHUP only" (0.0)."""
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return 0.0
    return parse_duration(value)


def parse_size(value: object) -> int:
    """A byte count: a whole number, or `64KiB`, `1MiB`, `2MB`... (at least 1 byte)."""
    size: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
        size = int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    if size is None or size < 1:
        raise PydanticCustomError("size", "expected a size in bytes like 65536, 64KiB or 1MiB")
    return size


def parse_money(value: object) -> tuple[Decimal, str]:
    """`19.00 USD` → (Decimal("19.00"), "USD"). Never through float: 0.1 + 0.2 is not a price."""
    if isinstance(value, str) and (match := _MONEY.fullmatch(value.strip())):
        return Decimal(match.group(1)), match.group(2)
    raise PydanticCustomError(
        "money", "expected an amount and a currency code like 19.00 USD (write it as text, not a number)"
    )


def _listen(value: str) -> str:
    match = _LISTEN.fullmatch(value.strip())
    if match is None or int(match.group("port")) > 65535:
        raise PydanticCustomError("listen", "expected HOST:PORT like 127.0.0.1:8787 or [::1]:8787")
    return value.strip()


def _name(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("name", "must not be empty")
    if value != value.strip() or any(ord(ch) < 32 for ch in value):
        raise PydanticCustomError("name", "must not start or end with spaces or contain control characters")
    return value


def _slug(value: str) -> str:
    if _SLUG.fullmatch(value) is None:
        raise PydanticCustomError(
            "slug", "expected a slug: lowercase letters, digits and dashes, starting with a letter or digit"
        )
    return value


def _email(value: str) -> str:
    if _EMAIL.fullmatch(value.strip()) is None:
        raise PydanticCustomError("email", "expected an email address like ana@example.com")
    return value.strip()


def _role(value: str) -> str:
    if value not in ROLES:
        raise PydanticCustomError("role", "expected one of owner, admin, member, viewer")
    return value


def _method(value: str) -> str:
    if value.upper() not in HTTP_METHODS:
        raise PydanticCustomError("method", "expected an HTTP method: " + ", ".join(HTTP_METHODS))
    return value.upper()


def _scalar_text(value: object) -> object:
    """Header values like `3` or `true` are text on the wire; accept them as YAML wrote them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _header_name(value: str) -> str:
    if _TOKEN.fullmatch(value) is None:
        raise PydanticCustomError(
            "header", "expected a header name (letters, digits and - _ . ! # $ % & ' * + ^ ` | ~)"
        )
    return value


def _header_value(value: SecretStr) -> SecretStr:
    if any(ch in value.get_secret_value() for ch in "\r\n\0"):
        raise PydanticCustomError(
            "header", "a header value cannot contain line breaks (the value is not shown)"
        )
    return value


def _keys(value: object) -> object:
    """A keymap entry may list keys (`[ctrl+r, f5]`); Textual wants them comma-separated."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(v.strip() for v in value)
    return value


def _ip_version(value: object) -> object:
    """`ip_version: 4 | 6 | any` → 4, 6 or 0 (any)."""
    if value == "any":
        return 0
    if value in (4, 6, "4", "6") and not isinstance(value, bool):
        return int(str(value))
    raise PydanticCustomError("ip_version", "expected 4, 6 or any")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Watch = Annotated[float, BeforeValidator(_watch)]
Size = Annotated[int, BeforeValidator(parse_size)]
Money = Annotated[tuple[Decimal, str], BeforeValidator(parse_money)]
Name = Annotated[str, AfterValidator(_name)]
Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
Role = Annotated[str, AfterValidator(_role)]
Method = Annotated[str, AfterValidator(_method)]
Listen = Annotated[str, AfterValidator(_listen)]
HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[SecretStr, BeforeValidator(_scalar_text), AfterValidator(_header_value)]
Keys = Annotated[str, BeforeValidator(_keys), AfterValidator(_not_blank)]
Text = Annotated[str, AfterValidator(_not_blank)]
IpVersion = Annotated[int, BeforeValidator(_ip_version)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
