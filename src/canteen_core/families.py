"""Households (foyers), their guardians, children and family quotients."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import attrs

from canteen_core._validators import a_date, non_empty_str, optional_date
from canteen_core.errors import InvalidInputError, NotFoundError
from canteen_core.money import to_decimal

__all__ = ["Child", "Diet", "FamilyQuotient", "Guardian", "Household"]


class Diet(enum.StrEnum):
    """What a child eats; the kitchen counts meals per diet."""

    STANDARD = "standard"
    NO_PORK = "no_pork"
    VEGETARIAN = "vegetarian"


@attrs.frozen(kw_only=True)
class Guardian:
    """An adult of a household with a portal account (payer or co-representative)."""

    id: str = attrs.field(validator=non_empty_str)
    first_name: str = attrs.field(validator=non_empty_str)
    last_name: str = attrs.field(validator=non_empty_str)
    email: str | None = None
    civility: str | None = None  # "Madame", "Monsieur": used in letters

    def __attrs_post_init__(self) -> None:
        if self.email is not None and ("@" not in self.email or self.email != self.email.strip()):
            raise InvalidInputError(f"not an email address: {self.email!r}", path="email")

    @property
    def display_name(self) -> str:
        """``"Madame CONCERTO Maman"`` as the seed's invoices show the payer."""
        parts = [self.civility, self.last_name.upper(), self.first_name]
        return " ".join(part for part in parts if part)


@attrs.frozen(kw_only=True)
class Child:
    """A pupil. ``pai`` means a PAI (projet d'accueil individualisé) packed lunch."""

    id: str = attrs.field(validator=non_empty_str)
    first_name: str = attrs.field(validator=non_empty_str)
    last_name: str = attrs.field(validator=non_empty_str)
    birth_date: date = attrs.field(validator=a_date)
    diet: Diet = attrs.field(default=Diet.STANDARD, converter=Diet)
    pai: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"


def _non_negative(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value < 0:
        raise InvalidInputError(f"must not be negative, got {value}", path=attribute.name)


@attrs.frozen(kw_only=True)
class FamilyQuotient:
    """A family quotient (EUR/month) valid from ``valid_from`` to ``valid_until`` (inclusive).

    A change takes effect from its start date, never retroactively.
    """

    value: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    valid_from: date = attrs.field(validator=a_date)
    valid_until: date | None = attrs.field(default=None, validator=optional_date)
    source: str = "CAF"

    def __attrs_post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidInputError(
                f"family quotient ends ({self.valid_until}) before it starts ({self.valid_from})",
                path="valid_until",
            )

    def covers(self, day: date) -> bool:
        """Whether the quotient is valid on ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


def _unique_children(
    instance: Household, _: attrs.Attribute[tuple[Child, ...]], children: tuple[Child, ...]
) -> None:
    ids = [child.id for child in children]
    if len(ids) != len(set(ids)):
        raise InvalidInputError("a child appears twice in the household", path="children")


def _by_start(items: Iterable[FamilyQuotient]) -> tuple[FamilyQuotient, ...]:
    return tuple(sorted(items, key=lambda quotient: quotient.valid_from))


@attrs.frozen(kw_only=True)
class Household:
    """A family unit (foyer): one payer, maybe a co-representative, children, family quotients."""

    id: str = attrs.field(validator=non_empty_str)
    payer: Guardian
    co_representative: Guardian | None = None
    children: tuple[Child, ...] = attrs.field(default=(), validator=_unique_children)
    quotients: tuple[FamilyQuotient, ...] = attrs.field(default=(), converter=_by_start)
    resident: bool = True  # lives in the commune (resident tariffs)

    def __attrs_post_init__(self) -> None:
        if self.co_representative is not None and self.co_representative.id == self.payer.id:
            raise InvalidInputError(
                "the co-representative must differ from the payer", path="co_representative"
            )
        for earlier, later in zip(self.quotients, self.quotients[1:], strict=False):
            if earlier.valid_until is None or earlier.valid_until >= later.valid_from:
                raise InvalidInputError(
                    f"family quotients overlap: {earlier.valid_from} and {later.valid_from}",
                    path="quotients",
                )

    @property
    def guardians(self) -> tuple[Guardian, ...]:
        """The payer, then the co-representative if any."""
        return (
            (self.payer,)
            if self.co_representative is None
            else (self.payer, self.co_representative)
        )

    def child(self, child_id: str) -> Child:
        """The child with ``child_id``; :class:`NotFoundError` if not in this household."""
        for child in self.children:
            if child.id == child_id:
                return child
        raise NotFoundError(f"no child {child_id!r} in household {self.id!r}")

    def quotient_on(self, day: date) -> Decimal | None:
        """The family quotient valid on ``day``, or ``None`` if none is on file for that day."""
        for quotient in self.quotients:
            if quotient.covers(day):
                return quotient.value
        return None

    def with_child(self, child: Child) -> Household:
        """A copy with ``child`` added (or replaced if the id exists)."""
        others = tuple(c for c in self.children if c.id != child.id)
        return attrs.evolve(self, children=(*others, child))

    def with_quotient(self, quotient: FamilyQuotient) -> Household:
        """A copy where ``quotient`` applies from its start; the one before ends the day before."""
        kept: list[FamilyQuotient] = []
        for existing in self.quotients:
            if existing.valid_from >= quotient.valid_from:
                continue  # superseded from its start: a new QF replaces what was planned after it
            if existing.valid_until is None or existing.valid_until >= quotient.valid_from:
                existing = attrs.evolve(
                    existing, valid_until=quotient.valid_from - timedelta(days=1)
                )
            kept.append(existing)
        return attrs.evolve(self, quotients=(*kept, quotient))
