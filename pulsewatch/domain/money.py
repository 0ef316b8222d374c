"""Money: a Decimal amount and its currency, never float, never two currencies mixed.

Rounding happens in one place only, `Money.quantized()`: to cents with ROUND_HALF_UP (half a cent goes
up, the way people round prices by hand), and only where an amount becomes an invoice line — so a
line's amount is exact and the lines add up to the total with no rounding left over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Iterable

CENT = Decimal("0.01")
"""Invoice amounts are whole cents (every currency is treated as having two decimals)."""
ROUNDING = ROUND_HALF_UP
"""How an amount becomes whole cents: 0.005 → 0.01, 0.0049 → 0.00, -0.005 → -0.01."""
_CURRENCY = re.compile(r"[A-Z]{3}")


class BillingError(PulseWatchError):
    """A billing rule refused something: an unknown plan, a date outside the period, a bad amount."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Billing")


class CurrencyMismatch(BillingError):
    """Two amounts of different currencies met: there is no exchange rate in PulseWatch."""


@dataclass(frozen=True)
class Money:
    """An amount and its ISO 4217 currency code; Decimal because money is never float.

    Arithmetic keeps full precision (`*` of a unit price by a count); `quantized()` rounds to cents.

    Raises:
        BillingError: the amount is a float (or not a finite number), or the currency is not 3 capitals.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        amount: object = self.amount
        if isinstance(amount, int) and not isinstance(amount, bool):
            object.__setattr__(self, "amount", Decimal(amount))
        elif not isinstance(amount, Decimal) or not amount.is_finite():
            raise BillingError(f"money needs a Decimal amount, not {type(amount).__name__} {amount!r}")
        if _CURRENCY.fullmatch(self.currency) is None:
            raise BillingError(f"{self.currency!r} is not a currency code (expected three capitals: USD)")

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in `currency`."""
        return cls(Decimal(0), currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self} with {other}: different currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise TypeError(f"money is multiplied by an int or a Decimal, not {type(factor).__name__}")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def quantized(self) -> Money:
        """Rounded to whole cents with ROUND_HALF_UP (see `ROUNDING`)."""
        return Money(self.amount.quantize(CENT, rounding=ROUNDING), self.currency)

    @property
    def is_cents(self) -> bool:
        """True when the amount is already whole cents (what every invoice amount must be)."""
        return self.amount == self.amount.quantize(CENT, rounding=ROUNDING)

    def text(self) -> str:
        """`19.00 USD`: two decimals, for tables and messages."""
        return f"{self.amount.quantize(CENT, rounding=ROUNDING)} {self.currency}"


def total(amounts: Iterable[Money], currency: str) -> Money:
    """The exact sum of `amounts`, all in `currency` (zero when there are none).

    Raises:
        CurrencyMismatch: one amount is in another currency.
    """
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
