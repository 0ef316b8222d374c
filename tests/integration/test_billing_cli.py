"""`pulsewatch billing ...` and billing's refusals through every entry point, via `pulsewatch.cli.main`.

Periods in the past are made by back-dating the stored subscription (the CLI itself refuses dates in
the future): the commands then act on today's real date, as an operator's would.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.storage.billing_store import SqlBillingStore
from engine.storage.store import open_store
from pulsewatch.cli import main
from pulsewatch.domain.billing import PeriodChange, Subscription, SubscriptionStatus, next_anchor

CONFIG = """\
database:
  url: sqlite:///billing.db
plans:
  - name: starter
    price: 19.00 USD
    limits: {checks: 3, min_interval: 60s, seats: 3, sms: 10}
  - name: team
    price: 49.00 USD
    limits: {checks: 20, seats: 10}
    overage: {sms: 0.05 USD}
  - name: tiny
    price: 5.00 USD
    limits: {checks: 1}
organizations:
  - slug: acme
    plan: starter
    members: [{email: ana@acme.test, role: owner}, {email: bo@acme.test, role: admin}]
checks:
  - name: api
    url: http://127.0.0.1:9/api
    interval: 60s
  - name: web
    url: http://127.0.0.1:9/web
    interval: 5m
"""

TODAY = datetime.now(UTC).date()


class Cli:
    def __init__(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.path = tmp_path / "pulsewatch.yaml"
        self.path.write_text(CONFIG)
        self.db = f"sqlite:///{tmp_path / 'billing.db'}"
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([*argv, "-c", str(self.path)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def edit(self, old: str, new: str) -> None:
        text = self.path.read_text()
        assert old in text
        self.path.write_text(text.replace(old, new))

    def backdate(self, days: int, plan: str = "starter") -> date:
        """Make the subscription start `days` ago (2 members), as if it had run since."""
        start = TODAY - timedelta(days=days)
        store = open_store(self.db)
        try:
            SqlBillingStore(store).save_subscription(
                Subscription(
                    "acme",
                    SubscriptionStatus.ACTIVE,
                    start,
                    next_anchor(start, start.day),
                    start.day,
                    (PeriodChange(start, plan, 2),),
                )
            )
        finally:
            store.close()
        return start


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The config applied (acme subscribes to starter today) and ana given a password: --as is required."""
    cli = Cli(tmp_path, capsys, monkeypatch)
    code, out, err = cli("config", "apply")
    assert code == 0, err
    assert f"~ subscription acme: no plan → starter from {TODAY}" in out
    assert cli("user", "passwd", "ana@acme.test", "--password-stdin", stdin="correct horse 1\n")[0] == 0
    return cli


class TestQuotasAtEveryEntryPoint:
    def test_config_validate_lists_each_violation_at_its_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cli = Cli(tmp_path, capsys, monkeypatch)
        cli.edit("plan: starter", "plan: tiny")
        cli.edit("interval: 5m", "interval: 5m\n  - name: db\n    url: tcp://127.0.0.1:9\n    interval: 10s")
        code, _, err = cli("config", "validate")
        assert code == 2
        assert err.splitlines() == [
            f"{cli.path}:22:11: checks[1].name: plan tiny allows 1 check; acme would have 3",
            f"{cli.path}:25:11: checks[2].name: plan tiny allows 1 check; acme would have 3",
        ]
        for command in (["config", "apply"], ["engine"], ["config", "plan"]):
            assert cli(*command)[0] == 2  # the engine refuses to start, apply and plan to run

    def test_a_member_beyond_the_seats(self, cli: Cli) -> None:
        assert (
            cli(
                "user",
                "add",
                "cy@acme.test",
                "--org",
                "acme",
                "--role",
                "member",
                "--as",
                "ana@acme.test",
                "--password-stdin",
                stdin="cy's password\n",
            )[0]
            == 0
        )
        code, _, err = cli(
            "user",
            "add",
            "di@acme.test",
            "--org",
            "acme",
            "--role",
            "member",
            "--as",
            "ana@acme.test",
            "--password-stdin",
            stdin="di's password\n",
        )
        assert code == 1
        assert "plan starter allows 3 seats; acme would have 4 members" in err

    def test_a_plan_too_small_for_what_the_organization_has(self, cli: Cli) -> None:
        code, _, err = cli(
            "billing", "change-plan", "--org", "acme", "--plan", "tiny", "--as", "ana@acme.test"
        )
        assert code == 1
        assert "plan tiny allows 1 check; acme would have 2" in err


