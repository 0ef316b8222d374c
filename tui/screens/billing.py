"""The Billing screen: one organization's plan, usage against each limit this period, the projected
invoice and past invoices (`o` shows the next organization).

Everything comes from the `BillingDesk` (services.billing.Billing in production), which lets only
owners read it: a PermissionDenied is shown in place of the figures rather than as a passing toast,
because it is the answer to "why is this empty". Without plans in the config nothing is billed and
the screen says so. Money is shown exactly as the Decimal and its currency, never as a float.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from pulsewatch.errors import PulseWatchError
from tui.render import next_org, orgs_hint

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.invoicing import Invoice
    from pulsewatch.services.billing import BillingOverview, Meter
    from tui.navigation import ConsoleContext
    from tui.services import BillingDesk

NO_STORE = "No billing here: the console runs without a database."
NO_PLANS = "No plans configured: nothing is billed."


class BillingLoaded(Message):
    """A read finished: the actor's organizations, the one shown, and its overview or why not."""

    def __init__(self, orgs: Sequence[str], org: str | None, overview: BillingOverview | None,
                 refusal: str | None = None) -> None:
        super().__init__()
        self.orgs = tuple(orgs)
        self.org = org
        self.overview = overview
        self.refusal = refusal


def meter_text(meter: Meter) -> str:
    """"3 / 5" against a limit, "3 (unlimited)" without one."""
    if meter.limit is None:
        return f"{meter.used} (unlimited)"
    return f"{meter.used} / {meter.limit}"


def invoice_state(invoice: Invoice) -> str:
    """paid (on which day), or unpaid with its due date."""
    if invoice.paid_on is not None:
        return f"paid {invoice.paid_on.isoformat()}"
    return f"unpaid, due {invoice.due_on.isoformat()}"


class MeterRow(Horizontal):
    """One usage bar: the meter's name, a bar against its limit (none when unlimited), the figures."""

    DEFAULT_CSS = """
    MeterRow { height: 1; }
    MeterRow .meter-name { width: 10; }
    MeterRow ProgressBar { width: 34; }
    MeterRow ProgressBar Bar { width: 30; }
    MeterRow.over ProgressBar Bar > .bar--bar { color: $error; }
    MeterRow.over ProgressBar Bar > .bar--complete { color: $error; }
    MeterRow .meter-figures { width: 1fr; }
    MeterRow.over .meter-figures { color: $error; text-style: bold; }
    """

    def __init__(self, meter: Meter) -> None:
        over = meter.fraction is not None and meter.fraction > 1.0
        super().__init__(classes="over" if over else "")
        self.meter = meter

    def compose(self) -> ComposeResult:
        meter = self.meter
        yield Label(meter.name, classes="meter-name", markup=False)
        if meter.limit is not None:
            total = max(meter.limit, 1)
            yield ProgressBar(total=total, show_eta=False, show_percentage=False)
        yield Label(meter_text(meter), classes="meter-figures", markup=False)

    def on_mount(self) -> None:
        if self.meter.limit is not None:
            bar = self.query_one(ProgressBar)
            bar.update(progress=min(self.meter.used, bar.total or 1))


