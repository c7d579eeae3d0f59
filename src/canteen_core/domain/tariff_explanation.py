"""Tariffs explained to families: the commune's grid as a table, and why a price applies.

Nothing here prices a meal: the price comes from a
:class:`~canteen_core.domain.tariffs.PriceQuote` made by the tariff book the billing run uses
(:meth:`~canteen_core.domain.tariffs.TariffBook.quote`). This module only says, in French,
what the quote and the household tell: the category and why (a household living outside the
commune pays the non-resident price), the family quotient's bracket and its bounds (or why the
highest bracket applies: no quotient on file, or one that expired), the effort rate and its
clamps, the sibling discount or why there is none, and the grid in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from canteen_core.domain.families import Child, Household
from canteen_core.domain.money import Money, format_number_fr
from canteen_core.domain.tariffs import (
    Bracket,
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    PriceQuote,
    Pricing,
    TariffCategory,
    TariffGrid,
)

__all__ = [
    "CATEGORY_FR",
    "GridBand",
    "GridTable",
    "PriceExplanation",
    "explain_price",
    "grid_table",
]

#: How each tariff category is named to families.
CATEGORY_FR: dict[TariffCategory, str] = {
    TariffCategory.RESIDENT_CHILD: "enfant résident",
    TariffCategory.NON_RESIDENT_CHILD: "enfant non résident",
    TariffCategory.ADULT: "adulte",
    TariffCategory.PAI_BASKET: "panier repas (PAI)",
    TariffCategory.OCCASIONAL_MEAL: "repas occasionnel",
}


def _qf(value: Decimal) -> str:
    return f"{format_number_fr(value)} €"


def _day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def _rank(rank: int) -> str:
    return "1er" if rank == 1 else f"{rank}e"


def bracket_bounds_fr(bracket: Bracket) -> str:
    """``"QF de 700 € à moins de 1 000 €"``, ``"QF de 1 500 € et plus"``."""
    if bracket.qf_to is None:
        return f"QF de {_qf(bracket.qf_from)} et plus"
    if bracket.qf_from == 0:
        return f"QF inférieur à {_qf(bracket.qf_to)}"
    return f"QF de {_qf(bracket.qf_from)} à moins de {_qf(bracket.qf_to)}"


@attrs.frozen(kw_only=True)
class GridBand:
    """One price of a grid's row: ``bounds`` in French (``"QF inférieur à 450 €"``)."""

    bounds: str
    price: Money


@attrs.frozen(kw_only=True)
class GridTable:
    """A tariff grid as a family reads it: one row of bands per category, and its rules."""

    grid_id: str
    service_id: str
    service_name: str
    valid_from: date
    valid_until: date | None
    rows: tuple[tuple[str, tuple[GridBand, ...]], ...]
    rules: tuple[str, ...]
    #: What one price buys: ``"repas"`` (lunch), ``"demi-heure"``, ``"semaine"``...
    unit_fr: str = "repas"

    @property
    def period_fr(self) -> str:
        """``"du 01/09/2023 au 31/08/2024"`` (or ``"à partir du ..."``)."""
        if self.valid_until is None:
            return f"à partir du {_day(self.valid_from)}"
        return f"du {_day(self.valid_from)} au {_day(self.valid_until)}"


def _bands(pricing: Pricing) -> tuple[GridBand, ...]:
    if isinstance(pricing, BracketPricing):
        bands = [GridBand(bounds=bracket_bounds_fr(b), price=b.price) for b in pricing.brackets]
        if pricing.no_quotient_price is not None:
            bands.append(GridBand(bounds="sans quotient familial", price=pricing.no_quotient_price))
        return tuple(bands)
    if isinstance(pricing, EffortRatePricing):
        rate = format_number_fr(pricing.rate_percent)
        return (
            GridBand(bounds="minimum", price=pricing.minimum),
            GridBand(bounds=f"taux d'effort {rate} % du QF, au plus", price=pricing.maximum),
        )
    return (GridBand(bounds="prix unique", price=pricing.price),)


def grid_table(grid: TariffGrid, *, service_name: str, unit_fr: str = "repas") -> GridTable:
    """``grid`` as a table of French rows, with its sibling discounts and surcharges;
    ``unit_fr`` is what one price buys (see :attr:`GridTable.unit_fr`)."""
    rows = tuple(
        (CATEGORY_FR[category], _bands(grid.prices[category]))
        for category in TariffCategory
        if category in grid.prices
    )
    rules: list[str] = []
    for discount in grid.sibling_discounts:
        rules.append(
            f"Réduction fratrie : -{format_number_fr(discount.percent)} % à partir du "
            f"{_rank(discount.from_rank)} enfant inscrit"
        )
    for pricing in grid.prices.values():
        if (
            isinstance(pricing, BracketPricing | EffortRatePricing)
            and pricing.no_quotient_price is None
        ):
            rules.append("Sans quotient familial valide, le tarif le plus élevé s'applique")
            break
    if grid.unbooked_surcharge is not None:
        rules.append("Repas pris sans réservation : tarif majoré")
    if grid.late_booking_surcharge is not None:
        rules.append("Réservation tardive acceptée : tarif majoré")
    return GridTable(
        grid_id=grid.id,
        service_id=grid.service_id,
        service_name=service_name,
        valid_from=grid.valid_from,
        valid_until=grid.valid_until,
        rows=rows,
        rules=tuple(rules),
        unit_fr=unit_fr,
    )


