"""One dated price grid of a service (:class:`TariffGrid`) and the quote it gives for a meal
(:class:`PriceQuote`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import attrs

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._validators import a_date, enum_member, non_empty_str, optional_date
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.money import EUR, Money, to_decimal
from canteen_core.domain.tariffs.adjustments import SiblingDiscount, Surcharge, SurchargeReason
from canteen_core.domain.tariffs.pricing import (
    _HUNDRED,
    DEFAULT_DISCOUNTED_CATEGORIES,
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    Pricing,
    TariffCategory,
    round_cent,
)


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


def _prices(
    value: Mapping[TariffCategory, Pricing] | Mapping[str, Pricing],
) -> dict[TariffCategory, Pricing]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            "une table catégorie tarifaire -> tarification est attendue", path="prices"
        )
    result: dict[TariffCategory, Pricing] = {}
    for key, pricing in value.items():
        category = enum_member(TariffCategory, key, path="prices", what="la catégorie tarifaire")
        if not isinstance(pricing, FlatPricing | BracketPricing | EffortRatePricing):
            raise InvalidInputError(
                f"une tarification est attendue, pas {type(pricing).__name__}",
                path=f"prices.{category}",
            )
        result[category] = pricing
    return result


def _categories(items: Iterable[TariffCategory | str]) -> frozenset[TariffCategory]:
    return frozenset(
        enum_member(TariffCategory, item, path="categories", what="la catégorie tarifaire")
        for item in items
    )


def _discounts(items: Iterable[SiblingDiscount]) -> tuple[SiblingDiscount, ...]:
    return tuple(sorted(items, key=lambda d: d.from_rank))


def _optional_surcharge(
    _: object, attribute: attrs.Attribute[Surcharge | None], value: object
) -> None:
    if value is not None and not isinstance(value, Surcharge):
        raise InvalidInputError("une majoration (Surcharge) est attendue", path=attribute.name)


def _optional_fee(_: object, attribute: attrs.Attribute[Money | None], value: object) -> None:
    if value is not None and (not isinstance(value, Money) or value.is_negative):
        raise InvalidInputError("un montant positif ou nul est attendu", path=attribute.name)


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
    #: The fee charged once per day a child is picked up after closing time (an activity's
    #: late pick-up, see ``docs/rules/activities.md``); ``None``: no fee.
    late_pickup_fee: Money | None = attrs.field(default=None, validator=_optional_fee)

    def __attrs_post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidInputError(
                ends_before_start_fr("la grille tarifaire", self.valid_from, self.valid_until),
                path="valid_until",
            )
        missing = sorted(self.required_categories - self.prices.keys())
        if missing:
            raise InvalidInputError(
                f"la grille {self.id} n'a pas de prix pour les catégories utilisées : "
                f"{', '.join(missing)}",
                path="prices",
            )
        if self.late_pickup_fee is not None and self.late_pickup_fee.currency != self.currency:
            raise InvalidInputError(
                f"frais de retard en {self.late_pickup_fee.currency}, grille en {self.currency}",
                path="late_pickup_fee",
            )
        for category, pricing in self.prices.items():
            if pricing.currency != self.currency:
                raise InvalidInputError(
                    f"prix en {pricing.currency}, grille en {self.currency}",
                    path=f"prices.{category}",
                )
        ranks = [d.from_rank for d in self.sibling_discounts]
        if len(ranks) != len(set(ranks)):
            raise InvalidInputError(
                "two sibling discounts start at the same rank", path="sibling_discounts"
            )

    def repriced_categories(self, replacement: TariffGrid) -> frozenset[TariffCategory]:
        """The categories this grid priced that ``replacement`` prices differently (a price,
        a discount, a surcharge, the currency: every category then), or no longer prices.

        A category this grid did not price cannot be on an invoice it priced: adding one
        reprices nothing. What a billing run already invoiced with this grid would be
        charged again at other prices for these categories (:mod:`.regularisation`)."""
        same_rules = (
            self.sibling_discounts,
            self.discounted_categories,
            self.unbooked_surcharge,
            self.late_booking_surcharge,
            self.currency,
            self.late_pickup_fee,
        ) == (
            replacement.sibling_discounts,
            replacement.discounted_categories,
            replacement.unbooked_surcharge,
            replacement.late_booking_surcharge,
            replacement.currency,
            replacement.late_pickup_fee,
        )
        if not same_rules:
            return frozenset(self.prices)
        return frozenset(
            category
            for category, pricing in self.prices.items()
            if replacement.prices.get(category) != pricing
        )

    def late_pickup_quote(self, category: TariffCategory) -> PriceQuote | None:
        """The quote of the late pick-up fee (flat: no quotient, no sibling discount), or
        ``None`` when the grid charges none."""
        fee = self.late_pickup_fee
        if fee is None:
            return None
        return PriceQuote(
            unit_price=fee,
            base_price=fee,
            category=category,
            quotient=None,
            band="forfait",
            grid_id=self.id,
            sibling_rank=1,
            discount_percent=Decimal(0),
            surcharge=None,
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
        cat = enum_member(TariffCategory, category, path="category", what="la catégorie tarifaire")
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
