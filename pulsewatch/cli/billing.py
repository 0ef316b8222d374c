"""`pulsewatch billing show|invoices|close-period|mark-paid|change-plan`; billing in `config apply`.

Who is acting follows the account commands: `--as EMAIL` acts as that user (billing needs
MANAGE_BILLING: owners); without it, reads show everything and changes are allowed only until the
first password is set. Collecting money is outside PulseWatch: an owner records a payment with
`mark-paid`. Amounts are printed and exported exactly (Decimal text, never float).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.cli import EXIT_OK, wiring
from pulsewatch.cli.accounts import add_acting_command
from pulsewatch.cli.config_accounts import signin_for

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from pulsewatch.config import LoadedConfig
    from pulsewatch.domain.accounts import Actor
    from pulsewatch.domain.invoicing import Invoice
    from pulsewatch.services.billing import Billing, BillingOverview

CSV_COLUMNS = (
    "number", "org", "period_start", "period_end", "status", "issued_on", "due_on", "paid_on", "currency",
    "line", "kind", "description", "quantity", "unit_price", "amount", "total",
)  # fmt: skip
"""`billing invoices --format csv`: one row per invoice line, the invoice's columns repeated."""
_ONE_DAY = timedelta(days=1)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The billing commands."""
    billing = commands.add_parser("billing", help="plans, usage and invoices of an organization")
    actions = billing.add_subparsers(dest="billing_command", metavar="ACTION", required=True)

    show = add_acting_command(
        actions, "show", "the plan, usage against each limit, the projected invoice", run_show
    )
    show.add_argument("--org", required=True, metavar="SLUG")
    show.add_argument("--format", choices=("table", "json"), default="table")

    invoices = add_acting_command(
        actions, "invoices", "the organization's invoices (export as CSV or JSON)", run_invoices
    )
    invoices.add_argument("--org", required=True, metavar="SLUG")
    invoices.add_argument("--format", choices=("table", "csv", "json"), default="table")

    close = add_acting_command(
        actions, "close-period", "issue the invoice of every period that has ended", run_close
    )
    close.add_argument("--org", required=True, metavar="SLUG")
    close.add_argument(
        "--on", type=parse_day, metavar="DATE", help="close as of this day (YYYY-MM-DD, default today, UTC)"
    )

    paid = add_acting_command(
        actions, "mark-paid", "record that an invoice was paid (payment happens outside)", run_paid
    )
    paid.add_argument("invoice", metavar="INVOICE", help="the invoice number, like INV-acme-0001")
    paid.add_argument("--on", type=parse_day, metavar="DATE", help="the day it was paid (default today, UTC)")

    change = add_acting_command(
        actions, "change-plan", "move an organization to another plan, pro-rated", run_change
    )
    change.add_argument("--org", required=True, metavar="SLUG")
    change.add_argument("--plan", required=True, metavar="NAME", help="a plan from the config, or `none`")
    change.add_argument(
        "--on", type=parse_day, metavar="DATE", help="effective day within the current period (default today)"
    )


# -- handlers ----------------------------------------------------------------------------------


def run_show(args: argparse.Namespace) -> int:
    """`billing show --org SLUG [--format table|json]`."""
    with _session(args) as (billing, actor, _):
        overview = billing.overview(actor, args.org, _now())
    print(json.dumps(overview_json(overview), indent=2) if args.format == "json" else overview_text(overview))
    return EXIT_OK


def run_invoices(args: argparse.Namespace) -> int:
    """`billing invoices --org SLUG [--format table|csv|json]`."""
    with _session(args) as (billing, actor, _):
        invoices = billing.invoices(actor, args.org)
    if args.format == "json":
        print(json.dumps([invoice_json(i) for i in invoices], indent=2))
    elif args.format == "csv":
        sys.stdout.write(invoices_csv(invoices))
    elif not invoices:
        print(f"no invoices for {args.org} yet")
    else:
        print(
            _table(
                [("NUMBER", "PERIOD", "TOTAL", "STATUS", "DUE", "PAID")] + [_invoice_row(i) for i in invoices]
            )
        )
    return EXIT_OK


def run_close(args: argparse.Namespace) -> int:
    """`billing close-period --org SLUG [--on DATE]`."""
    with _session(args, changing=True) as (billing, actor, _):
        issued = billing.close_period(actor, args.org, _now(), on=args.on)
        if not issued:
            sub = billing.overview(actor, args.org, _now()).subscription
            until = (
                f" runs until {sub.period_end - _ONE_DAY}"
                if sub is not None and not sub.ended
                else " has ended"
            )
            print(f"nothing to close: the billing period of {args.org}{until}")
    for invoice in issued:
        print(f"issued {invoice.number}: {_period(invoice)}, {invoice.total.text()}, due {invoice.due_on}")
    return EXIT_OK


def run_paid(args: argparse.Namespace) -> int:
    """`billing mark-paid INVOICE [--on DATE]`."""
    with _session(args, changing=True) as (billing, actor, _):
        invoice = billing.mark_paid(actor, args.invoice, _now(), on=args.on)
    print(f"{invoice.number} ({invoice.total.text()}) marked paid on {invoice.paid_on}")
    return EXIT_OK


def run_change(args: argparse.Namespace) -> int:
    """`billing change-plan --org SLUG --plan NAME|none [--on DATE]`."""
    plan = None if args.plan == "none" else args.plan
    with _session(args, changing=True) as (billing, actor, config):
        sub = billing.change_plan(actor, args.org, plan, _now(), on=args.on)
    day = args.on or _now().date()
    print(
        f"{args.org} is on {f'plan {plan}' if plan else 'no plan'} from {day}"
        + (" (pro-rated to the day)" if not sub.ended and sub.period_start < day else "")
    )
    declared = {o.slug: o.plan for o in config.organizations}
    if args.org in declared and declared[args.org] != plan:
        print(
            f"note: {config.path} still says plan {declared[args.org] or 'none'} for {args.org}; "
            "update it, or the next `config apply` changes the plan back"
        )
    return EXIT_OK


# -- rendering ----------------------------------------------------------------------------------


def overview_text(o: BillingOverview) -> str:
    """`billing show` for a person."""
    lines = []
    if o.plan is None:
        lines.append(f"organization {o.org}: no plan — nothing is limited or billed")
    else:
        status = o.status.value.replace("_", " ") if o.status else "no subscription yet (run `config apply`)"
        lines.append(f"organization {o.org}: plan {o.plan.name} ({o.plan.price.text()} per period), {status}")
    sub = o.subscription
    if sub is not None and not sub.ended:
        lines.append(
            f"period {sub.period_start} to {sub.period_end - _ONE_DAY}; invoiced on {sub.period_end}"
        )
        if sub.trial_end is not None and sub.trial_end >= sub.period_end:
            lines.append("trial: this period is free")
    rows = [("USAGE", "USED", "LIMIT", "")]
    for meter in o.meters:
        limit = "-" if meter.limit is None else str(meter.limit)
        bar = "" if meter.fraction is None else f"{_bar(meter.fraction)} {meter.fraction:.0%}"
        rows.append((meter.name, str(meter.used), limit, bar))
    lines += ["", _table(rows)]
    if o.notifications:
        sent = ", ".join(f"{kind} {n}" for kind, n in sorted(o.notifications.items()))
        lines.append(f"notifications sent this period: {sent}")
    if o.projected is not None:
        lines += ["", f"projected invoice: {o.projected.total.text()}"]
        lines += [
            f"  {line.kind.value:<17} {line.description:<52} {line.amount.text():>14}"
            for line in o.projected.lines
        ]
    if o.invoices:
        lines += ["", "invoices:"] + [f"  {'  '.join(_invoice_row(i))}" for i in o.invoices]
    if o.blocked:
        lines += ["", f"edits blocked: {o.blocked}"]
    return "\n".join(lines)


def overview_json(o: BillingOverview) -> dict[str, object]:
    """`billing show --format json`."""
    sub = o.subscription
    return {
        "org": o.org,
        "currency": o.currency,
        "plan": None if o.plan is None else o.plan.name,
        "price": None if o.plan is None else str(o.plan.price.amount),
        "status": None if o.status is None else o.status.value,
        "period_start": None if sub is None or sub.ended else str(sub.period_start),
        "period_end": None if sub is None or sub.ended else str(sub.period_end),
        "usage": {m.name: {"used": m.used, "limit": m.limit} for m in o.meters},
        "notifications": dict(o.notifications),
        "projected": None if o.projected is None else invoice_json(o.projected),
        "invoices": [invoice_json(i) for i in o.invoices],
        "blocked": o.blocked,
    }


def invoice_json(invoice: Invoice) -> dict[str, object]:
    """An invoice as JSON: amounts are Decimal strings, exactly as billed."""
    return {
        "number": invoice.number,
        "org": invoice.org,
        "period_start": str(invoice.period_start),
        "period_end": str(invoice.period_end),
        "status": invoice.status.value,
        "issued_on": str(invoice.issued_on),
        "due_on": str(invoice.due_on),
        "paid_on": None if invoice.paid_on is None else str(invoice.paid_on),
        "paid_by": invoice.paid_by,
        "currency": invoice.currency,
        "total": str(invoice.total.amount),
        "lines": [
            {
                "kind": line.kind.value,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": None if line.unit_price is None else str(line.unit_price.amount),
                "amount": str(line.amount.amount),
            }
            for line in invoice.lines
        ],
    }


def invoices_csv(invoices: list[Invoice]) -> str:
    """One row per invoice line (an invoice without lines gets one row), header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for invoice in invoices:
        data = invoice_json(invoice)
        head = [data[c] for c in CSV_COLUMNS[:9]]
        lines: list[dict[str, object] | None] = list(data["lines"]) or [None]  # type: ignore[call-overload]
        for n, line in enumerate(lines, start=1):
            tail = (
                ["", "", "", "", "", ""]
                if line is None
                else [
                    n,
                    line["kind"],
                    line["description"],
                    line["quantity"],
                    line["unit_price"],
                    line["amount"],
                ]
            )
            writer.writerow(
                [
                    *("" if v is None else v for v in head),
                    *("" if v is None else v for v in tail),
                    data["total"],
                ]
            )
    return out.getvalue()


