"""Building the checks of a config: org and team, kind from the URL, defaults, conditions, dependencies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from pulsewatch.config_heartbeat import check_heartbeat_tokens, heartbeat_check
from pulsewatch.config_kinds import DEFAULT_CONDITIONS, HTTP_KINDS, KINDS, classify_url, placeholder_problem
from pulsewatch.config_options import check_defaults, probe_options
from pulsewatch.config_schema import CheckSection, DefaultsSection
from pulsewatch.config_yaml import Loc, Report, first_seen, listing, quote, suggest
from pulsewatch.domain.conditions import Condition, ConditionSyntaxError, parse_condition
from pulsewatch.domain.durations import compact_duration as format_duration
from pulsewatch.domain.monitoring import DEFAULT_ORG, Check, HttpOptions

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pulsewatch.config_build import Validated
    from pulsewatch.config_options import ProbeOptions
    from pulsewatch.config_types import OrganizationConfig

DEFAULT_INTERVAL = 60.0
DEFAULT_TIMEOUT = 10.0

T = TypeVar("T")


def build_checks(
    valid: Validated,
    report: Report,
    organizations: tuple[OrganizationConfig, ...],
    *,
    base_dir: Path | None = None,
) -> tuple[Check, ...]:
    """The config's checks, in file order; every problem goes to `report`.

    `base_dir` is the folder relative file paths (ca_file, client_cert...) are read from: the config
    file's; None reads them from the current directory.
    """
    return _ChecksBuilder(valid, report, organizations, base_dir).build()


class _ChecksBuilder:
    """Builds the checks: org and team, kind from the URL, defaults merged, conditions parsed."""

    def __init__(
        self,
        valid: Validated,
        report: Report,
        organizations: tuple[OrganizationConfig, ...],
        base_dir: Path | None,
    ) -> None:
        self.valid = valid
        self.base_dir = base_dir
        self.report = report
        self.defaults = valid.section("defaults", DefaultsSection) or DefaultsSection()
        self.org_slugs = valid.raw_names("organizations", "slug")
        self.teams = {org.slug: {t.name for t in org.teams} for org in organizations}
        self.channel_names = valid.raw_names("channels", "name")
        self._parsed: dict[tuple[str, ...], tuple[Condition, ...]] = {}
        self.default_conditions = self._conditions(self.defaults.conditions, ("defaults", "conditions"))
        self.default_soft = self._conditions(self.defaults.soft_conditions, ("defaults", "soft_conditions"))
        check_defaults(report, self.defaults)
        self._check_notify(self.defaults.notify, ("defaults", "notify"))
        d = self.defaults
        if d.interval is not None and d.timeout is not None and d.timeout > d.interval:
            self.report.add(("defaults", "timeout"), _timeout_message(d.timeout, d.interval))

    def build(self) -> tuple[Check, ...]:
        seen: dict[tuple[str, str], Loc] = {}
        built: list[tuple[int, Check]] = []
        for i, section in self.valid.list_items("checks", CheckSection):
            org = self._org(("checks", i), section)
            check = self._check(i, section, org)
            what = f'check name "{section.name}" in organization "{org}"'
            if first_seen(self.report, seen, (org, section.name), ("checks", i, "name"), what) and check:
                built.append((i, check))
        self._check_dependencies(built)
        check_heartbeat_tokens(self.valid, self.report, built)
        return tuple(check for _, check in built)

    def _check(self, i: int, c: CheckSection, org: str) -> Check | None:
        """The domain Check, or None when it cannot be built; either way every field is checked."""
        base: Loc = ("checks", i)
        team = self._team(base, c, org)
        if c.heartbeat is not None or "heartbeat" in self.valid.dropped.get(base, ()):
            self._check_notify(c.notify, (*base, "notify"))
            notify = _pick(c.notify, self.defaults.notify, [])
            return heartbeat_check(self.report, base, c, org=org, team=team, notify=notify)
        interval, timeout = self._timing(base, c)
        self._check_notify(c.notify, (*base, "notify"))
        target = self._target(base, c)
        if target is None:
            self._conditions(c.conditions, (*base, "conditions"))
            self._conditions(c.soft_conditions, (*base, "soft_conditions"))
            return None
        url, kind = target
        d = self.defaults
        retries = _pick(c.retries, d.retries, 0)
        options = probe_options(
            self.report,
            base,
            c,
            d,
            kind=kind,
            url=url,
            timing=(interval, timeout, retries),
            base_dir=self.base_dir,
        )
        return Check(
            name=c.name,
            url=url,
            kind=kind,
            interval=interval,
            timeout=timeout,
            conditions=self._check_conditions(base, c, kind, soft=False),
            failure_threshold=_pick(c.failure_threshold, d.failure_threshold, 1),
            success_threshold=_pick(c.success_threshold, d.success_threshold, 1),
            retries=retries,
            org=org,
            team=team,
            tags=tuple(dict.fromkeys(c.tags)),
            depends_on=tuple(dict.fromkeys(c.depends_on)),
            notify=tuple(dict.fromkeys(_pick(c.notify, d.notify, []))),
            paused=c.paused,
            http=self._http_options(c, kind, options),
            soft_conditions=self._check_conditions(base, c, kind, soft=True),
            retry_interval=options.retry_interval,
            ip_version=options.ip_version,
            tls=options.tls,
            stream=options.stream,
            packets=options.packets,
        )

    def _target(self, base: Loc, c: CheckSection) -> tuple[str, str] | None:
        """The URL and the kind it asks for, or None (reported) when this version cannot probe it."""
        if c.url is None:
            self.report.add(
                (*base, "url"),
                f"required field missing (the URL's scheme picks the kind: {', '.join(KINDS)}), "
                "or give heartbeat: for a push check",
            )
            return None
        try:
            return c.url, classify_url(c.url)
        except ValueError as exc:
            self.report.add((*base, "url"), f"{exc}, got {_masked_url(c.url)}")
            return None

    def _check_conditions(
        self, base: Loc, c: CheckSection, kind: str, *, soft: bool
    ) -> tuple[Condition, ...]:
        """The check's own (soft) conditions, else the defaults' for http(s), else the kind's built-in ones;
        each must use only placeholders the kind's probe fills in."""
        name = "soft_conditions" if soft else "conditions"
        own = c.soft_conditions if soft else c.conditions
        if own:
            loc = (*base, name)
            parsed = self._conditions(own, loc)
            for j, text in enumerate(own):
                found = next((p for p in parsed if p.source == text), None)
                problem = placeholder_problem(found, kind) if found is not None else None
                if problem is not None:
                    self.report.add((*loc, j), problem)
            return parsed
        defaults = self.default_soft if soft else self.default_conditions
        if kind in HTTP_KINDS and defaults:
            for condition in defaults:
                problem = placeholder_problem(condition, kind)
                if problem is not None:
                    self.report.add(
                        (*base, "url"),
                        f"defaults.{name} {quote(condition.source)} cannot hold on this check: {problem} "
                        f"(give the check {name} of its own)",
                    )
            return defaults
        return () if soft else self._conditions(list(DEFAULT_CONDITIONS.get(kind, ())), ())

    def _org(self, base: Loc, c: CheckSection) -> str:
        if not self.org_slugs:
            if c.org is not None and c.org != DEFAULT_ORG:
                self.report.add(
                    (*base, "org"),
                    f'organization "{c.org}" is not declared:'
                    " declare it under organizations: or leave org out",
                )
            return DEFAULT_ORG
        if c.org is None:
            if len(self.org_slugs) == 1:
                return next(iter(self.org_slugs))
            self.report.add(
                (*base, "org"),
                f"required when several organizations are declared ({', '.join(sorted(self.org_slugs))})",
            )
            return DEFAULT_ORG
        if c.org not in self.org_slugs:
            self.report.add(
                (*base, "org"),
                f'unknown organization "{c.org}"; {listing("organizations", self.org_slugs)}'
                + suggest(c.org, self.org_slugs),
            )
        return c.org

    def _team(self, base: Loc, c: CheckSection, org: str) -> str | None:
        teams = self.teams.get(org)
        if c.team is not None and teams is not None and c.team not in teams:
            self.report.add(
                (*base, "team"),
                f'unknown team "{c.team}" in organization "{org}"; {listing("teams", teams)}'
                + suggest(c.team, teams),
            )
        return c.team

    def _timing(self, base: Loc, c: CheckSection) -> tuple[float, float]:
        interval = _pick(c.interval, self.defaults.interval, DEFAULT_INTERVAL)
        if c.timeout is not None:
            interval_known = "interval" not in self.valid.dropped.get(base, ()) and (
                c.interval is not None or "interval" not in self.valid.dropped.get(("defaults",), ())
            )
            if c.timeout > interval and interval_known:
                self.report.add((*base, "timeout"), _timeout_message(c.timeout, interval))
            return interval, c.timeout
        # A default timeout (built in or from `defaults:`) never exceeds a check's own interval: it
        # is a default, and a 5s check should not need a timeout line just because the default is 10s.
        return interval, min(_pick(None, self.defaults.timeout, DEFAULT_TIMEOUT), interval)

    def _http_options(self, c: CheckSection, kind: str, options: ProbeOptions) -> HttpOptions:
        """The http(s) options (a field other kinds cannot take is reported by `probe_options`)."""
        if kind not in HTTP_KINDS:
            return HttpOptions()
        d = self.defaults
        headers = {k.lower(): (k, v.get_secret_value()) for k, v in (d.headers or {}).items()}
        headers.update({k.lower(): (k, v.get_secret_value()) for k, v in (c.headers or {}).items()})
        if options.authorization is not None:
            headers["authorization"] = ("Authorization", options.authorization)
        plain = HttpOptions()
        return HttpOptions(
            method=_pick(c.method, d.method, plain.method),
            headers=tuple(headers.values()),
            body=c.body,
            follow_redirects=_pick(c.follow_redirects, d.follow_redirects, plain.follow_redirects),
            max_redirects=_pick(c.max_redirects, d.max_redirects, plain.max_redirects),
            verify_tls=_pick(c.verify_tls, d.verify_tls, plain.verify_tls),
            max_body_bytes=_pick(c.max_body_bytes, d.max_body_bytes, plain.max_body_bytes),
            proxy=options.proxy,
        )

    def _conditions(self, texts: list[str] | None, loc: Loc) -> tuple[Condition, ...]:
        """The parsed `texts`; checks with the same list share one tuple of (immutable) conditions.

        Most checks carry the same few conditions (the kind's built-in ones, or copies in the file):
        at 10,000 checks their own parsed copies held ~4 MB. Lists with a bad condition are not
        shared, so each place that holds one gets its own problem line.
        """
        key = tuple(texts or ())
        shared = self._parsed.get(key)
        if shared is not None:
            return shared
        failed = False
        parsed = []
        for j, text in enumerate(texts or []):
            try:
                parsed.append(parse_condition(text))
            except ConditionSyntaxError as exc:
                failed = True
                position = self.report.smap.scalar_column((*loc, j), exc.column) if loc else None
                where = "" if position else f" (at character {exc.column + 1})"
                self.report.add(
                    (*loc, j), f"invalid condition {quote(text)}: {exc.message}{where}", position=position
                )
        result = tuple(parsed)
        if not failed:
            self._parsed[key] = result
        return result

    def _check_notify(self, names: list[str] | None, loc: Loc) -> None:
        for j, name in enumerate(names or []):
            if name not in self.channel_names:
                self.report.add(
                    (*loc, j),
                    f'unknown channel "{name}"; {listing("channels", self.channel_names)}'
                    + suggest(name, self.channel_names),
                )

    def _check_dependencies(self, built: list[tuple[int, Check]]) -> None:
        by_key = {check.key: (i, check) for i, check in built}
        # A check that failed its own validation is already reported; naming it is not a second error.
        built_indexes = {i for i, _ in built}
        raw = self.valid.raw.get("checks")
        unbuilt = {
            item["name"]
            for i, item in enumerate(raw if isinstance(raw, list) else [])
            if i not in built_indexes and isinstance(item, dict) and isinstance(item.get("name"), str)
        }
        names_by_org: dict[str, set[str]] = {}
        for _, check in built:
            names_by_org.setdefault(check.org, set()).add(check.name)
        for i, check in built:
            for j, name in enumerate(check.depends_on):
                loc: Loc = ("checks", i, "depends_on", j)
                if name == check.name:
                    self.report.add(loc, "a check cannot depend on itself")
                elif (check.org, name) not in by_key and name not in unbuilt:
                    self.report.add(
                        loc,
                        f'unknown check "{name}" in organization "{check.org}"'
                        + suggest(name, names_by_org.get(check.org, set())),
                    )
        for start, cycle in _find_cycles(by_key):
            shown = cycle if len(cycle) <= 8 else [*cycle[:4], "…", *cycle[-2:]]
            size = f" ({len(cycle) - 1} checks)" if len(cycle) > 8 else ""
            self.report.add(
                ("checks", by_key[start][0], "depends_on"), "dependency cycle: " + " → ".join(shown) + size
            )


