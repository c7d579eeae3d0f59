"""Tariffs: dated price grids per service and category (grilles tarifaires).

A :class:`TariffGrid` prices one service for a validity period. For each
:class:`TariffCategory` in use it holds a pricing method:

- :class:`FlatPricing`: one price for everybody;
- :class:`BracketPricing`: family-quotient (QF) brackets (tranches);
- :class:`EffortRatePricing`: a rate (taux d'effort) applied to the QF, clamped to a minimum and
  a maximum.

On top of the base price a grid may define sibling-rank discounts (:class:`SiblingDiscount`,
e.g. "third child and more: half price") and surcharges (:class:`Surcharge`) for a meal taken
without booking or booked late. A :class:`TariffBook` holds the grids of several services and
picks the one valid on a given day.

Conventions, stated once:

- Every percentage is a Decimal *percentage*: ``Decimal("50")`` is 50 %, an effort rate of
  ``Decimal("0.36")`` is 0.36 % of the QF (QF 1000 -> 3.60 EUR).
- QF brackets are half-open ``[qf_from, qf_to)``: a QF equal to ``qf_to`` belongs to the next
  bracket. The first bracket starts at 0, each next one starts where the previous one ends, the
  last one is open-ended (``qf_to=None``). Anything else is refused at construction.
- A unit price is rounded half-up to the cent once, after discount and surcharge: that is the
  price printed on the invoice line.
- A household with no QF on file for the day pays the highest bracket (or the effort-rate
  maximum) unless the pricing sets ``no_quotient_price``.
- The QF used is the one valid on the day of the meal (:meth:`Household.quotient_on`): a QF
  change takes effect from its start date, never retroactively.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import attrs

from canteen_core.domain._validators import a_date, non_empty_str, optional_date
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Child, Household
from canteen_core.domain.money import CENT, EUR, Money, to_decimal

__all__ = [
    "DEFAULT_DISCOUNTED_CATEGORIES",
    "Bracket",
    "BracketPricing",
    "EffortRatePricing",
    "FlatPricing",
    "PriceQuote",
    "Pricing",
    "SiblingDiscount",
    "Surcharge",
    "SurchargeKind",
    "SurchargeReason",
    "TariffBook",
    "TariffCategory",
    "TariffGrid",
    "round_cent",
    "sibling_ranks",
]

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


def _amount(value: object) -> Decimal:
    return to_decimal(value, path="amount")


def _optional_amount(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, path="amount")


def _non_negative_money(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidInputError(f"must be Money, got {type(value).__name__}", path=attribute.name)
    if value.is_negative:
        raise InvalidInputError(f"price must not be negative, got {value}", path=attribute.name)


def _optional_non_negative_money(
    _: object, attribute: attrs.Attribute[Money | None], value: object
) -> None:
    if value is not None:
        _non_negative_money(_, attribute, value)  # type: ignore[arg-type]


def _percentage(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not 0 <= value <= _HUNDRED:
        raise InvalidInputError(
            f"percentage must be between 0 and 100, got {value}", path=attribute.name
        )


# -- pricing methods -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FlatPricing:
    """One price whatever the QF (adults, occasional meals, small communes)."""

    price: Money = attrs.field(validator=_non_negative_money)

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
    price: Money = attrs.field(validator=_non_negative_money)
    label: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.qf_from < 0:
            raise InvalidInputError(f"QF must not be negative, got {self.qf_from}", path="qf_from")
        if self.qf_to is not None and self.qf_to <= self.qf_from:
            raise InvalidInputError(
                f"bracket ends ({self.qf_to}) at or before it starts ({self.qf_from})",
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
    no_quotient_price: Money | None = attrs.field(
        default=None, validator=_optional_non_negative_money
    )
    _starts: tuple[Decimal, ...] = attrs.field(init=False, eq=False, repr=False)
    _amounts: tuple[Decimal, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.brackets:
            raise InvalidInputError("a bracket grid needs at least one bracket", path="brackets")
        currencies = {b.price.currency for b in self.brackets}
        if self.no_quotient_price is not None:
            currencies.add(self.no_quotient_price.currency)
        if len(currencies) != 1:
            raise InvalidInputError(
                f"brackets mix currencies {sorted(currencies)}", path="brackets"
            )
        ordered = sorted(self.brackets, key=lambda b: b.qf_from)
        if ordered[0].qf_from != 0:
            raise InvalidInputError(
                f"the first bracket must start at QF 0, not {ordered[0].qf_from}",
                path="brackets[0].qf_from",
            )
        for index, (earlier, later) in enumerate(pairwise(ordered)):
            if earlier.qf_to is None or earlier.qf_to > later.qf_from:
                raise InvalidInputError(
                    f"brackets overlap: {earlier.display} and {later.display}",
                    path=f"brackets[{index + 1}]",
                )
            if earlier.qf_to < later.qf_from:
                raise InvalidInputError(
                    f"gap between brackets: no price for QF {earlier.qf_to} to {later.qf_from}",
                    path=f"brackets[{index + 1}]",
                )
        if ordered[-1].qf_to is not None:
            raise InvalidInputError(
                f"the last bracket must be open-ended; no price above QF {ordered[-1].qf_to}",
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
                f"{len(price_list)} prices need {len(price_list) - 1} thresholds, "
                f"got {len(bounds)}",
                path="thresholds",
            )
        starts = [Decimal(0), *bounds]
        ends: list[Decimal | None] = [*bounds, None]
        return cls(
            brackets=tuple(
                Bracket(qf_from=start, qf_to=end, price=Money.of(price, currency))
                for start, end, price in zip(starts, ends, price_list, strict=True)
            ),
            no_quotient_price=None
            if no_quotient_price is None
            else Money.of(no_quotient_price, currency),
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
            raise InvalidInputError(f"QF must not be negative, got {quotient}", path="quotient")
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
    minimum: Money = attrs.field(validator=_non_negative_money)
    maximum: Money = attrs.field(validator=_non_negative_money)
    #: Price when no QF is on file; ``None`` means the maximum.
    no_quotient_price: Money | None = attrs.field(
        default=None, validator=_optional_non_negative_money
    )

    def __attrs_post_init__(self) -> None:
        if self.rate_percent <= 0:
            raise InvalidInputError(
                f"effort rate must be positive, got {self.rate_percent}", path="rate_percent"
            )
        if self.minimum.currency != self.maximum.currency:
            raise InvalidInputError("minimum and maximum in different currencies", path="maximum")
        if self.maximum < self.minimum:
            raise InvalidInputError(
                f"maximum {self.maximum} is below minimum {self.minimum}", path="maximum"
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
            no_quotient_price=None
            if no_quotient_price is None
            else Money.of(no_quotient_price, currency),
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
            raise InvalidInputError(f"QF must not be negative, got {quotient}", path="quotient")
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


# -- discounts and surcharges ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SiblingDiscount:
    """``percent`` off for the child of sibling rank ``from_rank`` and every younger one.

    Rank 1 is the oldest child of the household enrolled in the service (see
    :func:`sibling_ranks`). ``SiblingDiscount(from_rank=3, percent=Decimal(50))`` is "third child
    and more: half price". When several apply, the one with the highest ``from_rank`` wins.
    """

    from_rank: int
    percent: Decimal = attrs.field(converter=_amount, validator=_percentage)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.from_rank, bool) or not isinstance(self.from_rank, int):
            raise InvalidInputError("from_rank must be an integer", path="from_rank")
        if self.from_rank < 2:
            raise InvalidInputError(
                f"a sibling discount starts at rank 2 or more, got {self.from_rank}",
                path="from_rank",
            )


def sibling_ranks(children: Iterable[Child]) -> dict[str, int]:
    """Rank children by birth date, oldest first (rank 1); ties broken by child id.

    Pass the children of one household enrolled in the service being priced: a child who does not
    eat at the canteen does not count.
    """
    ordered = sorted(children, key=lambda child: (child.birth_date, child.id))
    return {child.id: rank for rank, child in enumerate(ordered, start=1)}


class SurchargeReason(enum.StrEnum):
    """Why a meal costs more than the grid price."""

    UNBOOKED_MEAL = "unbooked_meal"  # present without a booking
    LATE_BOOKING = "late_booking"  # booked after the deadline, accepted with a surcharge


class SurchargeKind(enum.StrEnum):
    """How a surcharge changes the price."""

    FIXED_PRICE = "fixed_price"  # the meal costs ``value`` instead (no discount applies)
    ADD_AMOUNT = "add_amount"  # ``value`` EUR on top of the price
    PERCENT = "percent"  # ``value`` % on top of the price (50 -> +50 %)


@attrs.frozen(kw_only=True)
class Surcharge:
    """A price increase (tarif majoré)."""

    kind: SurchargeKind = attrs.field(converter=SurchargeKind)
    value: Decimal = attrs.field(converter=_amount)

    def __attrs_post_init__(self) -> None:
        if self.value < 0:
            raise InvalidInputError(
                f"surcharge must not be negative, got {self.value}", path="value"
            )

    @classmethod
    def fixed_price(cls, price: Decimal | int | str) -> Surcharge:
        """The meal costs ``price``."""
        return cls(kind=SurchargeKind.FIXED_PRICE, value=to_decimal(price, path="value"))

    @classmethod
    def add_amount(cls, amount: Decimal | int | str) -> Surcharge:
        """``amount`` on top of the price."""
        return cls(kind=SurchargeKind.ADD_AMOUNT, value=to_decimal(amount, path="value"))

    @classmethod
    def percent(cls, percent: Decimal | int | str) -> Surcharge:
        """``percent`` % on top of the price."""
        return cls(kind=SurchargeKind.PERCENT, value=to_decimal(percent, path="value"))

    def apply(self, price: Decimal) -> Decimal:
        """The surcharged price (not rounded)."""
        if self.kind is SurchargeKind.FIXED_PRICE:
            return self.value
        if self.kind is SurchargeKind.ADD_AMOUNT:
            return price + self.value
        return price * (_HUNDRED + self.value) / _HUNDRED


@attrs.frozen(kw_only=True)
class PriceQuote:
    """The unit price of one meal and how it was obtained (for invoice traceability)."""

    unit_price: Money
    base_price: Money
    category: TariffCategory
    quotient: Decimal | None
    band: str
    grid_id: str
    sibling_rank: int
    discount_percent: Decimal
    surcharge: SurchargeReason | None

    @property
    def description(self) -> str:
        """A short French description, e.g. ``"QF 500-800, 3e enfant -50 %"``."""
        parts = [self.band]
        if self.discount_percent:
            parts.append(f"{self.sibling_rank}e enfant -{self.discount_percent.normalize():f} %")
        if self.surcharge is SurchargeReason.UNBOOKED_MEAL:
            parts.append("majoration repas non réservé")
        elif self.surcharge is SurchargeReason.LATE_BOOKING:
            parts.append("majoration réservation tardive")
        return ", ".join(parts)


# -- grids -----------------------------------------------------------------------------------


def _prices(
    value: Mapping[TariffCategory, Pricing] | Mapping[str, Pricing],
) -> dict[TariffCategory, Pricing]:
    if not isinstance(value, Mapping):
        raise InvalidInputError("prices must map a category to a pricing", path="prices")
    result: dict[TariffCategory, Pricing] = {}
    for key, pricing in value.items():
        try:
            category = TariffCategory(key)
        except ValueError:
            raise InvalidInputError(
                f"unknown tariff category {key!r}; use one of {[c.value for c in TariffCategory]}",
                path="prices",
            ) from None
        if not isinstance(pricing, FlatPricing | BracketPricing | EffortRatePricing):
            raise InvalidInputError(
                f"not a pricing method: {type(pricing).__name__}", path=f"prices.{category}"
            )
        result[category] = pricing
    return result


def _categories(items: Iterable[TariffCategory | str]) -> frozenset[TariffCategory]:
    try:
        return frozenset(TariffCategory(item) for item in items)
    except ValueError as error:
        raise InvalidInputError(str(error), path="categories") from None


def _discounts(items: Iterable[SiblingDiscount]) -> tuple[SiblingDiscount, ...]:
    return tuple(sorted(items, key=lambda d: d.from_rank))


def _optional_surcharge(
    _: object, attribute: attrs.Attribute[Surcharge | None], value: object
) -> None:
    if value is not None and not isinstance(value, Surcharge):
        raise InvalidInputError(f"must be a Surcharge, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class TariffGrid:
    """The prices of one service from ``valid_from`` to ``valid_until`` (inclusive, open if None).

    ``required_categories`` are the categories the service uses: a grid without a price for one
    of them is refused at construction (a missing price must not surface as a billing failure
    months later).
    """

    id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    valid_from: date = attrs.field(validator=a_date)
    valid_until: date | None = attrs.field(default=None, validator=optional_date)
    prices: dict[TariffCategory, Pricing] = attrs.field(converter=_prices)
    required_categories: frozenset[TariffCategory] = attrs.field(
        default=frozenset({TariffCategory.RESIDENT_CHILD}), converter=_categories
    )
    sibling_discounts: tuple[SiblingDiscount, ...] = attrs.field(default=(), converter=_discounts)
    discounted_categories: frozenset[TariffCategory] = attrs.field(
        default=DEFAULT_DISCOUNTED_CATEGORIES, converter=_categories
    )
    unbooked_surcharge: Surcharge | None = attrs.field(default=None, validator=_optional_surcharge)
    late_booking_surcharge: Surcharge | None = attrs.field(
        default=None, validator=_optional_surcharge
    )
    currency: str = EUR

    def __attrs_post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidInputError(
                f"grid ends ({self.valid_until}) before it starts ({self.valid_from})",
                path="valid_until",
            )
        missing = sorted(self.required_categories - self.prices.keys())
        if missing:
            raise InvalidInputError(
                f"grid {self.id!r} has no price for categories in use: {', '.join(missing)}",
                path="prices",
            )
        for category, pricing in self.prices.items():
            if pricing.currency != self.currency:
                raise InvalidInputError(
                    f"price in {pricing.currency}, grid in {self.currency}",
                    path=f"prices.{category}",
                )
        ranks = [d.from_rank for d in self.sibling_discounts]
        if len(ranks) != len(set(ranks)):
            raise InvalidInputError(
                "two sibling discounts start at the same rank", path="sibling_discounts"
            )

    def covers(self, day: date) -> bool:
        """Whether the grid is valid on ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def pricing(self, category: TariffCategory | str) -> Pricing:
        """The pricing of ``category``; :class:`ConfigurationError` if the grid has none."""
        try:
            return self.prices[TariffCategory(category)]
        except (KeyError, ValueError):
            raise ConfigurationError(
                f"grid {self.id!r} of service {self.service_id!r} has no price for {category!r}",
                path="category",
            ) from None

    def discount_percent(self, category: TariffCategory, sibling_rank: int) -> Decimal:
        """The sibling discount (percentage) for a child of ``sibling_rank`` in ``category``."""
        if category not in self.discounted_categories:
            return Decimal(0)
        percent = Decimal(0)
        for discount in self.sibling_discounts:  # sorted by rank: the last applicable wins
            if sibling_rank >= discount.from_rank:
                percent = discount.percent
        return percent

    def surcharge_for(self, reason: SurchargeReason | None) -> Surcharge | None:
        """The surcharge configured for ``reason`` (``None`` if the grid has none)."""
        if reason is SurchargeReason.UNBOOKED_MEAL:
            return self.unbooked_surcharge
        if reason is SurchargeReason.LATE_BOOKING:
            return self.late_booking_surcharge
        return None

    def unit_amount(
        self,
        category: TariffCategory,
        quotient: Decimal | None,
        *,
        sibling_rank: int = 1,
        surcharge: SurchargeReason | None = None,
    ) -> Decimal:
        """The final unit price as a Decimal rounded to the cent (fast path, no trace)."""
        base = self.pricing(category).unit_amount(quotient)
        return self._finish(base, category, sibling_rank, surcharge)

    def _finish(
        self,
        base: Decimal,
        category: TariffCategory,
        sibling_rank: int,
        surcharge: SurchargeReason | None,
    ) -> Decimal:
        price = base
        percent = self.discount_percent(category, sibling_rank)
        if percent:
            price = price * (_HUNDRED - percent) / _HUNDRED
        rule = self.surcharge_for(surcharge)
        if rule is not None:
            price = rule.apply(price)
        return round_cent(price)

    def quote(
        self,
        category: TariffCategory | str,
        quotient: Decimal | None,
        *,
        sibling_rank: int = 1,
        surcharge: SurchargeReason | None = None,
    ) -> PriceQuote:
        """Price one meal of ``category`` for a household with ``quotient`` (None: no QF)."""
        return self._quote(category, quotient, sibling_rank, surcharge, None)

    def _quote(
        self,
        category: TariffCategory | str,
        quotient: Decimal | None,
        sibling_rank: int,
        surcharge: SurchargeReason | None,
        priced: dict[tuple[object, ...], PriceQuote] | None,
    ) -> PriceQuote:
        """:meth:`quote`; ``priced`` (when given) remembers, per category, price rule the QF
        falls under (bracket, clamp...), rank and surcharge, a quote of this grid: a quote for
        another QF under the same rule only differs by its ``quotient``."""
        if isinstance(sibling_rank, bool) or not isinstance(sibling_rank, int) or sibling_rank < 1:
            raise InvalidInputError(
                f"sibling rank must be a positive integer, got {sibling_rank!r}",
                path="sibling_rank",
            )
        if quotient is not None:
            quotient = to_decimal(quotient, path="quotient")
        try:
            cat = TariffCategory(category)
        except ValueError:
            raise InvalidInputError(
                f"unknown tariff category {category!r}", path="category"
            ) from None
        pricing = self.pricing(cat)
        key: tuple[object, ...] = ()
        if priced is not None:
            key = (cat, _price_key(pricing, quotient), sibling_rank, surcharge)
            known = priced.get(key)
            if known is not None:
                return PriceQuote(
                    unit_price=known.unit_price,
                    base_price=known.base_price,
                    category=cat,
                    quotient=quotient,
                    band=known.band,
                    grid_id=known.grid_id,
                    sibling_rank=sibling_rank,
                    discount_percent=known.discount_percent,
                    surcharge=known.surcharge,
                )
        base = pricing.unit_amount(quotient)
        rule = self.surcharge_for(surcharge)
        quote = PriceQuote(
            unit_price=Money(self._finish(base, cat, sibling_rank, surcharge), self.currency),
            base_price=Money(base, self.currency),
            category=cat,
            quotient=quotient,
            band=pricing.band(quotient),
            grid_id=self.id,
            sibling_rank=sibling_rank,
            discount_percent=self.discount_percent(cat, sibling_rank),
            surcharge=surcharge if rule is not None else None,
        )
        if priced is not None:
            priced[key] = quote
        return quote


