"""Enrollments (inscriptions): a child registered to a service at a site for a period.

An :class:`Enrollment` carries everything the reservation engine needs to judge a change: the
service calendar (which days run, and why the others do not), the booking and cancellation
cut-off policies (they may differ), what happens to a late change (:class:`LateChangeMode`) and
the tariff category billing will use. Create one with :func:`enroll`, which checks the child
belongs to the household (a :class:`~canteen_core.domain.families.Household`, or just its children's
ids: :class:`HouseholdChildren`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar

import attrs

from canteen_core.domain._validators import a_date, non_empty_str
from canteen_core.domain.calendar import Closure, ServiceCalendar
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import CutOffPolicy
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Household

__all__ = ["Enrollment", "HouseholdChildren", "LateChangeMode", "enroll"]


class LateChangeMode(enum.StrEnum):
    """What happens to a family's change after its deadline."""

    REFUSE = "refuse"  # a RuleViolationError naming the deadline (skipped in bulk operations)
    PENDING = "pending"  # a ChangeRequest staff approve or reject ("en attente d'instruction")
    SURCHARGE = "surcharge"  # applied, and marked for a surcharge on the invoice


def _late_mode(value: LateChangeMode | str) -> LateChangeMode:
    try:
        return LateChangeMode(value)
    except ValueError:
        raise InvalidInputError(
            f"unknown late-change mode {value!r}; expected refuse, pending or surcharge",
            path="late_change",
        ) from None


def _policy(_: object, attribute: attrs.Attribute[CutOffPolicy], value: object) -> None:
    if not isinstance(value, CutOffPolicy):
        raise InvalidInputError(f"must be a cut-off policy, got {value!r}", path=attribute.name)


_T = TypeVar("_T")


def _instance_of(kind: type[_T]) -> Callable[[object, attrs.Attribute[_T], _T], None]:
    def check(_: object, attribute: attrs.Attribute[_T], value: _T) -> None:
        if not isinstance(value, kind):
            raise InvalidInputError(
                f"must be a {kind.__name__}, got {type(value).__name__}", path=attribute.name
            )

    return check


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
    service: Service = attrs.field(validator=_instance_of(Service))
    site: Site = attrs.field(validator=_instance_of(Site))
    calendar: ServiceCalendar = attrs.field(validator=_instance_of(ServiceCalendar))
    start: date = attrs.field(validator=a_date)
    end: date = attrs.field(validator=a_date)
    booking_policy: CutOffPolicy = attrs.field(validator=_policy)
    cancellation_policy: CutOffPolicy = attrs.field(validator=_policy)
    late_change: LateChangeMode = attrs.field(default=LateChangeMode.REFUSE, converter=_late_mode)
    tariff_category: str = attrs.field(default="resident", validator=non_empty_str)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(
                f"enrollment ends ({self.end}) before it starts ({self.start})", path="end"
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
    """Enroll a child of ``household``; :class:`NotFoundError` for a child not in it.

    ``cancellation_policy`` defaults to ``booking_policy``.
    """
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
