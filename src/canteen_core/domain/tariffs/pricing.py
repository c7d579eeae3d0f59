"""The pricing methods of a tariff category: one flat price, family-quotient brackets, or an effort
rate clamped to a minimum and a maximum (see :mod:`canteen_core.domain.tariffs` for the
conventions).
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import attrs

from canteen_core.domain._french import not_positive_fr
from canteen_core.domain._validators import non_negative_money
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import CENT, EUR, Money, check_cents, format_number_fr, to_decimal

_HUNDRED = Decimal(100)


def round_cent(value: Decimal) -> Decimal:
    """Round ``value`` half-up to the cent (the French public-accounting rule)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class TariffCategory(enum.StrEnum):
    """Who a meal is priced for."""

    RESIDENT_CHILD = "resident_child"
    NON_RESIDENT_CHILD = "non_resident_child"
    ADULT = "adult"
    PAI_BASKET = "pai_basket"  # packed lunch brought by the family (PAI): only the service is paid
    OCCASIONAL_MEAL = "occasional_meal"


#: Categories a sibling discount applies to unless a grid says otherwise.
DEFAULT_DISCOUNTED_CATEGORIES = frozenset(
    {TariffCategory.RESIDENT_CHILD, TariffCategory.NON_RESIDENT_CHILD, TariffCategory.PAI_BASKET}
)


def _optional_money(value: Decimal | int | str | None, currency: str) -> Money | None:
    """``value`` in ``currency``, or ``None`` (a pricing's ``no_quotient_price``)."""
    return None if value is None else Money.of(value, currency)


def _amount(value: object) -> Decimal:
    return to_decimal(value, path="amount")


def _optional_amount(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="amount")


