"""Households (foyers), their guardians, children and family quotients.

A :class:`Household` is one family unit. A child belongs to exactly one household; a guardian
(a separated parent) may be linked to several. That cross-household rule cannot be checked by a
single household, so :class:`HouseholdDirectory` holds all households of a deployment (or of a
test) and enforces it: adding a household whose child already belongs elsewhere raises
:class:`~canteen_core.domain.errors.ConflictError`. Both are immutable values; every change returns
a
new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal

import attrs

from canteen_core.domain._french import ends_before_start_fr, format_date_fr
from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import (
    a_date,
    enum_member,
    first_repeated,
    non_empty_str,
    optional_date,
)
from canteen_core.domain.allergens import Allergen, parse_allergens
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.money import to_decimal
from canteen_core.domain.paperless import PaperlessConsent, PostalAddress

__all__ = [
    "Child",
    "Diet",
    "FamilyQuotient",
    "Guardian",
    "Household",
    "HouseholdDirectory",
    "child_taken_error",
]


class Diet(LabelledEnum):
    """What a child eats; the kitchen counts meals per diet. ``label`` is the kitchen's French
    word for it (``"sans porc"``), as pages and ``canteen headcount`` print it."""

    STANDARD = "standard", "standard"
    NO_PORK = "no_pork", "sans porc"
    VEGETARIAN = "vegetarian", "végétarien"


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
            # French and on one line: families read it when they change their address.
            shown = " ".join(self.email.split())[:80]
            raise InvalidInputError(
                f"adresse électronique invalide « {shown} » : écrivez-la comme "
                "prenom.nom@exemple.fr",
                path="email",
            )

    @property
    def display_name(self) -> str:
        """``"Madame CONCERTO Maman"`` as the seed's invoices show the payer."""
        parts = [self.civility, self.last_name.upper(), self.first_name]
        return " ".join(part for part in parts if part)


def _diet(value: object) -> Diet:
    return enum_member(Diet, value, path="diet", what="le régime")


def _allergens(value: object) -> frozenset[Allergen]:
    return parse_allergens(value, path="pai_allergens")  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class Child:
    """A pupil. ``pai`` means a PAI (projet d'accueil individualisé) packed lunch."""

    id: str = attrs.field(validator=non_empty_str)
    first_name: str = attrs.field(validator=non_empty_str)
    last_name: str = attrs.field(validator=non_empty_str)
    birth_date: date = attrs.field(validator=a_date)
    diet: Diet = attrs.field(default=Diet.STANDARD, converter=_diet)
    pai: bool = False
    #: The allergens the child's PAI lists (EU regulation 1169/2011); the kitchen's sheet
    #: flags the child on a day whose menu contains one (:mod:`canteen_core.domain.menus`).
    pai_allergens: frozenset[Allergen] = attrs.field(factory=frozenset, converter=_allergens)

    @property
    def display_name(self) -> str:
        """``"Alban CONCERTO"``."""
        return f"{self.first_name} {self.last_name.upper()}"


