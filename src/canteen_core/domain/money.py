"""Money: a Decimal amount with a currency.

Floats are refused everywhere: ``Money(amount=0.1)`` raises. Arithmetic keeps full precision;
rounding to the cent (half-up, the French public-accounting rule) happens only where a caller
asks for it with :meth:`Money.rounded`, e.g. when an invoice line is fixed.

Amounts typed by people (the counter, a CSV file, a tariff grid) are read by one function,
:func:`parse_amount` (money: at most two decimals, a ceiling) or :func:`parse_decimal` (any
decimal number, e.g. a family quotient or a percentage). Both read the French and English ways
of writing a number, ``1 000,50`` (ordinary, no-break or narrow no-break space between groups
of three digits) and ``1000.50``, and refuse what a person does not mean as an amount: an
exponent (``1e9``), ``NaN``, ``Infinity``, mixed separators (``1,000.50``). Display goes through
babel's ``fr_FR`` locale (:meth:`Money.format_fr`, :func:`format_number_fr`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

import attrs
from babel.numbers import format_currency, format_decimal

from canteen_core.domain.errors import InvalidInputError, RuleViolationError

__all__ = [
    "CENT",
    "DEFAULT_PAYMENT_CEILING",
    "EUR",
    "Money",
    "MoneySettings",
    "check_cents",
    "format_number_fr",
    "parse_amount",
    "parse_decimal",
    "to_decimal",
]

EUR = "EUR"
CENT = Decimal("0.01")
#: The largest payment accepted without an explicit override (``[money] max_payment``).
DEFAULT_PAYMENT_CEILING: Final = Decimal("10000")
_LOCALE: Final = "fr_FR"
# Babel writes a narrow no-break space between digit groups and a no-break space before "€";
# texts keep ordinary spaces (e-mail clients, terminals and CSV readers mangle U+202F).
_SPACES: Final = str.maketrans({"\u202f": " ", "\u00a0": " "})
# Digits grouped by three with an ordinary, no-break, narrow no-break or thin space.
_GROUP_SPACES: Final = " \u00a0\u202f\u2009"
_NUMBER: Final = re.compile(
    rf"^(?P<sign>[+-]?)(?P<units>\d+|\d{{1,3}}(?:[{_GROUP_SPACES}]\d{{3}})+)"
    r"(?:(?P<separator>[.,])(?P<fraction>\d+))?$"
)
_CURRENCY_SUFFIX: Final = re.compile(r"\s*(?:€|EUR|euros?)$", re.IGNORECASE)


def to_decimal(value: object, *, path: str = "amount") -> Decimal:
    """Convert ``value`` (Decimal, int or a decimal string) to a finite Decimal.

    Floats and booleans are refused: a float has already lost the cents.
    """
    if isinstance(value, bool | float):
        raise InvalidInputError(
            f"montant « {value} » refusé (nombre à virgule flottante ou booléen) : écrivez-le"
            ' en texte, par exemple "3.05"',
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
            raise InvalidInputError(
                f"« {value} » n'est pas un montant (par exemple 3.05)", path=path
            ) from None
    else:
        raise InvalidInputError(f"montant attendu, pas {type(value).__name__}", path=path)
    if not result.is_finite():
        raise InvalidInputError(f"le montant doit être fini (reçu « {value} »)", path=path)
    return result


def parse_decimal(text: str, *, path: str = "amount") -> Decimal:
    """Read a number typed by a person: ``"1 000,50"``, ``"1000.50"``, ``"12,5"``, ``"-3"``.

    Groups of three digits may be separated by an ordinary, no-break (U+00A0), narrow no-break
    (U+202F) or thin space; the decimal separator is a comma or a point. Exponents (``"1e9"``),
    ``NaN``, ``Infinity``, ``"1,000.50"`` and badly grouped digits are refused with
    :class:`~canteen_core.domain.errors.InvalidInputError` (French message).

    >>> parse_decimal("1\u202f000,5"), parse_decimal("12.25")
    (Decimal('1000.5'), Decimal('12.25'))
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"nombre attendu, pas {type(text).__name__}", path=path)
    match = _NUMBER.match(text.strip())
    if match is None:
        raise InvalidInputError(
            f"« {text.strip()} » n'est pas un nombre (ex. 1 000,50 ou 1000.50)", path=path
        )
    units = re.sub(f"[{_GROUP_SPACES}]", "", match["units"])
    fraction = match["fraction"] or ""
    return Decimal(f"{match['sign']}{units}.{fraction}" if fraction else f"{match['sign']}{units}")