def _invoice_row(invoice: Invoice) -> tuple[str, ...]:
    paid = f"paid {invoice.paid_on}" if invoice.paid_on else "-"
    return (
        invoice.number,
        _period(invoice),
        invoice.total.text(),
        invoice.status.value,
        str(invoice.due_on),
        paid,
    )


def _period(invoice: Invoice) -> str:
    return f"{invoice.period_start} to {invoice.period_end - _ONE_DAY}"


def _bar(fraction: float, width: int = 20) -> str:
    filled = min(width, round(fraction * width))
    return "█" * filled + "░" * (width - filled)


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        ("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]).rstrip()
        for r in rows
    )


# -- helpers -----------------------------------------------------------------------------------


@contextmanager
def _session(
    args: argparse.Namespace, *, changing: bool = False
) -> Iterator[tuple[Billing, Actor, LoadedConfig]]:
    from engine.storage.accounts_store import SqlAccountsStore
    from pulsewatch.cli import billing_wiring
    from pulsewatch.domain.accounts import Actor

    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        signin = signin_for(SqlAccountsStore(store))
        if args.as_user:
            actor = signin.actor(args.as_user)
        else:
            actor = signin.bootstrap_actor() if changing else Actor.for_system("cli")
        yield billing_wiring.billing_service(config, store), actor, config
    finally:
        store.close()


def parse_day(text: str) -> date:
    """`--on DATE`: a day like 2025-03-31 (argparse reports anything else as bad usage, exit 2)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day like 2025-03-31, got {text!r}") from None


def _now() -> datetime:
    return datetime.now(UTC)
