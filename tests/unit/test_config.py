"""The YAML config: what loads, what every problem line says, and where it points.

Texts are written with `cfg()` so that line 1 of the YAML is the first line after the opening quotes;
positions in the expected lines can be read off the test itself.
"""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulsewatch.config import (
    LoadedConfig,
    Money,
    default_config_path,
    load_config,
    parse_config,
)
from pulsewatch.config_schema import ConfigFile, parse_duration
from pulsewatch.domain.monitoring import DEFAULT_ORG, HttpOptions
from pulsewatch.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^pulsewatch\.yaml:\d+:\d+: \S.*$")


def cfg(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def load(text: str, **environ: str) -> LoadedConfig:
    return parse_config(cfg(text), "pulsewatch.yaml", environ=environ)


def problems(text: str, **environ: str) -> list[str]:
    """The problem lines of a config that must fail; each is checked to be one well-formed line."""
    with pytest.raises(ConfigError) as caught:
        parse_config(cfg(text), "pulsewatch.yaml", environ=environ)
    found = caught.value.problems
    assert found, "a ConfigError must list its problems"
    for line in found:
        assert PROBLEM_LINE.match(line), line
    return found


def only_problem(text: str, **environ: str) -> str:
    found = problems(text, **environ)
    assert len(found) == 1, found
    return found[0]


class TestWhatLoads:
    def test_it_loads_a_minimal_config_with_defaults(self) -> None:
        config = load(
            """
            checks:
              - name: api
                url: https://api.example.com/health
              - name: db
                url: tcp://db.example.com:5432
            """
        )
        api, db = config.checks
        assert (api.name, api.kind, api.org, api.id) == ("api", "https", DEFAULT_ORG, None)
        assert (api.interval, api.timeout) == (60.0, 10.0)
        assert [c.source for c in api.conditions] == ["[STATUS] < 400"]
        assert api.http == HttpOptions()
        assert (db.kind, [c.source for c in db.conditions]) == ("tcp", ["[CONNECTED] == true"])
        assert config.path is None
        assert config.database_url is None
        assert (config.engine.name, config.engine.listen, config.engine.concurrency) == (None, None, 256)
        assert (config.console.theme, config.console.keymap) == ("pulsewatch-dark", {})
        assert config.organizations == ()
        assert config.plans == ()
        assert config.channels == ()

    def test_it_loads_the_contract_of_design_section_7(self) -> None:
        """DESIGN.md §7 as users script it."""
        config = load(
            """
            database:
              url: sqlite:///pulsewatch.db
            engine:
              listen: 127.0.0.1:8787
            channels:
              - name: ops
                urls: ["json://127.0.0.1:9000/hook", "mailto://user:pw@mail.example.com"]
            plans:
              - name: starter
                price: 19.00 USD
                limits: {checks: 50, min_interval: 60s, seats: 5}
            organizations:
              - slug: acme
                name: Acme Inc
                plan: starter
                members: [{email: ana@acme.test, role: owner}]
                teams: [{name: web, members: [{email: bo@acme.test, role: member}]}]
            checks:
              - name: api
                org: acme
                url: https://api.example.com/health
                interval: 30s
                timeout: 5s
                conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
                failure_threshold: 3
                success_threshold: 2
                notify: [ops]
              - name: nightly-backup
                heartbeat: {period: 1d, grace: 1h, token: nightly-7f3a}
            """
        )
        check, backup = config.checks
        assert (backup.org, backup.kind, backup.url) == ("acme", "heartbeat", "/ping/nightly-7f3a")
        assert (check.org, check.interval, check.timeout) == ("acme", 30.0, 5.0)
        assert (check.failure_threshold, check.success_threshold, check.notify) == (3, 2, ("ops",))
        assert [c.source for c in check.conditions] == ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
        assert config.database_url == "sqlite:///pulsewatch.db"
        assert config.engine.listen == "127.0.0.1:8787"
        (plan,) = config.plans
        assert plan.price == Money(Decimal("19.00"), "USD")
        assert isinstance(plan.price.amount, Decimal)
        assert (plan.limits.checks, plan.limits.min_interval, plan.limits.seats) == (50, 60.0, 5)
        (org,) = config.organizations
        assert (org.slug, org.name, org.plan) == ("acme", "Acme Inc", "starter")
        assert org.members[0].email == "ana@acme.test"
        assert org.members[0].role == "owner"
        assert org.teams[0].name == "web"
        assert org.teams[0].members[0].email == "bo@acme.test"
        assert config.channels[0].name == "ops"
        assert config.channels[0].urls[1].get_secret_value() == "mailto://user:pw@mail.example.com"

    def test_it_reads_every_check_field(self) -> None:
        config = load(
            """
            checks:
              - name: login
                team: web
                url: http://app.example.com/login
                interval: 1m30s
                timeout: 1500ms
                retries: 2
                method: post
                headers: {Authorization: Bearer t0k3n, X-Count: 3}
                body: '{"a": 1}'
                follow_redirects: false
                max_redirects: 0
                verify_tls: false
                max_body_bytes: 64KiB
                tags: [prod, prod, eu]
                depends_on: [edge]
                paused: true
              - name: edge
                url: https://edge.example.com
            """
        )
        check = config.checks[0]
        assert (check.interval, check.timeout, check.retries, check.team) == (90.0, 1.5, 2, "web")
        assert check.tags == ("prod", "eu")
        assert check.depends_on == ("edge",)
        assert check.paused is True
        assert check.http == HttpOptions(
            method="POST",
            headers=(("Authorization", "Bearer t0k3n"), ("X-Count", "3")),
            body='{"a": 1}',
            follow_redirects=False,
            max_redirects=0,
            verify_tls=False,
            max_body_bytes=65536,
        )

    def test_it_reads_engine_and_console_settings(self) -> None:
        config = load(
            """
            engine: {name: eu-1, listen: "[::1]:0", concurrency: 32}
            console:
              theme: pulsewatch-light
              keymap: {pw.run-now: "ctrl+r,f5", pw.pause: [p, ctrl+p]}
            """
        )
        assert (config.engine.name, config.engine.listen, config.engine.concurrency) == (
            "eu-1",
            "[::1]:0",
            32,
        )
        assert config.console.theme == "pulsewatch-light"
        assert config.console.keymap == {"pw.run-now": "ctrl+r,f5", "pw.pause": "p,ctrl+p"}

    def test_it_loads_an_empty_file_as_an_empty_config(self) -> None:
        assert load("").checks == ()
        assert load("# nothing yet\nchecks:\n").checks == ()

    def test_yaml_anchors_and_merge_keys_work(self) -> None:
        config = load(
            """
            checks:
              - &base
                name: a
                url: https://a.example.com
                interval: 10s
              - <<: *base
                name: b
            """
        )
        assert [(c.name, c.interval) for c in config.checks] == [("a", 10.0), ("b", 10.0)]

    def test_the_same_check_name_is_fine_in_two_organizations(self) -> None:
        config = load(
            """
            organizations: [{slug: a}, {slug: b}]
            checks:
              - {name: api, org: a, url: https://a.example.com}
              - {name: api, org: b, url: https://b.example.com}
            """
        )
        assert [c.key for c in config.checks] == [("a", "api"), ("b", "api")]
        assert config.organizations[0].name == "a"

    def test_one_declared_organization_is_the_default_org(self) -> None:
        config = load(
            """
            organizations: [{slug: acme}]
            checks: [{name: api, url: https://a.example.com}]
            """
        )
        assert config.checks[0].org == "acme"


class TestDefaults:
    def test_defaults_are_merged_into_each_check(self) -> None:
        config = load(
            """
            channels: [{name: ops, urls: ["json://hooks.example.com/x"]}]
            defaults:
              interval: 20s
              timeout: 4s
              failure_threshold: 3
              success_threshold: 2
              retries: 1
              notify: [ops]
              conditions: ["[STATUS] == 200"]
              headers: {User-Agent: pw, Accept: text/plain}
              verify_tls: false
            checks:
              - name: web
                url: https://example.com
                headers: {accept: application/json}
              - name: own
                url: https://example.org
                interval: 5m
                conditions: ["[STATUS] == 204"]
                notify: []
              - name: db
                url: tcp://db.example.com:5432
            """
        )
        web, own, db = config.checks
        assert (web.interval, web.timeout, web.failure_threshold, web.success_threshold) == (20.0, 4.0, 3, 2)
        assert (web.retries, web.notify) == (1, ("ops",))
        assert [c.source for c in web.conditions] == ["[STATUS] == 200"]
        assert web.http.headers == (("User-Agent", "pw"), ("accept", "application/json"))
        assert web.http.verify_tls is False
        assert (own.interval, own.notify) == (300.0, ())
        assert [c.source for c in own.conditions] == ["[STATUS] == 204"]
        # http-only defaults and http conditions never reach a tcp check
        assert [c.source for c in db.conditions] == ["[CONNECTED] == true"]
        assert db.http == HttpOptions()

    def test_a_default_timeout_never_exceeds_a_checks_interval(self) -> None:
        config = load(
            """
            checks:
              - {name: fast, url: https://example.com, interval: 2s}
              - {name: equal, url: https://example.com/b, interval: 5s, timeout: 5s}
            """
        )
        assert [(c.interval, c.timeout) for c in config.checks] == [(2.0, 2.0), (5.0, 5.0)]


class TestProblemFormat:
    def test_the_bad_duration_example_of_the_brief(self) -> None:
        text = """
            checks:
              - name: a
                url: https://a.example.com
              - name: b
                url: https://b.example.com
              - name: c
                url: https://c.example.com
                interval: 5 minutes
            """
        assert only_problem(text) == (
            "pulsewatch.yaml:8:15: checks[2].interval: "
            'expected a duration like 500ms, 30s, 5m, 1h or 2d, got "5 minutes"'
        )

    def test_every_problem_is_reported_in_file_order(self) -> None:
        found = problems(
            """
            engine:
              concurrency: 0
            checks:
              - name: a
                url: ftp://a.example.com
                interval: 5
                notify: [nobody]
              - name: a
                url: https://b.example.com
            """
        )
        assert [p.split(": ")[1] for p in found] == [
            "engine.concurrency",
            "checks[0].url",
            "checks[0].interval",
            "checks[0].notify[0]",
            "checks[1].name",
        ]
        lines = [int(p.split(":")[1]) for p in found]
        assert lines == sorted(lines)

    def test_the_error_message_lists_every_problem(self) -> None:
        with pytest.raises(ConfigError) as caught:
            parse_config("engine: {concurrency: 0}\nconsole: {theme: ''}\n", "x.yaml", environ={})
        assert str(caught.value).splitlines()[0] == "x.yaml: 2 problems in the configuration:"
        assert str(caught.value).splitlines()[1:] == caught.value.problems
        assert caught.value.title == "Invalid configuration"

    def test_a_missing_field_points_at_the_parent_mapping(self) -> None:
        text = """
            checks:
              - url: https://a.example.com
                interval: 30s
            """
        assert only_problem(text) == "pulsewatch.yaml:2:5: checks[0].name: required field missing"

    def test_a_missing_url_says_what_it_is_for(self) -> None:
        assert only_problem("checks: [{name: a}]\n") == (
            "pulsewatch.yaml:1:10: checks[0].url: "
            "required field missing (the URL's scheme picks the kind: http, https, tcp, udp, tls, dns, "
            "icmp), or give heartbeat: for a push check"
        )

    def test_a_bad_field_does_not_hide_the_other_problems_of_its_check(self) -> None:
        found = problems(
            """
            checks:
              - name: a
                url: https://a.example.com
                interval: soon
                notify: [ghost]
                depends_on: [nothing]
            """
        )
        assert [p.split(": ")[1] for p in found] == [
            "checks[0].interval",
            "checks[0].notify[0]",
            "checks[0].depends_on[0]",
        ]

    @pytest.mark.parametrize(
        "text",
        [
            'checks: [{name: a, url: "https://a.example.com", conditions: ["[STATUS] ==\\n"]}]\n',
            '"a\\nb": 1\n',
            'checks: [{name: a, url: "https://a.example.com/\\nx"}]\n',
        ],
    )
    def test_user_text_with_line_breaks_stays_on_one_line(self, text: str) -> None:
        assert "\\n" in only_problem(text)  # escaped, and `problems()` checked it is a single line

    def test_a_top_level_list_is_refused(self) -> None:
        assert "expected sections like database:" in only_problem("- a\n- b\n")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("checks: {name: a}\n", "pulsewatch.yaml:1:9: checks: expected a list, got a mapping"),
            (
                "checks: [api]\n",
                'pulsewatch.yaml:1:10: checks[0]: expected a mapping (key: value lines), got "api"',
            ),
            (
                "engine: {concurrency: many}\n",
                'pulsewatch.yaml:1:23: engine.concurrency: expected a whole number, got "many"',
            ),
            (
                "engine: {concurrency: 0}\n",
                "pulsewatch.yaml:1:23: engine.concurrency: must be at least 1, got 0",
            ),
            (
                "checks: [{name: 7, url: 'https://a.example.com'}]\n",
                "pulsewatch.yaml:1:17: checks[0].name: expected text, got 7",
            ),
            (
                "checks: [{name: '', url: 'https://a.example.com'}]\n",
                'pulsewatch.yaml:1:17: checks[0].name: must not be empty, got ""',
            ),
            (
                "checks: [{name: a, url: 'https://a.example.com', paused: maybe}]\n",
                'pulsewatch.yaml:1:58: checks[0].paused: expected true or false, got "maybe"',
            ),
            (
                "engine: {listen: localhost}\n",
                "pulsewatch.yaml:1:18: engine.listen: expected HOST:PORT like "
                '127.0.0.1:8787 or [::1]:8787, got "localhost"',
            ),
            (
                "console: {keymap: {pw.quit: ''}}\n",
                'pulsewatch.yaml:1:29: console.keymap["pw.quit"]: must not be empty, got ""',
            ),
        ],
    )
    def test_type_problems_read_as_sentences(self, text: str, expected: str) -> None:
        assert only_problem(text) == expected


