"""What a grid adds to the base price: sibling-rank discounts and surcharges for a meal taken
without booking or booked late.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Child
from canteen_core.domain.money import check_cents, to_decimal
from canteen_core.domain.tariffs.pricing import _HUNDRED, _amount, _percentage


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
            raise InvalidInputError("le rang doit être un nombre entier", path="from_rank")
        if self.from_rank < 2:
            raise InvalidInputError(
                f"une réduction fratrie commence au 2e enfant ou après (reçu {self.from_rank})",
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
                f"la majoration ne doit pas être négative (reçu {self.value})", path="value"
            )
        if self.kind is not SurchargeKind.PERCENT:
            check_cents(self.value, path="value")  # an amount in euros, not a percentage

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
