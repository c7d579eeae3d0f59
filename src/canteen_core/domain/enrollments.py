"""Enrollments (inscriptions): a child registered to a service at a site for a period.

An :class:`Enrollment` carries everything the reservation engine needs to judge a change: the
service calendar (which days run, and why the others do not), the booking and cancellation
cut-off policies (they may differ), what happens to a late change (:class:`LateChangeMode`) and
the tariff category billing will use. Create one with :func:`enroll`, which checks the child
belongs to the household (a :class:`~canteen_core.domain.families.Household`, or just its children's
ids: :class:`HouseholdChildren`).

Two rules hold for every enrollment, checked where enrollments are made and changed
(:class:`~canteen_core.services.enrollments.EnrollmentService`):

* a child is enrolled at most once in a service on any day (:func:`check_no_overlap`): two
  overlapping enrollments would bill and count the child twice;
* its tariff category is one the tariff book prices for the service over its period
  (:func:`check_priced`): otherwise the next billing run could not price its days.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

import attrs

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._validators import a_date, enum_member, instance_of, non_empty_str
from canteen_core.domain.calendar import Closure, ServiceCalendar
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import CutOffPolicy
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.tariffs import TariffCategory, TariffGrid

__all__ = [
    "CATEGORY_ALIASES",
    "Enrollment",
    "HouseholdChildren",
    "LateChangeMode",
    "check_no_overlap",
    "check_priced",
    "enroll",
    "grid_category",
]

#: Enrollment tariff categories (short names) -> grid categories; full names are accepted too.
CATEGORY_ALIASES: dict[str, TariffCategory] = {
    "resident": TariffCategory.RESIDENT_CHILD,
    "non_resident": TariffCategory.NON_RESIDENT_CHILD,
    "adult": TariffCategory.ADULT,
    "pai": TariffCategory.PAI_BASKET,
    "occasional": TariffCategory.OCCASIONAL_MEAL,
}


def grid_category(value: str) -> TariffCategory:
    """The grid category of an enrollment category (``"resident"`` -> ``resident_child``;
    full names such as ``"non_resident_child"`` are accepted); :class:`InvalidInputError`
    (French) for anything else, e.g. ``"vip"``."""
    if isinstance(value, str) and value in CATEGORY_ALIASES:
        return CATEGORY_ALIASES[value]
    try:
        return TariffCategory(value)
    except ValueError:
        known = ", ".join(CATEGORY_ALIASES)
        raise InvalidInputError(
            f"catégorie tarifaire inconnue « {value} » (catégories : {known})",
            path="tariff_category",
        ) from None


class LateChangeMode(enum.StrEnum):
    """What happens to a family's change after its deadline."""

    REFUSE = "refuse"  # a RuleViolationError naming the deadline (skipped in bulk operations)
    PENDING = "pending"  # a ChangeRequest staff approve or reject ("en attente d'instruction")
    SURCHARGE = "surcharge"  # applied, and marked for a surcharge on the invoice


def _late_mode(value: LateChangeMode | str) -> LateChangeMode:
    return enum_member(LateChangeMode, value, path="late_change", what="les changements tardifs")


@attrs.frozen(kw_only=True)
class Enrollment:
    """A child's enrollment in ``service`` at ``site`` from ``start`` to ``end`` (inclusive).

    ``calendar`` decides which days the service runs; ``booking_policy`` and
    ``cancellation_policy`` the deadlines for booking and cancelling; ``late_change`` what a late
    change by a family becomes; ``tariff_category`` is read by billing (``"resident"``,
    ``"non_resident"``, ``"adult"``, ``"pai"``...).
    """

    id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    child_id: str = attrs.field(validator=non_empty_str)
    service: Service = attrs.field(validator=instance_of(Service))
    site: Site = attrs.field(validator=instance_of(Site))
    calendar: ServiceCalendar = attrs.field(validator=instance_of(ServiceCalendar))
    start: date = attrs.field(validator=a_date)
    end: date = attrs.field(validator=a_date)
    booking_policy: CutOffPolicy = attrs.field(validator=instance_of(CutOffPolicy))
    cancellation_policy: CutOffPolicy = attrs.field(validator=instance_of(CutOffPolicy))
    late_change: LateChangeMode = attrs.field(default=LateChangeMode.REFUSE, converter=_late_mode)
    tariff_category: str = attrs.field(default="resident", validator=non_empty_str)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(
                ends_before_start_fr("l'inscription", self.start, self.end), path="end"
            )
        extra = self.calendar.open_weekdays - self.service.open_weekdays
        if extra:
            raise InvalidInputError(
                f"the calendar opens on weekdays the service does not serve: {sorted(extra)}",
                path="calendar",
            )

    def covers(self, day: date) -> bool:
        """Whether ``day`` is within the enrollment period."""
        return self.start <= day <= self.end

    def closure(self, day: date) -> Closure | None:
        """Why the service does not run on ``day`` (``None`` if it runs)."""
        return self.calendar.closure(day)

    def is_bookable(self, day: date) -> bool:
        """Within the period and the service runs: the only days a reservation may exist on."""
        return self.start <= day <= self.end and self.calendar.is_open(day)

    def check_runs_on(self, weekdays: Iterable[int]) -> frozenset[int]:
        """``weekdays`` if the service runs on each of them for this enrollment (its
        calendar's open weekdays), else the French :class:`InvalidInputError` of
        :meth:`Service.check_runs_on <canteen_core.domain.catalog.Service.check_runs_on>`
        (path ``weekdays``)."""
        return self.service.check_runs_on(weekdays, open_weekdays=self.calendar.open_weekdays)

    def open_days(self, start: date | None = None, end: date | None = None) -> tuple[date, ...]:
        """Service days of the enrollment between ``start`` and ``end`` (default: all)."""
        lo = self.start if start is None or start < self.start else start
        hi = self.end if end is None or end > self.end else end
        return self.calendar.open_days(lo, hi) if lo <= hi else ()

    @property
    def label_fr(self) -> str:
        """``"Restauration scolaire - École élémentaire Ronde - du 04/09/2023 au 05/07/2024"``."""
        return (
            f"{self.service.name} - {self.site.name} - "
            f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"
        )


