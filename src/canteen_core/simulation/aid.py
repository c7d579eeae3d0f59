"""The "cantine à 1 EUR" State aid: which grids are eligible and what the State pays
(:class:`AidRules`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from canteen_core.domain.money import to_decimal
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    Pricing,
    round_cent,
)
from canteen_core.simulation.population import _ZERO


@attrs.frozen(kw_only=True)
class AidEligibility:
    """Whether a grid qualifies for the "cantine à 1 EUR" aid, and why (French reason)."""

    eligible: bool
    reason: str


def _decimal(value: object) -> Decimal:
    return to_decimal(value, path="amount")


@attrs.frozen(kw_only=True)
class AidRules:
    """Parameters of the State "cantine à 1 EUR" aid (tarification sociale des cantines).

    - ``per_meal``: aid per eligible meal (3 EUR since April 2021);
    - ``egalim_bonus`` from ``egalim_bonus_from`` (1 EUR from 1 January 2024) when
      ``egalim_compliant`` (the commune meets the EGAlim objectives);
    - ``price_ceiling``: a meal counts when billed at this price or less (1 EUR);
    - ``max_quotient``: only households with a QF at most this much count (1,000 EUR; a household
      without QF on file never counts);
    - ``min_brackets``: a bracket grid needs at least this many brackets (3), one priced at or
      below the ceiling and one above;
    - ``effort_rate_counts``: whether an effort-rate grid whose minimum is at or below the
      ceiling and whose maximum is above qualifies (it is a progressive tariff too).
    """

    per_meal: Decimal = attrs.field(default=Decimal(3), converter=_decimal)
    egalim_bonus: Decimal = attrs.field(default=Decimal(1), converter=_decimal)
    egalim_bonus_from: date = date(2024, 1, 1)
    egalim_compliant: bool = True
    price_ceiling: Decimal = attrs.field(default=Decimal(1), converter=_decimal)
    max_quotient: Decimal = attrs.field(default=Decimal(1000), converter=_decimal)
    min_brackets: int = 3
    effort_rate_counts: bool = True

    def amount_per_meal(self, on: date) -> Decimal:
        """The aid per eligible meal on ``on``."""
        bonus = self.egalim_compliant and on >= self.egalim_bonus_from
        return self.per_meal + (self.egalim_bonus if bonus else _ZERO)

    def eligibility(self, pricing: Pricing) -> AidEligibility:
        """Whether a category's pricing makes the grid eligible."""
        ceiling = self.price_ceiling
        if isinstance(pricing, BracketPricing):
            prices = [round_cent(b.price.amount) for b in pricing.brackets]
            if len(prices) < self.min_brackets:
                return AidEligibility(
                    eligible=False,
                    reason=f"{len(prices)} tranches : il en faut au moins {self.min_brackets}",
                )
            if not any(p <= ceiling for p in prices):
                return AidEligibility(
                    eligible=False, reason=f"aucune tranche à {ceiling} € ou moins"
                )
            if not any(p > ceiling for p in prices):
                return AidEligibility(
                    eligible=False, reason=f"aucune tranche au-dessus de {ceiling} €"
                )
            return AidEligibility(eligible=True, reason="grille éligible")
        if isinstance(pricing, EffortRatePricing):
            if not self.effort_rate_counts:
                return AidEligibility(eligible=False, reason="taux d'effort non retenu")
            if pricing.minimum.amount <= ceiling < pricing.maximum.amount:
                return AidEligibility(eligible=True, reason="taux d'effort éligible")
            return AidEligibility(
                eligible=False, reason=f"le minimum doit être à {ceiling} € ou moins"
            )
        return AidEligibility(eligible=False, reason="tarif unique : pas de tarification sociale")
