"""The calendar-data port: where the facts of a school year come from.

A holiday source knows, for a country, the school years it has data for, the holiday zone of
a department, and each school year's facts (first and last class day, school holidays, public
holidays, bridge days) as a :class:`~canteen_core.domain.calendar.SchoolYear`. The built-in
``"france"`` source is a plugin like any other; a deployment picks one with
``[calendar] source = "..."`` and a plugin offers one through the ``canteen_holiday_sources``
hook (:class:`~canteen_core.ports.backends.HolidaySourceBackend`).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from canteen_core.domain.calendar import SchoolYear, Zone

__all__ = ["HolidaySource"]


@runtime_checkable
class HolidaySource(Protocol):
    """What a holiday-source plugin provides.

    Implementations raise :class:`~canteen_core.domain.errors.InvalidInputError` for an unknown
    zone or department and for a year they have no data for (never an empty school year).
    """

    @property
    def name(self) -> str:
        """The name deployments pick the source by (``[calendar] source = "france"``)."""
        ...

    def available_years(self) -> tuple[int, ...]:
        """Starting years of the school years the source knows, in order."""
        ...

    def zone_for_department(self, department: str) -> Zone:
        """The holiday zone of a department (``"77"`` -> ``Zone.C``)."""
        ...

    def school_year(
        self, zone: Zone, start_year: int, *, department: str | None = None
    ) -> SchoolYear:
        """The school year starting in ``start_year`` in ``zone`` (``department`` for local
        public holidays)."""
        ...
