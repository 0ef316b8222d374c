"""Config for every kind of probed check: what loads, and each impossible combination with its fix-it line."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest

from pulsewatch.config import load_config, parse_config
from pulsewatch.domain.monitoring import Check, StreamOptions, TlsOptions
from pulsewatch.errors import ConfigError


def cfg(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def checks(text: str) -> tuple[Check, ...]:
    return parse_config(cfg(text), "pulsewatch.yaml", environ={}).checks


def one(text: str) -> Check:
    (check,) = checks(text)
    return check


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(cfg(text), "pulsewatch.yaml", environ={})
    return caught.value.problems


def only_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def check_with(url: str, *lines: str) -> str:
    """A config with one check at `url` plus the given field lines."""
    fields = "".join(f"    {line}\n" for line in lines)
    return f"checks:\n  - name: a\n    url: {url}\n{fields}"


class TestEveryKindLoads:
    def test_tcp_with_send_and_expect(self) -> None:
        check = one(check_with("tcp://cache.example.com:6379", 'send: "PING\\r\\n"', 'expect: "+PONG"'))
        assert check.kind == "tcp"
        assert check.stream == StreamOptions(send="PING\r\n", expect="+PONG")
        assert [c.source for c in check.conditions] == ["[CONNECTED] == true"]

    def test_udp_sends_its_datagram(self) -> None:
        check = one(check_with("udp://echo.example.com:7", "send: ping", "expect: pat(ping*)"))
        assert (check.kind, check.stream) == ("udp", StreamOptions(send="ping", expect="pat(ping*)"))
        assert check.conditions == ()

    def test_tls_takes_a_port_or_defaults_to_443(self) -> None:
        a, b = checks(
            """
            checks:
              - {name: a, url: "tls://mail.example.com:465", conditions: ["[CERTIFICATE_EXPIRATION] > 14d"]}
              - {name: b, url: "tls://mail.example.com"}
            """
        )
        assert (a.kind, b.kind) == ("tls", "tls")
        assert b.conditions == ()

    @pytest.mark.parametrize("record", ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "mx"])
    def test_dns_for_every_record_type(self, record: str) -> None:
        check = one(check_with(f"dns://1.1.1.1:53/example.com?type={record}", 'conditions: ["[BODY] != x"]'))
        assert check.kind == "dns"

    def test_icmp_with_packets_and_ip_version(self) -> None:
        check = one(check_with("icmp://gateway.example.com", "packets: 5", "ip_version: 6"))
        assert (check.kind, check.packets, check.ip_version) == ("icmp", 5, 6)

    @pytest.mark.parametrize(("written", "version"), [("4", 4), ("6", 6), ("any", 0), ('"6"', 6)])
    def test_ip_version_is_4_6_or_any(self, written: str, version: int) -> None:
        assert one(check_with("https://example.com/", f"ip_version: {written}")).ip_version == version

    def test_retries_wait_retry_interval_apart(self) -> None:
        check = one(check_with("https://example.com/", "retries: 2", "retry_interval: 3s", "timeout: 5s"))
        assert (check.retries, check.retry_interval) == (2, 3.0)

    def test_soft_conditions_are_kept_apart_from_hard_ones(self) -> None:
        check = one(
            check_with(
                "https://example.com/",
                'conditions: ["[STATUS] == 200"]',
                'soft_conditions: ["[RESPONSE_TIME] < 800"]',
            )
        )
        assert [c.source for c in check.conditions] == ["[STATUS] == 200"]
        assert [c.source for c in check.soft_conditions] == ["[RESPONSE_TIME] < 800"]

    def test_default_soft_conditions_reach_http_checks_only(self) -> None:
        web, db = checks(
            """
            defaults: {soft_conditions: ["[RESPONSE_TIME] < 800"]}
            checks:
              - {name: web, url: "https://example.com/"}
              - {name: db, url: "tcp://db.example.com:5432"}
            """
        )
        assert [c.source for c in web.soft_conditions] == ["[RESPONSE_TIME] < 800"]
        assert db.soft_conditions == ()


class TestHttpExtras:
    def test_basic_auth_becomes_the_authorization_header(self) -> None:
        check = one(check_with("https://example.com/", "auth: {basic: {username: ana, password: s3cret}}"))
        expected = "Basic " + base64.b64encode(b"ana:s3cret").decode()
        assert ("Authorization", expected) in check.http.headers

    def test_bearer_auth_becomes_the_authorization_header(self) -> None:
        check = one(check_with("https://example.com/", "auth: {bearer: t0ken}"))
        assert ("Authorization", "Bearer t0ken") in check.http.headers
        assert "t0ken" not in repr(check)

    def test_a_proxy_is_kept_out_of_reprs(self) -> None:
        check = one(check_with("http://example.com/", "proxy: http://bob:pw@proxy.example.com:3128"))
        assert check.http.proxy == "http://bob:pw@proxy.example.com:3128"
        assert "pw@" not in repr(check)

    def test_tls_files_are_read_from_the_config_files_folder(self, tmp_path: Path) -> None:
        path = tmp_path / "pulsewatch.yaml"
        path.write_text(
            check_with("https://example.com/", "ca_file: certs/ca.pem", "client_cert: /abs/probe.pem"),
            encoding="utf-8",
        )
        (check,) = load_config(path).checks
        assert check.tls == TlsOptions(
            ca_file=str(tmp_path / "certs" / "ca.pem"), client_cert="/abs/probe.pem"
        )

    def test_default_tls_files_reach_tls_checks(self) -> None:
        check = one("defaults: {ca_file: /etc/ca.pem}\n" + check_with("tls://mail.example.com:465"))
        assert check.tls.ca_file == "/etc/ca.pem"


class TestImpossibleCombinations:
    @pytest.mark.parametrize(
        ("url", "condition", "message"),
        [
            (
                "tcp://db.example.com:5432",
                "[STATUS] == 200",
                "the [STATUS] placeholder needs an http(s) check; "
                "tcp checks offer [CONNECTED], [RESPONSE_TIME], [BODY], [IP]",
            ),
            (
                "https://example.com/",
                "[DNS_RCODE] == NOERROR",
                "the [DNS_RCODE] placeholder needs a dns check; https checks offer [STATUS], "
                "[RESPONSE_TIME], [BODY], [CONNECTED], [CERTIFICATE_EXPIRATION], [IP]",
            ),
            (
                "http://example.com/",
                "[CERTIFICATE_EXPIRATION] > 14d",
                "the [CERTIFICATE_EXPIRATION] placeholder needs an https or tls check; "
                "http checks offer [STATUS], [RESPONSE_TIME], [BODY], [CONNECTED], [IP]",
            ),
            (
                "tls://example.com",
                "[BODY].a == 1",
                "the [BODY] placeholder needs an http(s), tcp, udp or dns check; "
                "tls checks offer [CONNECTED], [RESPONSE_TIME], [CERTIFICATE_EXPIRATION], [IP]",
            ),
            (
                "dns://1.1.1.1/example.com",
                "[CONNECTED] == true",
                "the [CONNECTED] placeholder needs an http(s), tcp, udp, tls or icmp check; "
                "dns checks offer [DNS_RCODE], [BODY], [IP], [RESPONSE_TIME]",
            ),
            (
                "tcp://db.example.com:5432",
                "[PACKET_LOSS] < 10",
                "the [PACKET_LOSS] placeholder needs an icmp check; "
                "tcp checks offer [CONNECTED], [RESPONSE_TIME], [BODY], [IP]",
            ),
        ],
    )
    def test_a_placeholder_the_kind_never_fills_is_refused(
        self, url: str, condition: str, message: str
    ) -> None:
        found = only_problem(check_with(url, f'conditions: ["{condition}"]'))
        assert found == f"pulsewatch.yaml:4:18: checks[0].conditions[0]: {message}"

    def test_soft_conditions_are_held_to_the_same_rule(self) -> None:
        found = only_problem(check_with("icmp://example.com", 'soft_conditions: ["[STATUS] < 300"]'))
        assert found.startswith(
            "pulsewatch.yaml:4:23: checks[0].soft_conditions[0]: the [STATUS] placeholder"
        )

    def test_a_default_condition_that_cannot_hold_on_an_http_check_says_so(self) -> None:
        found = only_problem(
            'defaults: {conditions: ["[CERTIFICATE_EXPIRATION] > 14d"]}\n' + check_with("http://example.com/")
        )
        assert found == (
            "pulsewatch.yaml:4:10: checks[0].url: defaults.conditions "
            '"[CERTIFICATE_EXPIRATION] > 14d" cannot hold on this check: the [CERTIFICATE_EXPIRATION] '
            "placeholder needs an https or tls check; http checks offer [STATUS], [RESPONSE_TIME], [BODY], "
            "[CONNECTED], [IP] (give the check conditions of its own)"
        )

    @pytest.mark.parametrize(
        ("url", "line", "message"),
        [
            (
                "https://example.com/",
                "send: PING",
                "only tcp and udp checks take send (this is an https check)",
            ),
            (
                "icmp://example.com",
                "expect: pong",
                "only tcp and udp checks take expect (this is an icmp check)",
            ),
            ("tcp://db.example.com:1", "packets: 3", "only icmp checks take packets (this is a tcp check)"),
            (
                "tcp://db.example.com:1",
                "auth: {bearer: x}",
                "only http and https checks take auth (this is a tcp check)",
            ),
            (
                "dns://1.1.1.1/a.example",
                "proxy: http://p:3128",
                "only http and https checks take proxy (this is a dns check)",
            ),
            (
                "http://example.com/",
                "ca_file: ca.pem",
                "only https and tls checks take ca_file (this is an http check)",
            ),
            (
                "tcp://db.example.com:1",
                "client_cert: c.pem",
                "only https and tls checks take client_cert (this is a tcp check)",
            ),
        ],
    )
    def test_a_field_the_kind_cannot_use_is_refused_at_its_key(
        self, url: str, line: str, message: str
    ) -> None:
        field = line.split(":", 1)[0]
        assert only_problem(check_with(url, line)) == f"pulsewatch.yaml:4:5: checks[0].{field}: {message}"

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            (
                "dns://1.1.1.1/example.com?type=AAA",
                'unknown DNS record type "AAA": expected A, AAAA, CNAME, MX, TXT, NS or SRV; '
                'did you mean "AAAA"?',
            ),
            (
                "dns://1.1.1.1/",
                "a dns check names what to look up: dns://RESOLVER[:PORT]/NAME?type=A, "
                "like dns://1.1.1.1/example.com?type=A",
            ),
            (
                "dns://1.1.1.1/example.com?kind=A",
                'unknown query parameter "kind" in a dns URL: only type= is read (dns://RESOLVER[:PORT]/NAME?type=A)',
            ),
            ("icmp://example.com:80", "an icmp URL is only icmp://HOST (ICMP has no ports)"),
            ("icmp://example.com/x", "an icmp URL is only icmp://HOST (no path or query)"),
            ("udp://ntp.example.com", "a udp check needs a host and a port, like udp://db.example.com:5432"),
            (
                "tls://example.com/x",
                "a tls URL is only tls://HOST[:PORT] (no path or query; port 443 if left out)",
            ),
        ],
    )
    def test_a_url_of_the_wrong_shape_for_its_kind_is_refused(self, url: str, message: str) -> None:
        found = only_problem(check_with(url))
        assert found == f'pulsewatch.yaml:3:10: checks[0].url: {message}, got "{url}"'

    def test_udp_needs_something_to_send(self) -> None:
        assert only_problem(check_with("udp://echo.example.com:7")) == (
            "pulsewatch.yaml:3:10: checks[0].url: a udp check needs send: (the datagram to send; "
            "the reply is what counts)"
        )

    @pytest.mark.parametrize(
        ("url", "version", "message"),
        [
            ("https://127.0.0.1/", 6, "ip_version 6 cannot reach the host 127.0.0.1, an IPv4 address"),
            ("tcp://[::1]:22", 4, "ip_version 4 cannot reach the host ::1, an IPv6 address"),
            (
                "dns://[2606:4700::1111]/example.com",
                4,
                "ip_version 4 cannot reach the resolver 2606:4700::1111, an IPv6 address",
            ),
        ],
    )
    def test_an_ip_version_that_cannot_reach_a_literal_address_is_refused(
        self, url: str, version: int, message: str
    ) -> None:
        found = only_problem(check_with(url, f"ip_version: {version}"))
        assert found == f"pulsewatch.yaml:4:17: checks[0].ip_version: {message}"

    def test_an_ip_version_must_be_4_6_or_any(self) -> None:
        assert only_problem(check_with("https://example.com/", "ip_version: 5")) == (
            "pulsewatch.yaml:4:17: checks[0].ip_version: expected 4, 6 or any, got 5"
        )

    def test_retries_that_outlast_the_interval_are_refused(self) -> None:
        found = only_problem(
            check_with(
                "https://example.com/", "interval: 30s", "timeout: 10s", "retries: 2", "retry_interval: 5s"
            )
        )
        assert found == (
            "pulsewatch.yaml:7:21: checks[0].retry_interval: 3 attempts of up to 10s, 5s apart, "
            "take up to 40s: longer than the interval 30s (lower retries, timeout or retry_interval)"
        )

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("auth: {}", "give one of basic: {username, password} or bearer: TOKEN"),
            (
                "auth: {bearer: x, basic: {username: a, password: b}}",
                "give one of basic: {username, password} or bearer: TOKEN",
            ),
            ("client_key: k.pem", "client_key needs client_cert (the certificate the key belongs to)"),
        ],
    )
    def test_incomplete_or_doubled_credentials_are_refused(self, line: str, message: str) -> None:
        found = only_problem(check_with("https://example.com/", line))
        assert found == f"pulsewatch.yaml:4:5: checks[0].{line.split(':')[0]}: {message}"

    def test_auth_and_an_authorization_header_collide(self) -> None:
        found = only_problem(
            check_with("https://example.com/", "auth: {bearer: a}", "headers: {authorization: b}")
        )
        assert found.endswith(
            "checks[0].auth: auth and an Authorization header both set the same header: keep one"
        )

    @pytest.mark.parametrize(
        "line",
        [
            "auth: {bearer: 12345678}",
            "auth: {basic: {username: a, password: [9876]}}",
            "proxy: ftp://u:hunter2@p",
        ],
    )
    def test_secrets_are_never_echoed(self, line: str) -> None:
        for problem in problems(check_with("https://example.com/", line)):
            for secret in ("12345678", "9876", "hunter2"):
                assert secret not in problem