def parse_amount(
    text: str,
    *,
    path: str = "amount",
    ceiling: Decimal | None = DEFAULT_PAYMENT_CEILING,
    above_ceiling: bool = False,
) -> Money:
    """Read an amount in euros typed by a person (see :func:`parse_decimal` for the formats).

    A trailing ``€`` or ``EUR`` is allowed. More than two decimals is refused (a cent is the
    smallest amount), as is an amount above ``ceiling`` (default
    :data:`DEFAULT_PAYMENT_CEILING`, the deployment's ``[money] max_payment``) unless
    ``above_ceiling`` says the operator means it: a slip of the keyboard (``100000`` for
    ``1000``) must not become a payment. ``ceiling=None`` sets no limit.

    >>> parse_amount("1 000,00").format_fr()
    '1 000,00 €'
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"montant attendu, pas {type(text).__name__}", path=path)
    value = parse_decimal(_CURRENCY_SUFFIX.sub("", text.strip()), path=path)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _sub_cent_error(text.strip(), path)
    money = Money(value)
    if ceiling is not None and not above_ceiling and value > ceiling:
        raise RuleViolationError(
            f"{money.format_fr()} dépasse le plafond de {Money(ceiling).format_fr()} ; "
            "vérifiez le montant, ou confirmez-le explicitement"
        )
    return money


def _sub_cent_error(shown: str, path: str) -> InvalidInputError:
    return InvalidInputError(f"« {shown} » : au plus deux décimales (les centimes)", path=path)


def check_cents(value: Decimal, *, path: str = "amount") -> Decimal:
    """``value`` when it is a whole number of cents (``3.35``, ``3.350``, ``3``); otherwise
    :class:`~canteen_core.domain.errors.InvalidInputError`, the same French message as
    :func:`parse_amount` (``« 3.355 » : au plus deux décimales (les centimes)``).

    For an amount a person sets once and every bill reuses (a price): a sub-cent price would
    be rounded silently at each use.
    """
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _sub_cent_error(f"{value:f}", path)
    return value


def format_number_fr(value: Decimal | int) -> str:
    """A number written the French way by babel: ``72675 -> '72 675'``, ``Decimal('0.5') ->
    '0,5'`` (ordinary spaces between groups)."""
    return format_decimal(value, locale=_LOCALE, decimal_quantization=False).translate(_SPACES)


def _setting_decimal(value: object) -> Decimal:
    return to_decimal(value, path="max_payment")


def _positive_ceiling(_: Any, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value <= 0:
        raise InvalidInputError(
            f"[money] {attribute.name} doit être un montant positif (reçu « {value} »)",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class MoneySettings:
    """``[money]`` of a deployment: ``max_payment`` (``"10000"`` by default) is the largest
    payment an operator records without saying explicitly that they mean more (``canteen pay
    --above-ceiling``)."""

    max_payment: Decimal = attrs.field(
        default=DEFAULT_PAYMENT_CEILING, converter=_setting_decimal, validator=_positive_ceiling
    )


def _check_currency(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
        raise InvalidInputError(
            f"la devise doit être un code ISO 4217 comme EUR (reçu « {value} »)"
        )


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
        """Build from a Decimal, an int or a decimal string.

        A string is read as a person writes a number (:func:`parse_decimal`: ``"13.40"``,
        ``"13,40"``, ``"1 000,50"``; no exponent, so ``"1e9"`` is refused). Stored data goes
        through the ``amount`` converter, which also reads Python's own ``str(Decimal)``.
        """
        if isinstance(amount, str):
            return cls(parse_decimal(amount), currency)
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
        text = format_currency(self.rounded().amount, self.currency, locale=_LOCALE)
        return text.translate(_SPACES)

    def __str__(self) -> str:
        return f"{self.rounded().amount:.2f} {self.currency}"