class TestYamlProblems:
    def test_a_syntax_error_has_its_line(self) -> None:
        # The wording is the parser's (libyaml or PyYAML); the position is ours to promise.
        assert only_problem("checks:\n  - name: a\n   url: b\n").startswith(
            "pulsewatch.yaml:3:4: YAML syntax error: "
        )

    def test_a_duplicate_key_is_an_error_not_a_silent_override(self) -> None:
        text = """
            checks:
              - name: a
                url: https://a.example.com
                name: b
            """
        assert only_problem(text) == 'pulsewatch.yaml:4:5: duplicate key "name" (first written at line 2)'

    def test_several_documents_are_refused(self) -> None:
        assert "YAML syntax error" in only_problem("checks: []\n---\nchecks: []\n")

    def test_a_recursive_alias_is_refused(self) -> None:
        assert "recursive YAML alias" in only_problem("a: &x [*x]\n")


class TestUnknownKeys:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "enigne: {}\n",
                'pulsewatch.yaml:1:1: enigne: unknown key "enigne"; did you mean "engine"? allowed keys: '
                "database, engine, console, defaults, channels, plans, organizations, checks, retention, "
                "escalation_policies, routes, maintenance, canaries, status_pages, api",
            ),
            (
                "engine:\n  concurency: 3\n",
                "pulsewatch.yaml:2:3: engine.concurency: unknown key "
                '"concurency"; did you mean "concurrency"? '
                "allowed keys: name, listen, concurrency, region, lease, quorum, buffer, watch",
            ),
            (
                "plans: [{name: p, limits: {seets: 3}}]\n",
                'pulsewatch.yaml:1:28: plans[0].limits.seets: unknown key "seets"; did you mean "seats"? '
                "allowed keys: checks, min_interval, seats, retention, sms, channels",
            ),
            (
                "organizations: [{slug: a, teams: [{name: t, members: [{email: a@b.c, rank: 1}]}]}]\n",
                'pulsewatch.yaml:1:70: organizations[0].teams[0].members[0].rank: unknown key "rank"; '
                "allowed keys: email, role",
            ),
        ],
    )
    def test_an_unknown_key_names_the_allowed_keys(self, text: str, expected: str) -> None:
        assert only_problem(text) == expected

    def test_an_unknown_check_key_points_at_the_key(self) -> None:
        text = """
            checks:
              - name: a
                url: https://a.example.com
                intervall: 30s
            """
        found = only_problem(text)
        assert found.startswith(
            'pulsewatch.yaml:4:5: checks[0].intervall: unknown key "intervall"; did you mean "interval"?'
        )
        assert "allowed keys: interval, timeout, conditions" in found


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("500ms", 0.5),
            ("30s", 30.0),
            ("5m", 300.0),
            ("1h", 3600.0),
            ("2d", 172800.0),
            ("1w", 604800.0),
            ("1h30m", 5400.0),
            ("1.5s", 1.5),
            (" 10s ", 10.0),
        ],
    )
    def test_it_reads_durations(self, text: str, seconds: float) -> None:
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            ("5 minutes", '"5 minutes"'),
            ("30", '"30"'),
            ("10S", '"10S"'),
            ("-5s", '"-5s"'),
            ("", '""'),
            ("s", '"s"'),
        ],
    )
    def test_it_refuses_what_is_not_a_duration(self, value: str, shown: str) -> None:
        found = only_problem(f"checks: [{{name: a, url: 'https://a.example.com', timeout: '{value}'}}]\n")
        assert found.endswith(
            f"checks[0].timeout: expected a duration like 500ms, 30s, 5m, 1h or 2d, got {shown}"
        )

    def test_a_bare_number_is_refused_with_a_hint(self) -> None:
        found = only_problem("defaults: {interval: 30}\n")
        assert found == (
            "pulsewatch.yaml:1:22: defaults.interval: expected a duration like 500ms, 30s, 5m, 1h or 2d "
            "(a bare number has no unit), got 30"
        )

    def test_a_zero_duration_is_refused(self) -> None:
        assert "expected a duration longer than zero" in only_problem("defaults: {interval: 0s}\n")

    def test_a_timeout_longer_than_the_interval_is_refused(self) -> None:
        text = """
            checks:
              - name: a
                url: https://a.example.com
                interval: 10s
                timeout: 30s
            """
        assert only_problem(text) == (
            "pulsewatch.yaml:5:14: checks[0].timeout: timeout 30s is longer than the interval 10s: a probe "
            "must end before the next one is due (make the timeout at most the interval)"
        )

    def test_defaults_with_a_timeout_longer_than_their_interval_are_refused(self) -> None:
        assert only_problem("defaults: {interval: 1m, timeout: 1m30s}\n").startswith(
            "pulsewatch.yaml:1:35: defaults.timeout: timeout 1m30s is longer than the interval 1m:"
        )