class TestBilling:
    def test_show_is_for_owners(self, cli: Cli) -> None:
        code, out, _ = cli("billing", "show", "--org", "acme", "--as", "ana@acme.test")
        assert code == 0
        assert "organization acme: plan starter (19.00 USD per period), active" in out
        assert "projected invoice: 19.00 USD" in out
        code, _, err = cli("billing", "show", "--org", "acme", "--as", "bo@acme.test")
        assert code == 1
        assert "bo@acme.test is an admin in organization acme and may not manage billing (needs owner)" in err

    def test_show_as_json(self, cli: Cli) -> None:
        code, out, _ = cli("billing", "show", "--org", "acme", "--format", "json", "--as", "ana@acme.test")
        data = json.loads(out)
        assert (code, data["plan"], data["status"], data["period_start"]) == (
            0,
            "starter",
            "active",
            str(TODAY),
        )
        assert data["usage"]["checks"] == {"used": 2, "limit": 3}
        assert data["usage"]["seats"] == {"used": 2, "limit": 3}
        assert data["projected"]["total"] == "19.00"

    def test_closing_invoices_exporting_and_paying(self, cli: Cli) -> None:
        start = cli.backdate(70)
        code, out, err = cli("billing", "close-period", "--org", "acme", "--as", "ana@acme.test")
        assert code == 0, err
        issued = out.splitlines()
        assert [line.split(":")[0] for line in issued] == ["issued INV-acme-0001", "issued INV-acme-0002"]
        assert all("19.00 USD" in line for line in issued)

        code, out, _ = cli("billing", "invoices", "--org", "acme", "--format", "csv", "--as", "ana@acme.test")
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [(r["number"], r["kind"], r["amount"], r["total"]) for r in rows] == [
            ("INV-acme-0002", "plan fee", "19.00", "19.00"),
            ("INV-acme-0001", "plan fee", "19.00", "19.00"),
        ]
        assert rows[1]["period_start"] == str(start)

        code, out, _ = cli(
            "billing", "invoices", "--org", "acme", "--format", "json", "--as", "ana@acme.test"
        )
        invoices = json.loads(out)
        assert sum(Decimal(i["total"]) for i in invoices) == Decimal("38.00")
        assert {i["status"] for i in invoices} == {"open"}

        code, out, _ = cli("billing", "mark-paid", "INV-acme-0001", "--as", "ana@acme.test")
        assert (code, out.strip()) == (0, f"INV-acme-0001 (19.00 USD) marked paid on {TODAY}")
        code, out, _ = cli("billing", "invoices", "--org", "acme", "--as", "ana@acme.test")
        assert "paid " + str(TODAY) in out.splitlines()[2]
        code, out, _ = cli("billing", "close-period", "--org", "acme", "--as", "ana@acme.test")
        assert out.startswith("nothing to close: the billing period of acme runs until")

    def test_past_due_blocks_edits_but_not_billing(self, cli: Cli) -> None:
        cli.backdate(70)
        assert cli("billing", "close-period", "--org", "acme", "--as", "ana@acme.test")[0] == 0
        cli.edit("interval: 5m", "interval: 10m")
        code, _, err = cli("config", "apply", "--as", "ana@acme.test")
        assert code == 1
        assert "organization acme is past due: invoice INV-acme-0001 (19.00 USD) was due on" in err
        assert "its checks keep running, but changes are blocked until it is paid" in err
        code, _, err = cli(
            "user",
            "add",
            "cy@acme.test",
            "--org",
            "acme",
            "--role",
            "member",
            "--as",
            "ana@acme.test",
            "--password-stdin",
            stdin="cy's password\n",
        )
        assert (code, "is past due" in err) == (1, True)
        code, out, _ = cli("billing", "show", "--org", "acme", "--as", "ana@acme.test")
        assert "plan starter (19.00 USD per period), past due" in out
        assert "edits blocked: organization acme is past due" in out
        for number in ("INV-acme-0001", "INV-acme-0002"):
            assert cli("billing", "mark-paid", number, "--as", "ana@acme.test")[0] == 0
        code, out, err = cli("config", "apply", "--as", "ana@acme.test")
        assert code == 0, err
        assert "~ check acme/web" in out

    def test_change_plan_is_pro_rated_and_the_config_brings_it_back(self, cli: Cli) -> None:
        start = cli.backdate(10)
        code, out, _ = cli(
            "billing", "change-plan", "--org", "acme", "--plan", "team", "--as", "ana@acme.test"
        )
        assert code == 0
        assert out.splitlines() == [
            f"acme is on plan team from {TODAY} (pro-rated to the day)",
            f"note: {cli.path} still says plan starter for acme; update it, or the next `config apply` "
            "changes the plan back",
        ]
        data = json.loads(
            cli("billing", "show", "--org", "acme", "--format", "json", "--as", "ana@acme.test")[1]
        )
        kinds = [line["kind"] for line in data["projected"]["lines"]]
        assert kinds == ["plan fee", "proration credit", "proration charge"]
        assert data["period_start"] == str(start)
        code, out, _ = cli("config", "plan")
        assert "~ subscription acme: team → starter (pro-rated from today)" in out
        code, out, _ = cli("config", "apply", "--as", "ana@acme.test")
        assert code == 0
        assert f"~ subscription acme: team → starter from {TODAY} (pro-rated)" in out

    def test_bad_dates_are_bad_usage(self, cli: Cli) -> None:
        code, _, err = cli(
            "billing", "close-period", "--org", "acme", "--on", "yesterday", "--as", "ana@acme.test"
        )
        assert code == 2
        assert "expected a day like 2025-03-31" in err
        tomorrow = str(TODAY + timedelta(days=1))
        code, _, err = cli(
            "billing", "close-period", "--org", "acme", "--on", tomorrow, "--as", "ana@acme.test"
        )
        assert (code, "is in the future" in err) == (1, True)

    def test_changes_need_a_named_owner_once_someone_can_sign_in(self, cli: Cli) -> None:
        code, _, err = cli("billing", "change-plan", "--org", "acme", "--plan", "team")
        assert code == 1
        assert "name who is acting (--as EMAIL)" in err