def _find_cycles(by_key: dict[tuple[str, str], tuple[int, Check]]) -> list[tuple[tuple[str, str], list[str]]]:
    """Each dependency cycle once, as (key of the check it starts from, names along it back to the start).

    An iterative depth-first search in file order (dicts keep insertion order): a chain of thousands
    of dependencies must not hit Python's recursion limit.
    """
    done: set[tuple[str, str]] = set()
    cycles: list[tuple[tuple[str, str], list[str]]] = []

    def neighbours(key: tuple[str, str]) -> Iterator[tuple[str, str]]:
        org, name = key
        return iter([(org, d) for d in by_key[key][1].depends_on if d != name and (org, d) in by_key])

    for root in by_key:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        stack = [neighbours(root)]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if following in on_path:
                loop = path[path.index(following) :]
                cycles.append((following, [key[1] for key in loop] + [following[1]]))
            elif following not in done:
                path.append(following)
                on_path.add(following)
                stack.append(neighbours(following))
    return cycles


def _pick(value: T | None, default: T | None, fallback: T) -> T:
    if value is not None:
        return value
    return default if default is not None else fallback


def _timeout_message(timeout: float, interval: float) -> str:
    return (
        f"timeout {format_duration(timeout)} is longer than the interval {format_duration(interval)}: "
        "a probe must end before the next one is due (make the timeout at most the interval)"
    )


def _masked_url(url: str) -> str:
    """The URL for an error message, with any password replaced: `https://user:***@host/`."""
    masked = re.sub(r"(//[^/@:\s]*):[^/@\s]*@", r"\1:***@", url)
    return quote(masked if len(masked) <= 80 else masked[:77] + "...")
