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

The rooms of this package:

* :mod:`~canteen_core.domain.tariffs.pricing`: the pricing methods (:class:`FlatPricing`,
  :class:`BracketPricing`, :class:`EffortRatePricing`), categories and rounding;
* :mod:`~canteen_core.domain.tariffs.adjustments`: sibling-rank discounts and surcharges;
* :mod:`~canteen_core.domain.tariffs.grid`: one dated grid of a service (:class:`TariffGrid`)
  and its quotes;
* :mod:`~canteen_core.domain.tariffs.book`: the grids of several services (:class:`TariffBook`).

Every name below is importable from ``canteen_core.domain.tariffs`` itself.
"""

from canteen_core.domain.tariffs.adjustments import (
    SiblingDiscount,
    Surcharge,
    SurchargeKind,
    SurchargeReason,
    sibling_ranks,
)
from canteen_core.domain.tariffs.book import TariffBook
from canteen_core.domain.tariffs.grid import PriceQuote, TariffGrid
from canteen_core.domain.tariffs.pricing import (
    DEFAULT_DISCOUNTED_CATEGORIES,
    Bracket,
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    Pricing,
    TariffCategory,
    round_cent,
)

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