class TestUrls:
    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("api.example.com/health", "expected a URL with a scheme, like https://example.com/health"),
            (
                "ftp://files.example.com",
                'unknown URL scheme "ftp": expected http, https, tcp, udp, tls, dns or icmp',
            ),
            ("https://", "the URL has no host"),
            ("https://exa mple.com", "expected a URL without spaces"),
            ("https://example.com:99999/", "the URL's port must be a number from 1 to 65535"),
            ("tcp://db.example.com", "a tcp check needs a host and a port, like tcp://db.example.com:5432"),
            ("tcp://db.example.com:5432/x", "a tcp URL is only tcp://HOST:PORT (no path or query)"),
        ],
    )
    def test_a_bad_url_is_refused(self, url: str, message: str) -> None:
        found = only_problem(f"checks:\n  - name: a\n    url: {url}\n")
        assert found.startswith(f"pulsewatch.yaml:3:10: checks[0].url: {message}")
        assert found.endswith(f'got "{url}"')

    def test_a_password_in_a_bad_url_is_masked(self) -> None:
        found = only_problem("checks: [{name: a, url: 'ftp://bob:s3cret@files.example.com'}]\n")
        assert "s3cret" not in found
        assert 'got "ftp://bob:***@files.example.com"' in found

    @pytest.mark.parametrize(
        ("url", "kind"),
        [
            ("udp://ntp.example.com:123", "udp"),
            ("tls://mail.example.com:465", "tls"),
            ("icmp://example.com", "icmp"),
            ("dns://1.1.1.1/example.com?type=A", "dns"),
        ],
    )
    def test_every_probed_kind_is_accepted(self, url: str, kind: str) -> None:
        send = "\n    send: ping" if kind == "udp" else ""
        (check,) = load(f"checks:\n  - name: a\n    url: {url}{send}\n").checks
        assert check.kind == kind

    @pytest.mark.parametrize(
        "field",
        [
            "method: POST",
            "headers: {A: b}",
            "body: x",
            "verify_tls: false",
            "follow_redirects: false",
            "max_redirects: 1",
            "max_body_bytes: 10",
        ],
    )
    def test_http_options_on_a_tcp_check_are_refused(self, field: str) -> None:
        found = only_problem(f"checks:\n  - name: db\n    url: tcp://db.example.com:5432\n    {field}\n")
        name = field.split(":")[0]
        assert (
            found == f"pulsewatch.yaml:4:5: checks[0].{name}: only http and https "
            f"checks take {name} (this is a tcp check)"
        )

    def test_a_bad_header_name_points_at_the_name(self) -> None:
        found = only_problem("checks: [{name: a, url: 'https://a.example.com', headers: {Bad Name: x}}]\n")
        assert found.startswith('pulsewatch.yaml:1:60: checks[0].headers["Bad Name"]: expected a header name')

    def test_a_header_value_with_a_line_break_is_refused_without_showing_it(self) -> None:
        found = only_problem(
            'checks: [{name: a, url: "https://a.example.com", headers: {X: "s3cret\\r\\nY: 1"}}]\n'
        )
        assert found == (
            "pulsewatch.yaml:1:63: checks[0].headers.X: a header value cannot contain line breaks "
            "(the value is not shown)"
        )

    def test_a_bad_http_method_is_refused(self) -> None:
        assert only_problem("checks: [{name: a, url: 'https://a.example.com', method: FETCH}]\n").endswith(
            "checks[0].method: expected an HTTP method: GET, HEAD, POST, "
            'PUT, PATCH, DELETE, OPTIONS, got "FETCH"'
        )


