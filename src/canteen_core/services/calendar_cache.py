"""The calendars a running canteen shares: school years and service calendars built once,
and one instance per distinct calendar (interning), so the closure tables of a calendar are
built once, not once per loaded enrollment.

:class:`~canteen_core.services.runner.ServiceContext` holds one :class:`CalendarCache` and
answers its ``school_year``, ``calendar``, ``intern_calendar`` and ``intern`` through it.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from canteen_core.domain.calendar import SchoolYear, ServiceCalendar, Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.enrollments import Enrollment

__all__ = ["CalendarCache"]


@attrs.define
class _Caches:
    school_years: dict[tuple[Zone, int, str | None], SchoolYear] = attrs.Factory(dict)
    calendars: dict[tuple[Zone, int, str | None, frozenset[int], str], ServiceCalendar] = (
        attrs.Factory(dict)
    )
    interned: dict[tuple[object, ...], ServiceCalendar] = attrs.Factory(dict)
    #: The shared instances by ``id`` (held, so ids stay theirs): a loaded enrollment that
    #: already carries one is returned without computing its calendar's key.
    shared: dict[int, ServiceCalendar] = attrs.Factory(dict)
    #: Keys whose shared instance was taken from a loaded enrollment (see ``intern``).
    adopted: set[tuple[object, ...]] = attrs.Factory(set)


def _calendar_key(calendar: ServiceCalendar) -> tuple[object, ...]:
    """Every field of a calendar as a flat tuple: equal keys, equal calendars (cheaper to
    hash than the nested attrs values and their mappings)."""
    year = calendar.school_year
    return (
        year.zone,
        year.start_year,
        year.first_day,
        year.last_day,
        year.holidays,
        tuple(year.public_holidays.items()),
        tuple(year.bridge_days.items()),
        calendar.open_weekdays,
        calendar.site_closures,
        calendar.kind,
    )


class CalendarCache:
    """School years, service calendars and shared calendar instances of one context.

    ``load_school_year(zone, start_year, department)`` builds a school year (the holiday
    source's); each is asked once per key.
    """

    def __init__(self, load_school_year: Callable[[Zone, int, str | None], SchoolYear]) -> None:
        self._load_school_year = load_school_year
        self._caches = _Caches()

    def school_year(self, zone: Zone, start_year: int, department: str | None = None) -> SchoolYear:
        """The school year from the holiday source, built once per (zone, year, department)."""
        key = (zone, start_year, department)
        found = self._caches.school_years.get(key)
        if found is None:
            found = self._load_school_year(zone, start_year, department)
            self._caches.school_years[key] = found
        return found

    def calendar(self, site: Site, service: Service, start_year: int) -> ServiceCalendar:
        """The :class:`ServiceCalendar` of ``service`` at ``site`` for a school year (cached)."""
        key = (site.zone, start_year, site.department, service.open_weekdays, service.calendar)
        found = self._caches.calendars.get(key)
        if found is None:
            year = self.school_year(site.zone, start_year, site.department)
            found = ServiceCalendar(
                school_year=year, open_weekdays=service.open_weekdays, kind=service.calendar
            )
            self._caches.calendars[key] = self.intern_calendar(found)
            found = self._caches.calendars[key]
        return found

    def _shared(self, calendar: ServiceCalendar) -> tuple[tuple[object, ...], ServiceCalendar]:
        """The key of ``calendar`` and the shared instance of that key: ``calendar`` itself
        when it is the shared one or the first of its key (then registered as shared)."""
        if self._caches.shared.get(id(calendar)) is calendar:
            return (), calendar
        key = _calendar_key(calendar)
        found = self._caches.interned.get(key)
        if found is None:
            self._caches.interned[key] = calendar
            self._caches.shared[id(calendar)] = calendar
            return key, calendar
        return key, found

    def intern_calendar(self, calendar: ServiceCalendar) -> ServiceCalendar:
        """One shared instance per distinct calendar, so its closure tables (about 5 ms to
        build) are built once, not once per loaded enrollment."""
        return self._shared(calendar)[1]

    def intern(self, enrollment: Enrollment) -> Enrollment:
        """``enrollment`` sharing the context's calendar instance (loaded enrollments each
        carry their own copy; sharing keeps per-day lookups cheap)."""
        calendar = enrollment.calendar
        key, shared = self._shared(calendar)
        if shared is calendar:
            return enrollment
        if key not in self._caches.adopted:
            # The SQL storage hands out one instance per stored calendar (the converter
            # interns them): the first loaded one becomes the shared instance, so the next
            # loads are not copied; calendars built by :meth:`calendar` follow it.
            self._caches.adopted.add(key)
            self._caches.interned[key] = calendar
            self._caches.shared.pop(id(shared), None)
            self._caches.shared[id(calendar)] = calendar
            for cache_key, cached in self._caches.calendars.items():
                if cached is shared:
                    self._caches.calendars[cache_key] = calendar
            return enrollment
        return attrs.evolve(enrollment, calendar=shared)