def _non_negative(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value < 0:
        raise InvalidInputError(
            f"le quotient familial ne doit pas être négatif (reçu {value})", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class FamilyQuotient:
    """A family quotient (EUR/month) valid from ``valid_from`` to ``valid_until`` (inclusive).

    A change takes effect from its start date, never retroactively.
    """

    value: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    valid_from: date = attrs.field(validator=a_date)
    valid_until: date | None = attrs.field(default=None, validator=optional_date)
    source: str = "CAF"
    #: Why the commune set or ended this quotient, in French, when the family should read it
    #: with its tariff (a quotient carried over, or ended, by a quotient campaign).
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidInputError(
                ends_before_start_fr("le quotient familial", self.valid_from, self.valid_until),
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
        raise InvalidInputError(
            f"l'enfant {first_repeated(ids)} figure deux fois dans le foyer", path="children"
        )


def child_taken_error(child_id: str, household_id: str) -> ConflictError:
    """The :class:`ConflictError` for a child already in household ``household_id`` (a child
    belongs to one household only), in French: directories and storage backends raise it."""
    return ConflictError(
        f"l'enfant {child_id} appartient déjà au foyer {household_id} : "
        "un enfant n'appartient qu'à un seul foyer"
    )


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
    #: Where paper invoices go (printed in the envelope window).
    postal_address: PostalAddress | None = None
    #: Consent to paperless invoices (the PDF by e-mail instead of paper), if ever given.
    paperless: PaperlessConsent | None = None

    @property
    def is_paperless(self) -> bool:
        """Whether invoices go by e-mail (consent given and not withdrawn)."""
        return self.paperless is not None and self.paperless.active

    def __attrs_post_init__(self) -> None:
        if self.co_representative is not None and self.co_representative.id == self.payer.id:
            raise InvalidInputError(
                "le second responsable doit être une autre personne que le payeur",
                path="co_representative",
            )
        for earlier, later in zip(self.quotients, self.quotients[1:], strict=False):
            if earlier.valid_until is None or earlier.valid_until >= later.valid_from:
                raise InvalidInputError(
                    "deux quotients familiaux se chevauchent : celui du "
                    f"{format_date_fr(earlier.valid_from)} et celui du "
                    f"{format_date_fr(later.valid_from)}",
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

    def has_child(self, child_id: str) -> bool:
        """Whether ``child_id`` is a member of this household."""
        return any(child.id == child_id for child in self.children)

    def has_guardian(self, guardian_id: str) -> bool:
        """Whether ``guardian_id`` is the payer or the co-representative."""
        return any(guardian.id == guardian_id for guardian in self.guardians)

    def without_child(self, child_id: str) -> Household:
        """A copy without the child; :class:`NotFoundError` if it is not a member."""
        self.child(child_id)
        return attrs.evolve(self, children=tuple(c for c in self.children if c.id != child_id))

    def with_co_representative(self, guardian: Guardian | None) -> Household:
        """A copy with ``guardian`` as co-representative (``None`` removes it)."""
        return attrs.evolve(self, co_representative=guardian)


def _household_map(items: Mapping[str, Household]) -> Mapping[str, Household]:
    return dict(items)


@attrs.frozen(kw_only=True)
class HouseholdDirectory:
    """Every household of a deployment, with the rules that span households.

    * a child id belongs to one household only (:class:`ConflictError` otherwise);
    * a guardian id may appear in several households (separated parents), and
      :meth:`household_ids_of` gives them, e.g. to build ``Actor.guardian(user, *ids)``.

    Lookups by child and guardian are indexed, so the directory scales to a whole city.
    Build one with :meth:`of`; change it with :meth:`with_household` / :meth:`without_household`.

    >>> directory = HouseholdDirectory.of([household])       # doctest: +SKIP
    >>> directory.household_of_child("alban").id            # doctest: +SKIP
    'H1'
    """

    households: Mapping[str, Household] = attrs.field(factory=dict, converter=_household_map)
    _child_index: dict[str, str] = attrs.field(init=False, repr=False, eq=False)
    _guardian_index: dict[str, frozenset[str]] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        children: dict[str, str] = {}
        guardians: dict[str, set[str]] = {}
        for key, household in self.households.items():
            if key != household.id:
                raise InvalidInputError(
                    f"household stored under {key!r} has id {household.id!r}", path="households"
                )
            for child in household.children:
                other = children.get(child.id)
                if other is not None:
                    raise child_taken_error(child.id, other)
                children[child.id] = household.id
            for guardian in household.guardians:
                guardians.setdefault(guardian.id, set()).add(household.id)
        object.__setattr__(self, "_child_index", children)
        object.__setattr__(
            self, "_guardian_index", {key: frozenset(ids) for key, ids in guardians.items()}
        )

    @classmethod
    def of(cls, households: Iterable[Household]) -> HouseholdDirectory:
        """A directory of ``households``; a duplicated household id is a :class:`ConflictError`."""
        result: dict[str, Household] = {}
        for household in households:
            if household.id in result:
                raise ConflictError(f"le foyer {household.id} figure deux fois")
            result[household.id] = household
        return cls(households=result)

    def __len__(self) -> int:
        return len(self.households)

    def __iter__(self) -> Iterator[Household]:
        return iter(self.households.values())

    def __contains__(self, household_id: object) -> bool:
        return household_id in self.households

    def household(self, household_id: str) -> Household:
        """The household with ``household_id``; :class:`NotFoundError` if unknown."""
        try:
            return self.households[household_id]
        except KeyError:
            raise NotFoundError(f"no household {household_id!r}") from None

    def household_of_child(self, child_id: str) -> Household:
        """The household the child belongs to; :class:`NotFoundError` for an unknown child."""
        household_id = self._child_index.get(child_id)
        if household_id is None:
            raise NotFoundError(f"unknown child {child_id!r}")
        return self.households[household_id]

    def child(self, child_id: str) -> Child:
        """The child with ``child_id`` in whichever household; :class:`NotFoundError` if none."""
        return self.household_of_child(child_id).child(child_id)

    def household_ids_of(self, guardian_id: str) -> frozenset[str]:
        """Ids of the households ``guardian_id`` belongs to (empty if none)."""
        return self._guardian_index.get(guardian_id, frozenset())

    def households_of(self, guardian_id: str) -> tuple[Household, ...]:
        """The households ``guardian_id`` belongs to, ordered by id."""
        return tuple(self.households[key] for key in sorted(self.household_ids_of(guardian_id)))

    def with_household(self, household: Household) -> HouseholdDirectory:
        """A copy with ``household`` added or replaced (same id).

        :class:`ConflictError` if one of its children belongs to another household; the
        directory is unchanged.
        """
        for child in household.children:
            owner = self._child_index.get(child.id)
            if owner is not None and owner != household.id:
                raise child_taken_error(child.id, owner)
        return HouseholdDirectory(households={**self.households, household.id: household})

    def without_household(self, household_id: str) -> HouseholdDirectory:
        """A copy without the household; :class:`NotFoundError` if unknown."""
        self.household(household_id)
        return HouseholdDirectory(
            households={k: v for k, v in self.households.items() if k != household_id}
        )

    def move_child(self, child_id: str, to_household_id: str) -> HouseholdDirectory:
        """A copy where the child left its household for ``to_household_id`` (custody change)."""
        source = self.household_of_child(child_id)
        target = self.household(to_household_id)
        if source.id == target.id:
            return self
        child = source.child(child_id)
        households = dict(self.households)
        households[source.id] = source.without_child(child_id)
        households[target.id] = target.with_child(child)
        return HouseholdDirectory(households=households)
