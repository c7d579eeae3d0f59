"""The input of the charging rules: what happened on each day (:class:`DayFacts`) or over a period
(:class:`PeriodFacts`), the rules that apply (:class:`ChargeRule`) and the commune's choices
(:class:`ChargingPolicy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import a_date, enum_member, non_empty_str, non_negative_int
from canteen_core.domain.activities import Unit
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.tariffs import (
    TariffCategory,
)


class ChargeRule(LabelledEnum):
    """The rule that decided whether a day is charged (kept on every invoice line); ``label``
    (or ``label_fr``) is the French wording printed on invoices."""

    PRESENT = "present", "repas pris"
    BOOKED_NOT_RECORDED = "booked_not_recorded", "repas réservés"
    ABSENT_UNJUSTIFIED = "absent_unjustified", "absence non justifiée"
    JUSTIFIED_ABSENCE_CARENCE = "justified_absence_carence", "absence justifiée (jour de carence)"
    JUSTIFIED_ABSENCE = "justified_absence", "absence justifiée"
    UNBOOKED_PRESENT = "unbooked_present", "repas pris sans réservation"
    CLOSED_BY_ORGANISER = "closed_by_organiser", "fermeture du service"
    LATE_CANCELLATION = "late_cancellation", "annulation hors délai"
    NOT_BOOKED = "not_booked", "non réservé"
    # Prepaid mode: the validated booking itself is billed.
    PREPAID_BOOKING = "prepaid_booking", "repas réservés"
    # An activity's child picked up after closing time.
    LATE_PICKUP = "late_pickup", "retard à la sortie"


def _category(value: TariffCategory | str) -> TariffCategory:
    return enum_member(TariffCategory, value, path="category", what="la catégorie tarifaire")


def _flag(_: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"must be True or False, got {value!r}", path=attribute.name)


def _optional_flag(_: object, attribute: attrs.Attribute[bool | None], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError(
            f"must be True, False or None (not recorded), got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class _Subject:
    """Whose facts these are: the child, household, enrollment, service and tariff category
    (the first fields of :class:`DayFacts` and :class:`PeriodFacts`)."""

    child_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    category: TariffCategory = attrs.field(
        default=TariffCategory.RESIDENT_CHILD, converter=_category
    )

    def subject(self) -> dict[str, Any]:
        """These fields by name (to build other facts of the same subject)."""
        return {field.name: getattr(self, field.name) for field in attrs.fields(_Subject)}


@attrs.frozen(kw_only=True)
class DayFacts(_Subject):
    """What happened for one child's enrollment on one day: the input of billing.

    ``present`` is ``None`` when attendance was not recorded. ``absence_justified`` only makes
    sense for a booked day the child missed; ``late_cancellation`` for a day no longer booked;
    ``late_booking`` for a booked day. Inconsistent combinations are refused.
    """

    day: date = attrs.field(validator=a_date)
    booked: bool = attrs.field(validator=_flag)
    present: bool | None = attrs.field(default=None, validator=_optional_flag)
    absence_justified: bool = attrs.field(default=False, validator=_flag)
    closed_by_organiser: bool = attrs.field(default=False, validator=_flag)
    late_booking: bool = attrs.field(default=False, validator=_flag)
    late_cancellation: bool = attrs.field(default=False, validator=_flag)

    def __attrs_post_init__(self) -> None:
        if self.absence_justified and not (self.booked and self.present is False):
            raise InvalidInputError(
                "a justified absence needs a booked day the child missed (present=False)",
                path="absence_justified",
            )
        if self.late_booking and not self.booked:
            raise InvalidInputError("a late booking must be booked", path="late_booking")
        if self.late_cancellation and self.booked:
            raise InvalidInputError(
                "a late cancellation cannot still be booked", path="late_cancellation"
            )

    @property
    def key(self) -> tuple[str, str, date]:
        """``(enrollment_id, child_id, day)``: at most one record per key."""
        return (self.enrollment_id, self.child_id, self.day)


_NO_DAYS: frozenset[date] = frozenset()


def _day_set(value: Iterable[date]) -> frozenset[date]:
    if type(value) is frozenset:
        return value
    return frozenset(value) if value else _NO_DAYS


def _optional_unit(value: Unit | str | None) -> Unit | None:
    return None if value is None else enum_member(Unit, value, path="unit", what="l'unité")


def _quantities(value: Iterable[tuple[date, int]]) -> tuple[tuple[date, int], ...]:
    items = tuple(sorted(dict(value).items()))
    for day, count in items:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInputError(f"must be dates, got {day!r}", path="quantities")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInputError(f"must be positive integers, got {count!r}", path="quantities")
    return items


@attrs.frozen(kw_only=True)
class PeriodFacts(_Subject):
    """What happened for one child's enrollment over a period: :class:`DayFacts` in bulk.

    One set of days per kind of fact instead of one object per day (a month of a city is
    tens of thousands of days, most of them alike). ``booked``: booked service days;
    ``closed``: booked days the organiser closed the service (strike, works); ``present`` /
    ``absent``: recorded attendance; ``justified``: booked days missed with a justification
    (recorded absent or not recorded); ``late_booked``: booked days booked after the deadline;
    ``late_cancelled``: days no longer booked, cancelled after the deadline. :meth:`day_facts`
    gives the equivalent :class:`DayFacts`; inconsistent sets are refused like those.
    """

    booked: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    closed: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    present: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    absent: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    justified: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    late_booked: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    late_cancelled: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    #: The activity's unit (``None``: a lunch, billed by the day as it always was); see
    #: ``docs/rules/activities.md``.
    unit: Unit | None = attrs.field(default=None, converter=_optional_unit)
    #: Units of each day for a timed unit (days left out count one).
    quantities: tuple[tuple[date, int], ...] = attrs.field(default=(), converter=_quantities)
    #: The service whose tariff grid prices these facts (the meal of an activity with meal,
    #: priced by the lunch grid); ``None``: the facts' own service.
    tariff_service_id: str | None = None
    #: Present days the child was picked up after closing time (charged the grid's
    #: ``late_pickup_fee`` each).
    late_pickups: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)

    def __attrs_post_init__(self) -> None:
        if not self.late_pickups <= self.present:
            raise InvalidInputError(
                "a late pick-up is a day the child was present", path="late_pickups"
            )
        if self.tariff_service_id is not None and (
            not isinstance(self.tariff_service_id, str) or not self.tariff_service_id
        ):
            raise InvalidInputError("must be a service id", path="tariff_service_id")
        for name in ("booked", "closed", "present", "absent", "late_cancelled"):
            for day in getattr(self, name):
                if type(day) is not date and (
                    not isinstance(day, date) or isinstance(day, datetime)
                ):
                    raise InvalidInputError(f"must be dates, got {day!r}", path=name)
        if self.present & self.absent:
            raise InvalidInputError("a day cannot be both present and absent", path="present")
        if not self.justified <= self.booked - self.present:
            raise InvalidInputError(
                "a justified absence needs a booked day the child missed", path="justified"
            )
        if not self.late_booked <= self.booked:
            raise InvalidInputError("a late booking must be booked", path="late_booked")
        if self.late_cancelled & self.booked:
            raise InvalidInputError(
                "a late cancellation cannot still be booked", path="late_cancelled"
            )
        if self.closed & (self.booked | self.present | self.absent | self.late_cancelled):
            raise InvalidInputError(
                "a day closed by the organiser has no other fact", path="closed"
            )

    def days(self) -> list[date]:
        """Every day with a fact, in order."""
        return sorted(self.booked | self.closed | self.present | self.absent | self.late_cancelled)

    def _day(self, day: date) -> dict[str, Any]:
        """The facts of ``day`` as :class:`DayFacts` keyword arguments (flags only)."""
        if day in self.closed:
            return {"booked": True, "closed_by_organiser": True}
        justified = day in self.justified
        present = (
            True if day in self.present else (False if justified or day in self.absent else None)
        )
        return {
            "booked": day in self.booked,
            "present": present,
            "absence_justified": justified,
            "late_booking": day in self.late_booked,
            "late_cancellation": day in self.late_cancelled,
        }

    def day_facts(self) -> list[DayFacts]:
        """The same facts, one :class:`DayFacts` per day, in day order."""
        subject = self.subject()
        return [DayFacts(**subject, day=day, **self._day(day)) for day in self.days()]


@attrs.frozen(kw_only=True)
class ChargingPolicy:
    """Per-enrollment charging choices.

    ``carence_days``: charged first days of each justified-absence run (0 = never charged).
    ``charge_late_cancellation``: whether a cancellation after the deadline is still charged.
    ``charge_unrecorded``: whether a booked day with no attendance record is charged as booked.
    """

    carence_days: int = attrs.field(default=1, validator=non_negative_int)
    charge_late_cancellation: bool = attrs.field(default=True, validator=_flag)
    charge_unrecorded: bool = attrs.field(default=True, validator=_flag)