class BillingScreen(Screen[None]):
    """Billing of one organization at a time (`o` shows the next).

    Args:
        context: the console's clock and services (`services.billing`, `services.teams`, `services.actor`).
    """

    HELP_SCOPE = "Billing"
    DEFAULT_CSS = """
    BillingScreen #billing-org { text-style: bold; padding: 0 1; }
    BillingScreen #billing-plan { padding: 0 1; display: none; }
    BillingScreen #billing-blocked { display: none; background: $error; color: $text; padding: 0 1; }
    BillingScreen #billing-blocked.shown { display: block; }
    BillingScreen #billing-message { padding: 0 1; color: $warning; }
    BillingScreen #billing-body { height: 1fr; padding: 0 1; }
    BillingScreen .billing-heading { text-style: bold; margin-top: 1; }
    BillingScreen #meters { height: auto; }
    BillingScreen DataTable { height: auto; max-height: 12; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "next_org", "Next organization", tooltip="Show the billing of your next organization.",
                id="pw.billing-next-org"),
        Binding("f5", "reload", "Reload", show=False, tooltip="Read the billing again now.",
                id="pw.billing-reload"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(id="billing")
        self._pw = context
        self._orgs: tuple[str, ...] = ()
        self._org: str | None = None
        self._overview: BillingOverview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Organization: …", id="billing-org", markup=False)
        yield Label("", id="billing-plan", markup=False)
        yield Static("", id="billing-blocked", markup=False)
        yield Static(self._absent() or "", id="billing-message", markup=False)
        with VerticalScroll(id="billing-body"):
            yield Label("Usage this period", classes="billing-heading")
            yield Vertical(id="meters")
            yield Label("", id="billing-notifications", markup=False)
            yield Label("Projected invoice", classes="billing-heading")
            yield DataTable(id="projected", cursor_type="none", zebra_stripes=True)
            yield Label("", id="projected-total", markup=False)
            yield Label("Past invoices", classes="billing-heading")
            yield DataTable(id="invoices", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        projected = self.query_one("#projected", DataTable)
        projected.add_columns("Line", "Kind", "Quantity", "Unit price", "Amount")
        self.query_one("#invoices", DataTable).add_columns("Number", "Period", "Total", "State")
        self.query_one("#billing-body").display = self._absent() is None
        self.query_one("#billing-message").display = self._absent() is not None
        self.action_reload()

    def _desk(self) -> BillingDesk | None:
        services = self._pw.services
        return services.billing if services is not None else None

    def _absent(self) -> str | None:
        """Why there is nothing to show at all (no database, no plans); None when there may be."""
        if self._pw.services is None:
            return NO_STORE
        return NO_PLANS if self._desk() is None else None

    @property
    def org(self) -> str | None:
        """The organization shown."""
        return self._org

    @property
    def overview(self) -> BillingOverview | None:
        """What is shown (None while loading, or when refused)."""
        return self._overview

    # -- loading ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="billing-reload")
    def _read(self, wanted: str | None) -> None:
        services, desk = self._pw.services, self._desk()
        if services is None or desk is None:
            return
        actor = services.actor
        if services.teams is not None:
            orgs = [o.slug for o in services.teams.organizations(actor)]
        else:
            orgs = list(dict.fromkeys(m.org for m in actor.memberships))
        org = wanted if wanted in orgs else (orgs[0] if orgs else None)
        if org is None:
            self.post_message(BillingLoaded(orgs, None, None))
            return
        try:
            overview = desk.overview(actor, org, self._pw.clock())
        except PulseWatchError as error:  # PermissionDenied (owners only), unknown organization
            self.post_message(BillingLoaded(orgs, org, None, error.message))
            return
        self.post_message(BillingLoaded(orgs, org, overview))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title="Could not read billing", severity="error",
                        markup=False)

    def on_billing_loaded(self, message: BillingLoaded) -> None:
        self._orgs, self._org, self._overview = message.orgs, message.org, message.overview
        heading = "You belong to no organization."
        if self._org:
            heading = f"Organization: {self._org}"
            heading += orgs_hint(self._orgs)
        self.query_one("#billing-org", Label).update(heading)
        plan = self._plan_text(message.overview) if message.overview is not None else ""
        self.query_one("#billing-plan", Label).update(plan)
        self.query_one("#billing-plan").display = bool(plan)
        notice = self.query_one("#billing-message", Static)
        notice.update(message.refusal or "")
        notice.display = bool(message.refusal)
        banner = self.query_one("#billing-blocked", Static)
        blocked = message.overview.blocked if message.overview is not None else None
        banner.update(f"Blocked: {blocked}" if blocked else "")
        banner.set_class(bool(blocked), "shown")
        body = self.query_one("#billing-body")
        body.display = message.overview is not None
        if message.overview is not None:
            self._show(message.overview)

    @staticmethod
    def _plan_text(overview: BillingOverview) -> str:
        plan = "No plan" if overview.plan is None else f"Plan {overview.plan.name} ({overview.plan.price})"
        status = overview.status.value if overview.status is not None else "no subscription"
        sub = overview.subscription
        period = f" · period {sub.period_start} to {sub.period_end}" if sub is not None else ""
        return f"{plan} · {status}{period}"

    def _show(self, overview: BillingOverview) -> None:
        meters = self.query_one("#meters", Vertical)
        meters.remove_children()
        meters.mount_all([MeterRow(meter) for meter in overview.meters])
        sent = " · ".join(f"{kind} {count}" for kind, count in sorted(overview.notifications.items()))
        self.query_one("#billing-notifications", Label).update(
            f"Notifications this period: {sent or 'none'}")
        projected = self.query_one("#projected", DataTable)
        projected.clear()
        invoice = overview.projected
        if invoice is not None:
            for line in invoice.lines:
                projected.add_row(line.description, line.kind.value, str(line.quantity),
                                  str(line.unit_price) if line.unit_price is not None else "",
                                  str(line.amount))
        self.query_one("#projected-total", Label).update(
            f"Projected total: {invoice.total} (issued {invoice.issued_on})" if invoice is not None
            else "No running period: nothing projected.")
        invoices = self.query_one("#invoices", DataTable)
        invoices.clear()
        for past in overview.invoices:
            invoices.add_row(past.number, f"{past.period_start} to {past.period_end}", str(past.total),
                             invoice_state(past), key=past.number)

    def action_next_org(self) -> None:
        """Show the next organization's billing."""
        following = next_org(self._orgs, self._org)
        if following is not None:
            self._org = following
            self.action_reload()

    def action_reload(self) -> None:
        """Read the billing again."""
        if self._desk() is not None:
            self._read(self._org)