def _id_set(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInputError(
            f"expected a collection of child ids, got {type(value).__name__}", path="child_ids"
        )
    return frozenset(value)


@attrs.frozen(kw_only=True)
class HouseholdChildren:
    """What :func:`enroll` checks of a household: its id and its children's ids.

    A bulk enrollment (the rentrée) reads these from storage instead of loading and building
    every household (``HouseholdRepository.child_ids``).
    """

    id: str = attrs.field(validator=non_empty_str)
    child_ids: frozenset[str] = attrs.field(converter=_id_set)


def enroll(
    household: Household | HouseholdChildren,
    child_id: str,
    *,
    id: str,
    service: Service,
    site: Site,
    calendar: ServiceCalendar,
    start: date,
    end: date,
    booking_policy: CutOffPolicy,
    cancellation_policy: CutOffPolicy | None = None,
    late_change: LateChangeMode | str = LateChangeMode.REFUSE,
    tariff_category: str = "resident",
) -> Enrollment:
    """Enroll a child of ``household``; :class:`NotFoundError` for a child not in it,
    :class:`InvalidInputError` for an unknown tariff category (see :func:`grid_category`).

    ``cancellation_policy`` defaults to ``booking_policy``.
    """
    grid_category(tariff_category)
    if isinstance(household, Household):
        household.child(child_id)  # raises NotFoundError for an unknown child
    elif not isinstance(household, HouseholdChildren):
        raise InvalidInputError(
            f"expected a Household, got {type(household).__name__}", path="household"
        )
    elif not isinstance(child_id, str) or child_id not in household.child_ids:
        raise NotFoundError(f"no child {child_id!r} in household {household.id!r}")
    return Enrollment(
        id=id,
        household_id=household.id,
        child_id=child_id,
        service=service,
        site=site,
        calendar=calendar,
        start=start,
        end=end,
        booking_policy=booking_policy,
        cancellation_policy=booking_policy if cancellation_policy is None else cancellation_policy,
        late_change=late_change,
        tariff_category=tariff_category,
    )


def _overlaps(first: Enrollment, second: Enrollment) -> bool:
    return first.start <= second.end and second.start <= first.end


def check_no_overlap(enrollment: Enrollment, others: Iterable[Enrollment]) -> None:
    """Refuse ``enrollment`` if another one of ``others`` (the same id is skipped: a change)
    enrolls the same child in the same service over overlapping days
    (:class:`ConflictError`, French message naming the other enrollment)."""
    for other in others:
        if (
            other.id != enrollment.id
            and other.household_id == enrollment.household_id
            and other.child_id == enrollment.child_id
            and other.service.id == enrollment.service.id
            and _overlaps(enrollment, other)
        ):
            raise ConflictError(
                f"l'enfant {enrollment.child_id} est déjà inscrit au service "
                f"« {other.service.name} » du {other.start:%d/%m/%Y} au {other.end:%d/%m/%Y} "
                f"(inscription {other.id}) : une inscription du {enrollment.start:%d/%m/%Y} au "
                f"{enrollment.end:%d/%m/%Y} le compterait deux fois"
            )


def check_priced(enrollment: Enrollment, grids: Iterable[TariffGrid]) -> None:
    """Refuse ``enrollment`` if a tariff grid of its service in force during its period has
    no price for its category (:class:`InvalidInputError`, French): billing would fail on
    its days. A period no grid covers yet is accepted (the grids may come later; billing
    reports a missing grid)."""
    category = grid_category(enrollment.tariff_category)
    for grid in grids:
        if grid.service_id != enrollment.service.id or category in grid.prices:
            continue
        if grid.valid_from <= enrollment.end and (
            grid.valid_until is None or enrollment.start <= grid.valid_until
        ):
            priced = ", ".join(sorted(c.value for c in grid.prices))
            raise InvalidInputError(
                f"la grille tarifaire {grid.id} du service « {enrollment.service.name} » n'a "
                f"pas de prix pour la catégorie « {enrollment.tariff_category} » "
                f"(catégories tarifées : {priced})",
                path="tariff_category",
            )