class TestReferences:
    def test_a_duplicate_check_name_points_at_the_second(self) -> None:
        text = """
            checks:
              - name: api
                url: https://a.example.com
              - name: api
                url: https://b.example.com
            """
        assert only_problem(text) == (
            'pulsewatch.yaml:4:11: checks[1].name: duplicate check name "api" in organization "default" '
            "(first declared at line 2)"
        )

    def test_an_unknown_channel_in_notify_is_refused(self) -> None:
        text = """
            channels: [{name: ops, urls: ["json://hooks.example.com/x"]}]
            checks:
              - {name: a, url: https://a.example.com, notify: [ops, opz]}
            """
        assert only_problem(text) == (
            'pulsewatch.yaml:3:57: checks[0].notify[1]: unknown channel "opz"; declared channels: ops; '
            'did you mean "ops"?'
        )

    def test_an_unknown_channel_in_the_defaults_is_refused_once(self) -> None:
        text = """
            defaults: {notify: [ops]}
            checks: [{name: a, url: https://a.example.com}, {name: b, url: https://b.example.com}]
            """
        assert (
            only_problem(text)
            == 'pulsewatch.yaml:1:21: defaults.notify[0]: unknown channel "ops"; no channels are declared'
        )

    def test_an_unknown_dependency_is_refused(self) -> None:
        text = """
            checks:
              - {name: edge, url: https://a.example.com}
              - {name: api, url: https://b.example.com, depends_on: [egde]}
            """
        assert only_problem(text) == (
            'pulsewatch.yaml:3:58: checks[1].depends_on[0]: unknown check "egde" in organization "default"; '
            'did you mean "edge"?'
        )

    def test_a_dependency_on_another_organizations_check_is_unknown(self) -> None:
        text = """
            organizations: [{slug: a}, {slug: b}]
            checks:
              - {name: edge, org: a, url: https://a.example.com}
              - {name: api, org: b, url: https://b.example.com, depends_on: [edge]}
            """
        assert 'checks[1].depends_on[0]: unknown check "edge" in organization "b"' in only_problem(text)

    def test_a_dependency_on_itself_is_refused(self) -> None:
        text = "checks: [{name: a, url: 'https://a.example.com', depends_on: [a]}]\n"
        assert only_problem(text).endswith("checks[0].depends_on[0]: a check cannot depend on itself")

    def test_a_dependency_cycle_is_refused_once(self) -> None:
        text = """
            checks:
              - {name: a, url: https://a.example.com, depends_on: [b]}
              - {name: b, url: https://b.example.com, depends_on: [c]}
              - {name: c, url: https://c.example.com, depends_on: [a]}
            """
        assert (
            only_problem(text)
            == "pulsewatch.yaml:2:55: checks[0].depends_on: dependency cycle: a → b → c → a"
        )

    def test_a_long_dependency_chain_is_checked_without_recursion(self) -> None:
        """3000 checks, each depending on the next (deeper than Python's recursion limit), in one loop."""
        count = 3000
        lines = ["checks:"]
        for n in range(count):
            lines.append(
                f"  - {{name: c{n}, url: 'https://c{n}.example.com', depends_on: [c{(n + 1) % count}]}}"
            )
        with pytest.raises(ConfigError) as caught:
            parse_config("\n".join(lines) + "\n", "pulsewatch.yaml", environ={})
        (found,) = caught.value.problems
        assert found == (
            "pulsewatch.yaml:2:59: checks[0].depends_on: dependency cycle: c0 → c1 → c2 → c3 → … → c2999 → c0"
            " (3000 checks)"
        )

    def test_a_reference_to_an_invalid_item_is_not_reported_twice(self) -> None:
        text = """
            channels: [{name: ops, urls: []}]
            checks:
              - {name: edge, url: https://a.example.com, interval: often}
              - {name: api, url: https://b.example.com, depends_on: [edge], notify: [ops]}
            """
        assert [p.split(": ")[1] for p in problems(text)] == ["channels[0].urls", "checks[0].interval"]

    @pytest.mark.parametrize("field", ["failure_threshold", "success_threshold"])
    def test_thresholds_below_one_are_refused(self, field: str) -> None:
        found = only_problem(f"checks:\n  - name: a\n    url: https://a.example.com\n    {field}: 0\n")
        assert found == f"pulsewatch.yaml:4:{len(field) + 7}: checks[0].{field}: must be at least 1, got 0"

    def test_negative_retries_are_refused(self) -> None:
        assert only_problem("defaults: {retries: -1}\n").endswith(
            "defaults.retries: must be at least 0, got -1"
        )