def _price(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    """A price: money of zero or more, in whole cents (``3.355`` is refused, not rounded at
    every bill)."""
    non_negative_money(_, attribute, value)
    if isinstance(value, Money):
        check_cents(value.amount, path=attribute.name)


def _optional_price(_: object, attribute: attrs.Attribute[Money | None], value: object) -> None:
    if value is not None:
        _price(_, attribute, value)  # type: ignore[arg-type]


def _negative_qf(value: Decimal) -> str:
    return f"le QF ne doit pas être négatif (reçu {format_number_fr(value)})"


def _percentage(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not 0 <= value <= _HUNDRED:
        raise InvalidInputError(
            f"un pourcentage de 0 à 100 est attendu (reçu {format_number_fr(value)})",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class FlatPricing:
    """One price whatever the QF (adults, occasional meals, small communes)."""

    price: Money = attrs.field(validator=_price)

    @classmethod
    def of(cls, price: Decimal | int | str, currency: str = EUR) -> FlatPricing:
        """A flat price from a Decimal, int or decimal string."""
        return cls(price=Money.of(price, currency))

    @property
    def currency(self) -> str:
        """The currency of the price."""
        return self.price.currency

    def unit_amount(self, quotient: Decimal | None) -> Decimal:
        """The base price (Decimal, rounded to the cent) for ``quotient`` (ignored)."""
        return round_cent(self.price.amount)

    def band(self, quotient: Decimal | None) -> str:
        """Report label of the band ``quotient`` falls in."""
        return "forfait"

    @property
    def bands(self) -> tuple[str, ...]:
        """Every report band, in order."""
        return ("forfait",)


@attrs.frozen(kw_only=True)
class Bracket:
    """A QF bracket ``[qf_from, qf_to)`` and its price; ``qf_to=None`` means no upper bound."""

    qf_from: Decimal = attrs.field(converter=_amount)
    qf_to: Decimal | None = attrs.field(default=None, converter=_optional_amount)
    price: Money = attrs.field(validator=_price)
    label: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.qf_from < 0:
            raise InvalidInputError(_negative_qf(self.qf_from), path="qf_from")
        if self.qf_to is not None and self.qf_to <= self.qf_from:
            raise InvalidInputError(
                f"la tranche de QF finit ({self.qf_to}) avant ou là où elle commence "
                f"({self.qf_from})",
                path="qf_to",
            )

    def contains(self, quotient: Decimal) -> bool:
        """Whether ``quotient`` falls in this bracket."""
        return self.qf_from <= quotient and (self.qf_to is None or quotient < self.qf_to)

    @property
    def display(self) -> str:
        """The label, or ``"QF 500-800"`` / ``"QF >= 1200"`` built from the bounds."""
        if self.label:
            return self.label
        if self.qf_to is None:
            return f"QF >= {self.qf_from.normalize():f}"
        return f"QF {self.qf_from.normalize():f}-{self.qf_to.normalize():f}"


def _brackets(items: Iterable[Bracket]) -> tuple[Bracket, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class BracketPricing:
    """Prices by QF bracket (tranches de quotient familial).

    >>> grid = BracketPricing.from_thresholds(["1.00", "3.05", "3.10", "3.15"], [500, 800, 1200])
    >>> grid.unit_amount(Decimal(650)), grid.unit_amount(None)
    (Decimal('3.05'), Decimal('3.15'))
    """

    brackets: tuple[Bracket, ...] = attrs.field(converter=_brackets)
    #: Price when no QF is on file; ``None`` means the highest bracket.
    no_quotient_price: Money | None = attrs.field(default=None, validator=_optional_price)
    _starts: tuple[Decimal, ...] = attrs.field(init=False, eq=False, repr=False)
    _amounts: tuple[Decimal, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.brackets:
            raise InvalidInputError(
                "une grille par tranches de QF demande au moins une tranche", path="brackets"
            )
        currencies = {b.price.currency for b in self.brackets}
        if self.no_quotient_price is not None:
            currencies.add(self.no_quotient_price.currency)
        if len(currencies) != 1:
            raise InvalidInputError(
                f"les tranches mélangent plusieurs devises : {', '.join(sorted(currencies))}",
                path="brackets",
            )
        ordered = sorted(self.brackets, key=lambda b: b.qf_from)
        if ordered[0].qf_from != 0:
            raise InvalidInputError(
                "la première tranche doit commencer au QF 0, pas "
                f"{format_number_fr(ordered[0].qf_from)}",
                path="brackets[0].qf_from",
            )
        for index, (earlier, later) in enumerate(pairwise(ordered)):
            if earlier.qf_to is None or earlier.qf_to > later.qf_from:
                raise InvalidInputError(
                    f"les tranches {earlier.display} et {later.display} se chevauchent",
                    path=f"brackets[{index + 1}]",
                )
            if earlier.qf_to < later.qf_from:
                raise InvalidInputError(
                    f"aucun prix pour un QF de {format_number_fr(earlier.qf_to)} à "
                    f"{format_number_fr(later.qf_from)} : les tranches doivent se suivre",
                    path=f"brackets[{index + 1}]",
                )
        if ordered[-1].qf_to is not None:
            raise InvalidInputError(
                "la dernière tranche doit rester ouverte : aucun prix au-delà du QF "
                f"{format_number_fr(ordered[-1].qf_to)}",
                path=f"brackets[{len(ordered) - 1}].qf_to",
            )
        object.__setattr__(self, "brackets", tuple(ordered))
        # Precomputed for fast lookups (simulation of 100,000 households).
        object.__setattr__(self, "_starts", tuple(b.qf_from for b in ordered))
        object.__setattr__(self, "_amounts", tuple(round_cent(b.price.amount) for b in ordered))

    @classmethod
    def from_thresholds(
        cls,
        prices: Iterable[Decimal | int | str],
        thresholds: Iterable[Decimal | int | str],
        *,
        currency: str = EUR,
        no_quotient_price: Decimal | int | str | None = None,
    ) -> BracketPricing:
        """Build ``n`` brackets from ``n`` prices and the ``n - 1`` QF values where they change.

        ``from_thresholds(["1.00", "3.05"], [500])`` is QF < 500 -> 1.00, QF >= 500 -> 3.05.
        """
        price_list = list(prices)
        bounds = [to_decimal(t, path="thresholds") for t in thresholds]
        if len(bounds) != len(price_list) - 1:
            raise InvalidInputError(
                f"{len(price_list)} prix demandent {len(price_list) - 1} "
                f"seuil{'s' if len(price_list) > 2 else ''} de QF (thresholds), pas {len(bounds)}",
                path="thresholds",
            )
        starts = [Decimal(0), *bounds]
        ends: list[Decimal | None] = [*bounds, None]
        return cls(
            brackets=tuple(
                Bracket(qf_from=start, qf_to=end, price=Money.of(price, currency))
                for start, end, price in zip(starts, ends, price_list, strict=True)
            ),
            no_quotient_price=_optional_money(no_quotient_price, currency),
        )

    @property
    def currency(self) -> str:
        """The currency of the prices."""
        return self.brackets[0].price.currency

    def bracket_index(self, quotient: Decimal | None) -> int | None:
        """Index of the bracket for ``quotient``; ``None`` when no QF is on file."""
        if quotient is None:
            return None
        if quotient < 0:
            raise InvalidInputError(_negative_qf(quotient), path="quotient")
        return bisect_right(self._starts, quotient) - 1

    def unit_amount(self, quotient: Decimal | None) -> Decimal:
        """The base price (Decimal, rounded to the cent) for ``quotient``."""
        amounts = self._amounts
        index = self.bracket_index(quotient)
        if index is None:
            if self.no_quotient_price is not None:
                return round_cent(self.no_quotient_price.amount)
            return amounts[-1]
        return amounts[index]

    def band(self, quotient: Decimal | None) -> str:
        """Report label of the bracket ``quotient`` falls in (``"QF inconnu"`` if none)."""
        index = self.bracket_index(quotient)
        return "QF inconnu" if index is None else self.brackets[index].display

    @property
    def bands(self) -> tuple[str, ...]:
        """Every bracket label in QF order, then ``"QF inconnu"``."""
        return (*(b.display for b in self.brackets), "QF inconnu")


@attrs.frozen(kw_only=True)
class EffortRatePricing:
    """Effort rate (taux d'effort): ``QF x rate_percent / 100`` clamped to ``[minimum, maximum]``.

    >>> p = EffortRatePricing.of("0.36", minimum="2.60", maximum="4.50")
    >>> p.unit_amount(Decimal(500)), p.unit_amount(Decimal(1000)), p.unit_amount(Decimal(2000))
    (Decimal('2.60'), Decimal('3.60'), Decimal('4.50'))
    """

    rate_percent: Decimal = attrs.field(converter=_amount)
    minimum: Money = attrs.field(validator=_price)
    maximum: Money = attrs.field(validator=_price)
    #: Price when no QF is on file; ``None`` means the maximum.
    no_quotient_price: Money | None = attrs.field(default=None, validator=_optional_price)

    def __attrs_post_init__(self) -> None:
        if self.rate_percent <= 0:
            raise InvalidInputError(
                not_positive_fr("le taux d'effort", self.rate_percent), path="rate_percent"
            )
        if self.minimum.currency != self.maximum.currency:
            raise InvalidInputError(
                "le minimum et le maximum sont dans deux devises différentes", path="maximum"
            )
        if self.maximum < self.minimum:
            raise InvalidInputError(
                f"le maximum ({self.maximum.format_fr()}) est inférieur au minimum "
                f"({self.minimum.format_fr()})",
                path="maximum",
            )

    @classmethod
    def of(
        cls,
        rate_percent: Decimal | int | str,
        *,
        minimum: Decimal | int | str,
        maximum: Decimal | int | str,
        currency: str = EUR,
        no_quotient_price: Decimal | int | str | None = None,
    ) -> EffortRatePricing:
        """Build from plain amounts."""
        return cls(
            rate_percent=to_decimal(rate_percent, path="rate_percent"),
            minimum=Money.of(minimum, currency),
            maximum=Money.of(maximum, currency),
            no_quotient_price=_optional_money(no_quotient_price, currency),
        )

    @property
    def currency(self) -> str:
        """The currency of the prices."""
        return self.minimum.currency

    def unit_amount(self, quotient: Decimal | None) -> Decimal:
        """The base price (Decimal, rounded to the cent) for ``quotient``."""
        if quotient is None:
            if self.no_quotient_price is not None:
                return round_cent(self.no_quotient_price.amount)
            return round_cent(self.maximum.amount)
        if quotient < 0:
            raise InvalidInputError(_negative_qf(quotient), path="quotient")
        raw = quotient * self.rate_percent / _HUNDRED
        return round_cent(min(max(raw, self.minimum.amount), self.maximum.amount))

    def band(self, quotient: Decimal | None) -> str:
        """Report band: ``"minimum"``, ``"taux d'effort"``, ``"maximum"`` or ``"QF inconnu"``."""
        if quotient is None:
            return "QF inconnu"
        raw = quotient * self.rate_percent / _HUNDRED
        if raw <= self.minimum.amount:
            return "minimum"
        if raw >= self.maximum.amount:
            return "maximum"
        return "taux d'effort"

    @property
    def bands(self) -> tuple[str, ...]:
        """Every report band, in order."""
        return ("minimum", "taux d'effort", "maximum", "QF inconnu")


#: Any pricing method a grid may hold for a category.
Pricing = FlatPricing | BracketPricing | EffortRatePricing
