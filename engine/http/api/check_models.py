"""Request bodies for checks: validated with the config's own rules, so the API and the YAML file accept
and refuse the same checks (URL shapes per kind, the condition language, fields that suit the kind).

Every problem is reported at once with its location (`body.conditions.1`), as 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from pulsewatch.config_kinds import DEFAULT_CONDITIONS, HTTP_KINDS, classify_url, placeholder_problem
from pulsewatch.config_schema import Name
from pulsewatch.domain.conditions import Condition, ConditionSyntaxError, parse_condition
from pulsewatch.domain.monitoring import API_ORIGIN, Check, HttpOptions


def _url(value: str) -> str:
    try:
        classify_url(value)
    except ValueError as exc:
        raise PydanticCustomError("url", str(exc)) from None
    return value


def _condition(value: str) -> str:
    try:
        parse_condition(value)
    except ConditionSyntaxError as exc:
        raise PydanticCustomError(
            "condition", "{message} (column {column})", {"message": exc.message, "column": exc.column}
        ) from None
    return value


Url = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_url)]
ConditionText = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_condition)]
Label = Annotated[Name, Field(min_length=1, max_length=200)]
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class HttpIn(BaseModel):
    """How an http(s) check makes its request."""

    model_config = ConfigDict(extra="forbid")

    method: Method = "GET"
    headers: dict[
        Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")],
        Annotated[str, Field(max_length=4000)],
    ] = Field(default_factory=dict, max_length=50)
    """Sent with every request; values are secret (never returned)."""
    body: str | None = Field(default=None, max_length=100_000)
    follow_redirects: bool = True
    verify_tls: bool = True


class _CheckFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def _checked(
        self,
        url: str | None,
        conditions: list[str] | None,
        http: HttpIn | None,
        interval: float | None,
        timeout: float | None,
    ) -> None:
        """Rules across fields (only once each field is valid on its own)."""
        kind = classify_url(url) if url is not None else None
        if kind is not None and conditions is not None:
            for i, text in enumerate(conditions):
                problem = placeholder_problem(parse_condition(text), kind)
                if problem is not None:
                    raise PydanticCustomError(
                        "condition", "conditions[{i}]: {problem}", {"i": i, "problem": problem}
                    )
        if kind is not None and http is not None and kind not in HTTP_KINDS:
            raise PydanticCustomError(
                "http",
                "only http and https checks take http options (this is a {kind} check)",
                {"kind": kind},
            )
        if interval is not None and timeout is not None and timeout > interval:
            raise PydanticCustomError(
                "timeout", "timeout_s must be at most interval_s: a probe must end before the next one is due"
            )


class CheckIn(_CheckFields):
    """A new check. Only `name` and `url` are required; the scheme of `url` picks the kind."""

    name: Label
    url: Url = Field(
        description="http(s)://…, tcp://HOST:PORT, udp://HOST:PORT, tls://HOST[:PORT], "
        "dns://RESOLVER/NAME?type=A or icmp://HOST."
    )
    team: Label | None = None
    tags: list[Label] = Field(default_factory=list, max_length=50)
    interval_s: float = Field(default=60.0, ge=1, le=86_400)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    conditions: list[ConditionText] = Field(default_factory=list, max_length=50)
    failure_threshold: int = Field(default=1, ge=1, le=100)
    success_threshold: int = Field(default=1, ge=1, le=100)
    retries: int = Field(default=0, ge=0, le=10)
    notify: list[Label] = Field(default_factory=list, max_length=50)
    paused: bool = False
    http: HttpIn | None = None

    @model_validator(mode="after")
    def _across(self) -> CheckIn:
        self._checked(self.url, self.conditions, self.http, self.interval_s, self.timeout_s)
        return self

    def to_check(self, org: str) -> Check:
        """The domain check, owned by the API, in `org`."""
        kind = classify_url(self.url)
        sources = self.conditions or list(DEFAULT_CONDITIONS.get(kind, ()))
        return Check(
            name=self.name,
            url=self.url,
            kind=kind,
            interval=self.interval_s,
            timeout=self.timeout_s,
            conditions=_parsed(sources),
            failure_threshold=self.failure_threshold,
            success_threshold=self.success_threshold,
            retries=self.retries,
            org=org,
            team=self.team,
            tags=tuple(dict.fromkeys(self.tags)),
            notify=tuple(dict.fromkeys(self.notify)),
            paused=self.paused,
            http=_http(self.http),
            origin=API_ORIGIN,
        )


class CheckPatch(_CheckFields):
    """Fields to change on an API-owned check; those left out keep their value. Pause and resume
    have their own operations."""

    name: Label | None = None
    url: Url | None = None
    team: Label | None = None
    tags: list[Label] | None = Field(default=None, max_length=50)
    interval_s: float | None = Field(default=None, ge=1, le=86_400)
    timeout_s: float | None = Field(default=None, gt=0, le=300)
    conditions: list[ConditionText] | None = Field(default=None, max_length=50)
    failure_threshold: int | None = Field(default=None, ge=1, le=100)
    success_threshold: int | None = Field(default=None, ge=1, le=100)
    retries: int | None = Field(default=None, ge=0, le=10)
    notify: list[Label] | None = Field(default=None, max_length=50)
    http: HttpIn | None = None

    @model_validator(mode="after")
    def _across(self) -> CheckPatch:
        self._checked(self.url, self.conditions, self.http, self.interval_s, self.timeout_s)
        return self

    def changes(self, current: Check) -> dict[str, Any]:
        """The Check fields to replace on `current`, checked against its other fields.

        Raises:
            PydanticCustomError: the result would break a rule across fields (a timeout longer than
                the interval, a placeholder the kind lacks).
        """
        sent = self.model_fields_set
        change: dict[str, Any] = {}
        if "name" in sent and self.name is not None:
            change["name"] = self.name
        if "url" in sent and self.url is not None:
            change["url"], change["kind"] = self.url, classify_url(self.url)
        if "team" in sent:
            change["team"] = self.team
        for field, attr in (("tags", "tags"), ("notify", "notify")):
            value = getattr(self, field)
            if field in sent and value is not None:
                change[attr] = tuple(dict.fromkeys(value))
        for field, attr in (
            ("interval_s", "interval"),
            ("timeout_s", "timeout"),
            ("failure_threshold", "failure_threshold"),
            ("success_threshold", "success_threshold"),
            ("retries", "retries"),
        ):
            value = getattr(self, field)
            if field in sent and value is not None:
                change[attr] = value
        if "conditions" in sent and self.conditions is not None:
            change["conditions"] = _parsed(self.conditions)
        if "http" in sent:
            change["http"] = _http(self.http)
        kind = change.get("kind", current.kind)
        if (
            "conditions" not in change
            and kind != current.kind
            and [c.source for c in current.conditions] == list(DEFAULT_CONDITIONS.get(current.kind, ()))
        ):  # the old kind's default conditions follow the kind, as they would in the YAML file
            change["conditions"] = _parsed(list(DEFAULT_CONDITIONS.get(kind, ())))
        if kind not in HTTP_KINDS:
            if self.http is not None:
                raise PydanticCustomError(
                    "http",
                    "only http and https checks take http options (this is a {kind} check)",
                    {"kind": kind},
                )
            change["http"] = HttpOptions()
        sources = [c.source for c in change.get("conditions", current.conditions)]
        self._checked(
            change.get("url", current.url),
            sources,
            None,
            change.get("interval", current.interval),
            change.get("timeout", current.timeout),
        )
        return change


def _parsed(sources: list[str]) -> tuple[Condition, ...]:
    return tuple(parse_condition(s) for s in sources)


def _http(http: HttpIn | None) -> HttpOptions:
    if http is None:
        return HttpOptions()
    return HttpOptions(
        method=http.method,
        headers=tuple(http.headers.items()),
        body=http.body,
        follow_redirects=http.follow_redirects,
        verify_tls=http.verify_tls,
    )