class TestConditions:
    @pytest.mark.parametrize(
        ("line", "column"),
        [
            ('    conditions: ["[STATUS] =! 200"]', 28),  # double-quoted in a flow list
            ("    conditions: ['[STATUS] =! 200']", 28),  # single-quoted
            ("    conditions:\n      - '[STATUS] =! 200'", 19),  # block list (the problem is on line 5)
        ],
    )
    def test_the_column_points_inside_the_condition(self, line: str, column: int) -> None:
        text = f"checks:\n  - name: a\n    url: https://a.example.com\n{line}\n"
        found = only_problem(text)
        line_number = 4 + line.count("\n")
        assert found.startswith(
            f"pulsewatch.yaml:{line_number}:{column}: checks[0].conditions[0]: "
            "invalid condition \"[STATUS] =! 200\": unknown operator '=!'"
        )
        assert "at character" not in found

    def test_a_plain_scalar_condition_is_mapped_too(self) -> None:
        text = (
            "checks:\n  - name: a\n    url: https://a.example.com\n    "
            "conditions:\n      - len([BODY]) =! 3\n"
        )
        assert only_problem(text).startswith(
            "pulsewatch.yaml:5:21: checks[0].conditions[0]: invalid condition"
        )

    def test_a_folded_condition_points_at_its_start_and_names_the_character(self) -> None:
        text = (
            "checks:\n  - name: a\n    url: https://a.example.com\n    "
            "conditions:\n      - >-\n        [STATUS] =! 200\n"
        )
        found = only_problem(text)
        assert found.startswith("pulsewatch.yaml:5:9: checks[0].conditions[0]: invalid condition")
        assert found.endswith("(at character 10)")

    def test_an_interpolated_condition_names_the_character(self) -> None:
        text = (
            "checks:\n  - name: a\n    url: https://a.example.com\n    conditions: ['[STATUS] =! ${CODE}']\n"
        )
        found = only_problem(text, CODE="200")
        assert found.startswith(
            'pulsewatch.yaml:4:18: checks[0].conditions[0]: invalid condition "[STATUS] =! 200"'
        )
        assert found.endswith("(at character 10)")

    def test_a_bad_default_condition_is_reported_once(self) -> None:
        text = """
            defaults: {conditions: ["[STATUS] == "]}
            checks: [{name: a, url: https://a.example.com}, {name: b, url: https://b.example.com}]
            """
        assert only_problem(text).startswith(
            "pulsewatch.yaml:1:38: defaults.conditions[0]: invalid condition"
        )

    def test_an_empty_condition_list_is_refused(self) -> None:
        assert "checks[0].conditions: must not be empty" in only_problem(
            "checks: [{name: a, url: 'https://a.example.com', conditions: []}]\n"
        )


