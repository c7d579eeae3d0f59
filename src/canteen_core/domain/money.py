"""Money: a Decimal amount with a currency.

Floats are refused everywhere: ``Money(amount=0.1)`` raises. Arithmetic keeps full precision;
rounding to the cent (half-up, the French public-accounting rule) happens only where a caller
asks for it with :meth:`Money.rounded`, e.g. when an invoice line is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import attrs

from canteen_core.domain.errors import InvalidInputError

__all__ = ["CENT", "EUR", "Money", "to_decimal"]

EUR = "EUR"
CENT = Decimal("0.01")
_GROUP_SEPARATOR = " "  # French groups thousands with a space


def to_decimal(value: object, *, path: str = "amount") -> Decimal:
    """Convert ``value`` (Decimal, int or a decimal string) to a finite Decimal.

    Floats and booleans are refused: a float has already lost the cents.
    """
    if isinstance(value, bool | float):
        raise InvalidInputError(
            f"{type(value).__name__} amounts are not accepted; use Decimal or a string like '3.05'",
            path=path,
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise InvalidInputError(f"not a decimal number: {value!r}", path=path) from None
    else:
        raise InvalidInputError(f"expected a decimal amount, got {type(value).__name__}", path=path)
    if not result.is_finite():
        raise InvalidInputError(f"amount must be finite, got {value!r}", path=path)
    return result


def _check_currency(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
        raise InvalidInputError(f"currency must be an ISO 4217 code like 'EUR', got {value!r}")


@attrs.frozen(order=False)
class Money:
    """An amount of money in one currency.

    >>> Money.of("3.05") + Money.of("1.00")
    Money(amount=Decimal('4.05'), currency='EUR')
    >>> str(Money.of("13.4"))
    '13.40 EUR'
    """

    amount: Decimal = attrs.field(converter=to_decimal)
    currency: str = attrs.field(default=EUR, validator=_check_currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str = EUR) -> Money:
        """Build from a Decimal, an int or a decimal string."""
        return cls(amount, currency)

    @classmethod
    def zero(cls, currency: str = EUR) -> Money:
        """Zero in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def sum(cls, items: Iterable[Money], currency: str = EUR) -> Money:
        """Sum ``items``; an empty iterable gives zero in ``currency``."""
        total = cls.zero(currency)
        for item in items:
            total = total + item
        return total

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise InvalidInputError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidInputError(
                f"currency mismatch: {self.currency} and {other.currency}", path="currency"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * to_decimal(factor, path="factor"), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def rounded(self) -> Money:
        """Round half-up to the cent (``2.675 -> 2.68``, ``-2.675 -> -2.68``)."""
        return Money(self.amount.quantize(CENT, rounding=ROUND_HALF_UP), self.currency)

    @property
    def cents(self) -> int:
        """The amount in cents after rounding half-up (what card providers want)."""
        return int(self.rounded().amount * 100)

    def format_fr(self) -> str:
        """French display: ``Money.of('1234.5').format_fr() == '1 234,50 €'`` ."""
        value = self.rounded().amount
        sign = "-" if value < 0 else ""
        units, _, cents = f"{abs(value):.2f}".partition(".")
        groups: list[str] = []
        while units:
            groups.insert(0, units[-3:])
            units = units[:-3]
        symbol = "€" if self.currency == EUR else self.currency
        return f"{sign}{_GROUP_SEPARATOR.join(groups)},{cents} {symbol}"

    def __str__(self) -> str:
        return f"{self.rounded().amount:.2f} {self.currency}"