@attrs.frozen(kw_only=True)
class PriceExplanation:
    """The price of one meal for a child on ``day`` and the reasons, in French."""

    child_id: str
    child_name: str
    enrollment_id: str
    service_name: str
    day: date
    quote: PriceQuote
    reasons: tuple[str, ...]

    @property
    def price(self) -> Money:
        """The unit price, as billing charges it."""
        return self.quote.unit_price

    @property
    def sentence_fr(self) -> str:
        """``"Votre tarif : 3,10 € par repas, car ..."``."""
        return (
            f"Votre tarif : {self.price.format_fr()} par repas, car "
            + " ; ".join(self.reasons)
            + "."
        )


def _quotient_reason(pricing: Pricing, quote: PriceQuote, household: Household, day: date) -> str:
    if isinstance(pricing, FlatPricing):
        return "cette catégorie a un prix unique, quel que soit le quotient familial"
    if quote.quotient is None:
        ended = max(
            (q for q in household.quotients if q.valid_until is not None and q.valid_until < day),
            key=lambda q: q.valid_from,
            default=None,
        )
        why = (
            f"votre quotient familial a expiré le {_day(ended.valid_until)}"
            + (f" ({ended.note})" if ended.note else "")
            if ended is not None and ended.valid_until is not None
            else "aucun quotient familial n'est enregistré pour votre foyer"
        )
        if pricing.no_quotient_price is not None:
            return f"{why} : le prix sans quotient familial s'applique"
        if isinstance(pricing, EffortRatePricing):
            return f"{why} : le prix maximum s'applique"
        return f"{why} : la tranche la plus haute s'applique"
    quotient = _qf(quote.quotient)
    note = next((q.note for q in household.quotients if q.covers(day) and q.note), None)
    if note:
        quotient = f"{quotient} ({note})"
    if isinstance(pricing, BracketPricing):
        index = pricing.bracket_index(quote.quotient)
        bracket = pricing.brackets[index or 0]
        return (
            f"votre quotient familial au {_day(day)} est de {quotient} : "
            f"tranche « {bracket_bounds_fr(bracket)} »"
        )
    rate = format_number_fr(pricing.rate_percent)
    text = f"votre quotient familial au {_day(day)} est de {quotient}, taux d'effort {rate} %"
    if quote.band == "minimum":
        return f"{text}, relevé au prix minimum"
    if quote.band == "maximum":
        return f"{text}, limité au prix maximum"
    return text


def explain_price(
    quote: PriceQuote,
    *,
    grid: TariffGrid,
    household: Household,
    child: Child,
    enrollment_id: str,
    service_name: str,
    day: date,
    enrolled_category: TariffCategory,
) -> PriceExplanation:
    """Why ``quote`` (made by the tariff book for ``child`` on ``day``) is the price.

    ``enrolled_category`` is the category of the enrollment before the household's residence
    is taken into account (a resident child category turns non-resident when the household
    lives outside the commune).
    """
    name = child.first_name
    category = CATEGORY_FR[quote.category]
    if quote.category is not enrolled_category and not household.resident:
        reasons = [f"votre foyer n'habite pas la commune : tarif « {category} »"]
    else:
        reasons = [f"{name} est inscrit(e) au tarif « {category} »"]
    reasons.append(_quotient_reason(grid.pricing(quote.category), quote, household, day))
    if quote.discount_percent:
        reasons.append(
            f"{name} est le {_rank(quote.sibling_rank)} enfant inscrit de la fratrie : "
            f"réduction de {format_number_fr(quote.discount_percent)} %"
        )
    elif grid.sibling_discounts and quote.category in grid.discounted_categories:
        first = grid.sibling_discounts[0].from_rank
        reasons.append(
            f"{name} est le {_rank(quote.sibling_rank)} enfant inscrit de la fratrie : "
            f"pas de réduction (à partir du {_rank(first)} enfant)"
        )
    reasons.append(f"grille « {grid.id} » en vigueur {_period(grid)}")
    return PriceExplanation(
        child_id=child.id,
        child_name=child.display_name,
        enrollment_id=enrollment_id,
        service_name=service_name,
        day=day,
        quote=quote,
        reasons=tuple(reasons),
    )


def _period(grid: TariffGrid) -> str:
    if grid.valid_until is None:
        return f"depuis le {_day(grid.valid_from)}"
    return f"du {_day(grid.valid_from)} au {_day(grid.valid_until)}"


def grids_in(grids: Iterable[TariffGrid], first: date, last: date) -> list[TariffGrid]:
    """The grids in force at some point from ``first`` to ``last``, by service and start."""
    return sorted(
        (
            g
            for g in grids
            if g.valid_from <= last and (g.valid_until is None or first <= g.valid_until)
        ),
        key=lambda g: (g.service_id, g.valid_from),
    )