class TestInterpolation:
    def test_variables_are_replaced_in_any_string(self) -> None:
        config = load(
            """
            database: {url: "mysql://pw:${DB_PASSWORD}@db.example.com:3306/pw"}
            checks:
              - name: ${NAME}
                url: https://${HOST}/health
                interval: ${EVERY}
                paused: ${PAUSED}
                headers: {Authorization: "Bearer ${TOKEN:-none}"}
            """,
            DB_PASSWORD="s3cret",
            NAME="api",
            HOST="api.example.com",
            EVERY="15s",
            PAUSED="true",
        )
        check = config.checks[0]
        assert (check.name, check.url, check.interval, check.paused) == (
            "api",
            "https://api.example.com/health",
            15.0,
            True,
        )
        assert check.http.headers == (("Authorization", "Bearer none"),)
        assert config.database_url == "mysql://pw:s3cret@db.example.com:3306/pw"

    def test_a_doubled_dollar_escapes_a_literal(self) -> None:
        config = load("checks: [{name: a, url: 'https://a.example.com', body: '$${NOT_A_VAR} and $$x'}]\n")
        assert config.checks[0].http.body == "${NOT_A_VAR} and $$x"

    def test_an_unset_variable_is_refused_by_name(self) -> None:
        text = """
            checks:
              - name: a
                url: https://a.example.com
                headers: {Authorization: "Bearer ${API_TOKEN}"}
            """
        assert only_problem(text, OTHER="x") == (
            "pulsewatch.yaml:4:30: checks[0].headers.Authorization: ${API_TOKEN} refers to the environment "
            "variable API_TOKEN, which is not set (give a default with ${API_TOKEN:-value}, or write $${ "
            "for a literal ${)"
        )

    def test_an_unset_variable_is_not_reported_again_by_its_field(self) -> None:
        found = only_problem("checks: [{name: a, url: 'https://a.example.com', interval: '${EVERY}'}]\n")
        assert "EVERY" in found

    @pytest.mark.parametrize("value", ["${}", "${1X}", "${OPEN"])
    def test_a_malformed_reference_is_refused(self, value: str) -> None:
        assert "invalid ${...} reference" in only_problem(f"engine: {{name: '{value}'}}\n")

    def test_the_database_url_falls_back_to_the_environment(self) -> None:
        assert load("", PULSEWATCH_DATABASE_URL="sqlite:///x.db").database_url == "sqlite:///x.db"
        assert load(
            "database: {url: 'sqlite:///y.db'}", PULSEWATCH_DATABASE_URL="sqlite:///x.db"
        ).database_url == ("sqlite:///y.db")


