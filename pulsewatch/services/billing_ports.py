"""The port the billing use cases depend on: subscriptions, usage counters and invoices.

Two implementations: the SQL store (`engine.storage.billing_store.SqlBillingStore`, SQLite and
MySQL/MariaDB) and the in-memory fake of the unit tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from datetime import date

    from pulsewatch.domain.billing import Subscription
    from pulsewatch.domain.invoicing import Invoice
    from pulsewatch.domain.monitoring import Check


class BillingStore(Protocol):
    """Subscriptions (one per organization), daily usage counters and invoices.

    Every method is one unit of work; `transaction()` groups several. The SQL store shares its
    database with the accounts store, so a billing change and its audit entry commit together.
    """

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all."""
        ...

    def get_subscription(self, org: str) -> Subscription | None:
        """The organization's subscription, or None when it never had a plan."""
        ...

    def save_subscription(self, sub: Subscription) -> None:
        """Insert the subscription, or replace the organization's one."""
        ...

    def usage(self, org: str, start: date, end: date) -> dict[str, int]:
        """The organization's usage over days [start, end): metric → the counters' sum, or for the
        high-water figures of `invoicing.PEAK_METRICS` (seats) the largest day's."""
        ...

    def add_usage(self, increments: Sequence[tuple[str, date, str, int]]) -> None:
        """Add (org, day, metric, n) to the counters, atomically: concurrent writers never lose a count."""
        ...

    def next_invoice_number(self, org: str) -> str:
        """A number for the organization's next invoice: `INV-acme-0001`, `INV-acme-0002`..."""
        ...

    def save_invoice(self, invoice: Invoice) -> None:
        """Insert a new invoice with its lines, or update the status of an existing one (by number).

        Raises:
            BillingError: an invoice for the same organization and period exists already.
        """
        ...

    def invoice(self, number: str) -> Invoice | None:
        """The invoice with this number, or None."""
        ...

    def invoices(self, org: str) -> list[Invoice]:
        """The organization's invoices, newest period first."""
        ...

    def checks_of(self, org: str) -> list[Check]:
        """The organization's stored checks, ordered by name."""
        ...