def _price_key(pricing: Pricing, quotient: Decimal | None) -> object:
    """What of ``quotient`` the price and band of ``pricing`` depend on (same errors as
    :meth:`~BracketPricing.unit_amount`): the bracket, nothing for a flat price, the clamped
    price and band of an effort rate; the QF itself for any other pricing."""
    kind = type(pricing)
    if kind is BracketPricing:
        return pricing.bracket_index(quotient)  # type: ignore[union-attr]
    if kind is FlatPricing:
        return None
    if kind is EffortRatePricing:
        return (pricing.unit_amount(quotient), pricing.band(quotient))
    return ("quotient", quotient)


def _grids(items: Iterable[TariffGrid]) -> tuple[TariffGrid, ...]:
    grids = tuple(items)
    for index, item in enumerate(grids):
        if not isinstance(item, TariffGrid):
            raise InvalidInputError(
                f"expected a TariffGrid, got {type(item).__name__}", path=f"grids[{index}]"
            )
    return tuple(sorted(grids, key=lambda g: (g.service_id, g.valid_from)))


@attrs.frozen(kw_only=True)
class TariffBook:
    """Every grid of every service; picks the grid valid on a day.

    Two grids of one service may not overlap in time (which price would apply?). Gaps are allowed
    (a service that does not run in summer) but pricing a day in a gap raises
    :class:`NotFoundError`.
    """

    grids: tuple[TariffGrid, ...] = attrs.field(converter=_grids)
    # A quote depends only on (grid, category, QF, rank, surcharge): a billing run prices the
    # same few combinations tens of thousands of times, so each is computed once per book.
    _quotes: dict[tuple[object, ...], PriceQuote] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )
    # Per grid id, the priced part of its quotes shared by every QF under one price rule (one
    # bracket...): a new household's quote only records its QF (see TariffGrid._quote).
    _priced: dict[str, dict[tuple[object, ...], PriceQuote]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )
    # Per service, the days a grid starts or the day after one ends (see quote_days).
    _edges: dict[str, frozenset[date]] = attrs.field(factory=dict, init=False, eq=False, repr=False)
    # (service id, day) -> the grid valid that day: a run prices a month's few days many times.
    _on_day: dict[tuple[str, date], TariffGrid] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        ids = [g.id for g in self.grids]
        if len(ids) != len(set(ids)):
            raise InvalidInputError("two grids share an id", path="grids")
        for earlier, later in pairwise(self.grids):
            if earlier.service_id != later.service_id:
                continue
            if earlier.valid_until is None or earlier.valid_until >= later.valid_from:
                raise InvalidInputError(
                    f"grids {earlier.id!r} and {later.id!r} of service {earlier.service_id!r} "
                    "overlap in time",
                    path="grids",
                )

    def grid_on(self, service_id: str, day: date) -> TariffGrid:
        """The grid of ``service_id`` valid on ``day``; :class:`NotFoundError` if none."""
        found = self._on_day.get((service_id, day))
        if found is not None:
            return found
        for grid in self.grids:
            if grid.service_id == service_id and grid.covers(day):
                self._on_day[(service_id, day)] = grid
                return grid
        raise NotFoundError(f"no tariff grid for service {service_id!r} on {day.isoformat()}")

    def quote(
        self,
        *,
        service_id: str,
        day: date,
        category: TariffCategory | str,
        household: Household,
        sibling_rank: int = 1,
        surcharge: SurchargeReason | None = None,
    ) -> PriceQuote:
        """Price one meal on ``day`` with the household's QF valid that day."""
        if not isinstance(household, Household):
            raise InvalidInputError("expected a Household", path="household")
        if not isinstance(day, date):
            raise InvalidInputError("expected a date", path="day")
        grid = self.grid_on(service_id, day)
        quotient = household.quotient_on(day)
        key = (grid.id, category, quotient, sibling_rank, surcharge)
        found = self._quotes.get(key)
        if found is None:
            priced = self._priced.get(grid.id)
            if priced is None:
                priced = self._priced[grid.id] = {}
            found = grid._quote(category, quotient, sibling_rank, surcharge, priced)
            self._quotes[key] = found
        return found

    def quote_days(
        self,
        *,
        service_id: str,
        days: Iterable[date],
        category: TariffCategory | str,
        household: Household,
        sibling_rank: int = 1,
        surcharge: SurchargeReason | None = None,
    ) -> list[tuple[PriceQuote, list[date]]]:
        """:meth:`quote` for many days: the days, in order, grouped by their quote.

        The grid and the household's QF only change on a few dates (a grid's or a quotient's
        first day, the day after its last), so one quote is looked up per stretch of days
        between two such dates instead of one per day. Same results and errors as calling
        :meth:`quote` for each day (in order).
        """
        if not isinstance(household, Household):
            raise InvalidInputError("expected a Household", path="household")
        ordered = sorted(days)
        grid_edges = self._edges.get(service_id)
        if grid_edges is None:
            grid_edges = self._edges[service_id] = frozenset(
                edge
                for grid in self.grids
                if grid.service_id == service_id
                for edge in (
                    grid.valid_from,
                    None if grid.valid_until is None else grid.valid_until + _ONE_DAY,
                )
                if edge is not None
            )
        if not ordered:
            return []
        first, last = ordered[0], ordered[-1]
        cuts = [edge for edge in grid_edges if first < edge <= last]
        for quotient in household.quotients:
            if first < quotient.valid_from <= last:
                cuts.append(quotient.valid_from)
            if quotient.valid_until is not None and first < quotient.valid_until + _ONE_DAY <= last:
                cuts.append(quotient.valid_until + _ONE_DAY)
        if cuts:
            cuts = sorted(set(cuts))

        def quote_on(day: date) -> PriceQuote:
            return self.quote(
                service_id=service_id,
                day=day,
                category=category,
                household=household,
                sibling_rank=sibling_rank,
                surcharge=surcharge,
            )

        if not cuts:  # nothing changes within the days (the usual month): one quote
            return [(quote_on(first), ordered)]
        # Quotes come from the book's cache: equal quotes within one call are one object.
        groups: dict[int, tuple[PriceQuote, list[date]]] = {}
        current: list[date] = []
        index, following = 0, None
        for position, day in enumerate(ordered):
            if position == 0 or (following is not None and day >= following):
                while index < len(cuts) and cuts[index] <= day:
                    index += 1
                following = cuts[index] if index < len(cuts) else None
                quote = quote_on(day)
                current = groups.setdefault(id(quote), (quote, []))[1]
            current.append(day)
        return list(groups.values())


_ONE_DAY = timedelta(days=1)