class TestSecrets:
    def test_a_bad_database_url_is_not_echoed(self) -> None:
        found = only_problem("database: {url: 'postgres://admin:hunter2@db.example.com/pw'}\n")
        assert "hunter2" not in found
        assert "admin" not in found
        assert found.startswith("pulsewatch.yaml:1:17: database.url: expected sqlite:///PATH or mysql://")

    def test_a_bad_channel_url_is_not_echoed(self) -> None:
        found = only_problem("channels: [{name: ops, urls: ['hooks.example.com/T0KEN']}]\n")
        assert "T0KEN" not in found
        assert found.startswith("pulsewatch.yaml:1:31: channels[0].urls[0]: expected an Apprise URL")

    @pytest.mark.parametrize(
        "text",
        [
            "checks: [{name: a, url: 'https://a.example.com', headers: {Authorization: [s3cret]}}]\n",
            "defaults: {headers: {X-Key: {s3cret: 1}}}\n",
            "checks: [{name: a, url: 'https://a.example.com', body: [s3cret]}]\n",
            "channels: [{name: ops, urls: [{s3cret: 1}]}]\n",
            "database: {url: [s3cret]}\n",
        ],
    )
    def test_type_errors_of_secret_fields_do_not_echo_the_value(self, text: str) -> None:
        found = only_problem(text)
        assert "s3cret" not in found
        assert "got" not in found

    def test_reprs_hide_secrets(self) -> None:
        config = load(
            """
            database: {url: "mysql://pw:hunter2@db.example.com:3306/pw"}
            channels: [{name: ops, urls: ["json://hooks.example.com/T0KEN"]}]
            checks:
              - name: a
                url: https://a.example.com
                headers: {Authorization: Bearer s3cret}
                body: password=hunter3
            """
        )
        shown = repr(config)
        for secret in ("hunter2", "T0KEN", "s3cret", "hunter3"):
            assert secret not in shown


class TestOrganizationsAndPlans:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "organizations: [{slug: acme, plan: startr}]\nplans: [{name: starter}]\n",
                "pulsewatch.yaml:1:36: organizations[0].plan: unknown "
                'plan "startr"; declared plans: starter; '
                'did you mean "starter"?',
            ),
            (
                "organizations: [{slug: acme, plan: gold}]\n",
                'pulsewatch.yaml:1:36: organizations[0].plan: unknown plan "gold"; no plans are declared',
            ),
            (
                "organizations: [{slug: acme}, {slug: acme}]\n",
                'pulsewatch.yaml:1:38: organizations[1].slug: duplicate organization slug "acme" '
                "(first declared at line 1)",
            ),
            (
                "organizations: [{slug: Acme Inc}]\n",
                "pulsewatch.yaml:1:24: organizations[0].slug: expected a slug: lowercase letters, digits and "
                'dashes, starting with a letter or digit, got "Acme Inc"',
            ),
            (
                "organizations: [{slug: a, members: [{email: ana, role: owner}]}]\n",
                "pulsewatch.yaml:1:45: organizations[0].members[0].email: expected an email address like "
                'ana@example.com, got "ana"',
            ),
            (
                "organizations: [{slug: a, members: [{email: a@x.io, role: boss}]}]\n",
                "pulsewatch.yaml:1:59: organizations[0].members[0].role: "
                "expected one of owner, admin, member, "
                'viewer, got "boss"',
            ),
            (
                "organizations: [{slug: a, members: [{email: a@x.io}, {email: A@x.io}]}]\n",
                'pulsewatch.yaml:1:62: organizations[0].members[1].email: duplicate member "A@x.io" '
                "(first declared at line 1)",
            ),
            (
                "organizations: [{slug: a, teams: [{name: web}, {name: web}]}]\n",
                'pulsewatch.yaml:1:55: organizations[0].teams[1].name: duplicate team name "web" '
                "(first declared at line 1)",
            ),
            (
                "plans: [{name: p, price: 19.00}]\n",
                "pulsewatch.yaml:1:26: plans[0].price: expected an amount and a currency code like 19.00 USD "
                "(write it as text, not a number), got 19.0",
            ),
            (
                "plans: [{name: p, price: 19 dollars}]\n",
                "pulsewatch.yaml:1:26: plans[0].price: expected an amount and a currency code like 19.00 USD "
                '(write it as text, not a number), got "19 dollars"',
            ),
            (
                "plans: [{name: p}, {name: p}]\n",
                'pulsewatch.yaml:1:27: plans[1].name: duplicate plan name "p" (first declared at line 1)',
            ),
        ],
    )
    def test_organization_and_plan_problems(self, text: str, expected: str) -> None:
        assert only_problem(text) == expected

    def test_prices_keep_their_exact_decimal(self) -> None:
        (plan,) = load("plans: [{name: p, price: 0.10 EUR}]\n").plans
        assert plan.price == Money(Decimal("0.10"), "EUR")
        assert str(plan.price) == "0.10 EUR"

    def test_a_check_org_must_be_declared(self) -> None:
        text = """
            organizations: [{slug: acme}]
            checks: [{name: a, org: acne, url: https://a.example.com}]
            """
        assert only_problem(text) == (
            'pulsewatch.yaml:2:25: checks[0].org: unknown organization "acne"; declared organizations: acme; '
            'did you mean "acme"?'
        )

    def test_a_check_org_without_organizations_is_refused(self) -> None:
        assert only_problem("checks: [{name: a, org: acme, url: 'https://a.example.com'}]\n").endswith(
            'checks[0].org: organization "acme" is not declared: declare '
            "it under organizations: or leave org out"
        )
        assert (
            load("checks: [{name: a, org: default, url: 'https://a.example.com'}]\n").checks[0].org
            == "default"
        )

    def test_a_check_needs_an_org_when_there_are_several(self) -> None:
        text = """
            organizations: [{slug: a}, {slug: b}]
            checks: [{name: x, url: https://a.example.com}]
            """
        assert only_problem(text) == (
            "pulsewatch.yaml:2:10: checks[0].org: required when several organizations are declared (a, b)"
        )

    def test_a_check_team_must_be_a_team_of_its_org(self) -> None:
        text = """
            organizations: [{slug: a, teams: [{name: web}]}]
            checks: [{name: x, team: wbe, url: https://a.example.com}]
            """
        assert only_problem(text) == (
            'pulsewatch.yaml:2:26: checks[0].team: unknown team "wbe" '
            'in organization "a"; declared teams: web; '
            'did you mean "web"?'
        )

    def test_a_team_is_a_free_label_without_organizations(self) -> None:
        assert load("checks: [{name: x, team: any, url: 'https://a.example.com'}]\n").checks[0].team == "any"


class TestFiles:
    def test_load_config_reads_a_file_and_names_it_in_problems(self, tmp_path: Path) -> None:
        path = tmp_path / "pulsewatch.yaml"
        path.write_text("checks: [{name: a, url: 'https://a.example.com'}]\n", encoding="utf-8")
        config = load_config(path)
        assert config.path == path
        assert config.checks[0].name == "a"
        path.write_text("engine: {concurrency: 0}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(str(path))
        assert caught.value.problems == [f"{path}:1:23: engine.concurrency: must be at least 1, got 0"]

    def test_a_missing_file_is_a_config_error(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.yaml"
        with pytest.raises(ConfigError) as caught:
            load_config(missing)
        assert caught.value.problems == [f"config file not found: {missing}"]

    def test_a_file_that_is_not_utf8_is_a_config_error(self, tmp_path: Path) -> None:
        path = tmp_path / "latin1.yaml"
        path.write_bytes(b"engine: {name: caf\xe9}\n")
        with pytest.raises(ConfigError, match="not UTF-8"):
            load_config(path)

    def test_the_default_path_comes_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("PULSEWATCH_CONFIG", raising=False)
        assert default_config_path() == Path("pulsewatch.yaml")
        monkeypatch.setenv("PULSEWATCH_CONFIG", "/etc/pulsewatch/prod.yaml")
        assert default_config_path() == Path("/etc/pulsewatch/prod.yaml")


class TestTheExampleFile:
    def test_it_loads(self) -> None:
        config = load_config(REPO / "config.example.yaml")
        kinds = {"http", "https", "tcp", "udp", "tls", "dns", "icmp", "heartbeat"}
        assert {c.kind for c in config.checks} == kinds
        assert config.organizations
        assert config.plans
        assert config.channels
        assert config.console.keymap

    def test_it_uses_every_field_of_the_schema(self) -> None:
        data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
        used: set[str] = set()

        def collect(value: Any) -> None:
            if isinstance(value, dict):
                used.update(str(k) for k in value)
                for v in value.values():
                    collect(v)
            elif isinstance(value, list):
                for v in value:
                    collect(v)

        collect(data)
        text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
        schema_fields = _field_names(ConfigFile.model_json_schema())
        missing = {
            name for name in schema_fields - used if f"{name}:" not in text
        }  # heartbeat: commented out
        assert not missing


def _field_names(schema: dict[str, Any]) -> set[str]:
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return names
