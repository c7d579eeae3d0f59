"""A synthetic city: households, children, sites, enrollments, periodicities and attendance.

For benchmarks, demos (``canteen demo --households N``) and notebooks. Everything is pure and
seeded: the same arguments give the same city, on every machine and Python run (string seeds
are hashed with SHA-512 by :mod:`random`, not with ``hash()``).

The shape is that of a French city:

* 1 to 4 children per household (about 2 on average: 25,000 households have ~50,000 children);
* family quotients log-normal around a median of about 900 EUR/month (most between 400 and
  2,000), about 4 % of households without a QF on file, 8 % non-residents;
* diets: about 80 % standard, 12 % without pork, 8 % vegetarian; about 3 % of children with a
  PAI (packed lunch);
* ``sites`` schools (default one per ~450 children); siblings go to the same school;
* one school-restaurant enrollment per child for the whole school year of ``calendar`` (pass
  ``FranceHolidaySource().school_year(Zone.C, 2023)`` wrapped in a
  :class:`~canteen_core.domain.calendar.ServiceCalendar`: the core never imports an adapter);
* a weekly periodicity per enrollment: mostly the four days every week, some three or two
  days, a few every other week;
* attendance of a month (:meth:`SyntheticCity.attendance`): absences of booked children (some
  justified by a certificate covering the whole absence) and presences without booking. Only
  these exceptions are records: a booked day without a record is a meal taken, as in a
  commune that calls the roll of absentees (``ChargingPolicy(charge_unrecorded=True)``).

Attendance is generated per enrollment from its own seeded stream, so a month of a big city is
streamed, never held in memory.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cached_property

import attrs

from canteen_core.domain._french import ends_before_start_fr, not_positive_fr
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import WeeklyDeadline, wall_clock
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Child, Diet, FamilyQuotient, Guardian, Household
from canteen_core.domain.periodicity import Periodicity, Recurrence
from canteen_core.domain.tariffs import TariffCategory
from canteen_core.simulation import Population

__all__ = ["CONCERTO_ID", "CityProfile", "SyntheticCity", "concerto_household", "synthetic_city"]

_FIRST_NAMES = (
    "Alban", "Arielle", "Basile", "Chloé", "Emma", "Gabriel", "Hugo", "Inès", "Jade", "Léo",
    "Louise", "Lucas", "Manon", "Nathan", "Nour", "Raphaël", "Rose", "Sacha", "Yanis", "Zoé",
)  # fmt: skip
_LAST_NAMES = (
    "Bernard", "Concerto", "Diallo", "Dubois", "Durand", "Fontaine", "Garcia", "Girard",
    "Lambert", "Lefèvre", "Martin", "Moreau", "Nguyen", "Petit", "Richard", "Robert", "Rousseau",
    "Simon", "Thomas", "Vincent",
)  # fmt: skip
#: A payer's first name goes with their civility ("Madame Claire", never "Monsieur Sophie").
_ADULT_NAMES = {
    "Madame": ("Camille", "Claire", "Amina", "Isabelle", "Marie", "Nadia", "Sophie", "Léa"),
    "Monsieur": ("Camille", "David", "Julien", "Karim", "Mehdi", "Nicolas", "Olivier", "Thomas"),
}

#: Weekly patterns families pick (weekdays, recurrence, weight).
_PATTERNS: tuple[tuple[str, Recurrence, float], ...] = (
    ("mon,tue,thu,fri", Recurrence.EVERY_WEEK, 0.70),
    ("mon,tue,thu", Recurrence.EVERY_WEEK, 0.06),
    ("mon,thu,fri", Recurrence.EVERY_WEEK, 0.05),
    ("tue,thu,fri", Recurrence.EVERY_WEEK, 0.04),
    ("mon,tue", Recurrence.EVERY_WEEK, 0.05),
    ("thu,fri", Recurrence.EVERY_WEEK, 0.05),
    ("mon,tue,thu,fri", Recurrence.EVERY_OTHER_WEEK, 0.05),
)


def _probability(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(
            f"must be a probability (0 to 1), got {value!r}", path=attribute.name
        )


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInputError(not_positive_fr(attribute.name, value), path=attribute.name)


@attrs.frozen(kw_only=True)
class CityProfile:
    """The proportions of a synthetic city (defaults: a typical French city).

    ``children_weights`` are the relative frequencies of households with 1, 2, 3, 4 children.
    Attendance probabilities are per booked day (``absence``), per absence run
    (``justified``) and per open day not booked (``unbooked_presence``).
    """

    qf_median: float = attrs.field(default=900.0, validator=_positive)
    qf_sigma: float = attrs.field(default=0.55, validator=_positive)
    no_qf: float = attrs.field(default=0.04, validator=_probability)
    non_resident: float = attrs.field(default=0.08, validator=_probability)
    children_weights: tuple[float, float, float, float] = (0.30, 0.45, 0.20, 0.05)
    no_pork: float = attrs.field(default=0.12, validator=_probability)
    vegetarian: float = attrs.field(default=0.08, validator=_probability)
    pai: float = attrs.field(default=0.03, validator=_probability)
    children_per_site: int = 450
    absence: float = attrs.field(default=0.05, validator=_probability)
    justified: float = attrs.field(default=0.35, validator=_probability)
    unbooked_presence: float = attrs.field(default=0.01, validator=_probability)


def _count(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"must be a non-negative integer, got {value!r}", path=path)
    return value


@attrs.frozen(kw_only=True, eq=False)
class SyntheticCity:
    """A generated city (build it with :func:`synthetic_city`).

    ``periodicities`` maps each enrollment id to the weekly pattern its family applies.
    """

    seed: int
    profile: CityProfile
    calendar: ServiceCalendar
    service: Service
    sites: tuple[Site, ...]
    households: tuple[Household, ...]
    enrollments: tuple[Enrollment, ...]
    periodicities: dict[str, Periodicity]
    _cache: dict[tuple[int, int, date, date], tuple[date, ...]] = attrs.field(
        init=False, factory=dict, repr=False
    )

    @property
    def children(self) -> int:
        """How many children the city has (one enrollment each)."""
        return len(self.enrollments)

    @cached_property
    def children_by_id(self) -> dict[str, Child]:
        """Every child by id."""
        return {child.id: child for household in self.households for child in household.children}

    def booked_days(self, enrollment: Enrollment) -> tuple[date, ...]:
        """The service days the enrollment's periodicity books (closed days left out)."""
        return self._booked(enrollment, enrollment.start, enrollment.end)

    def _booked(self, enrollment: Enrollment, start: date, end: date) -> tuple[date, ...]:
        # Enrollments share their pattern and calendar objects: compute once per combination.
        pattern = self.periodicities[enrollment.id]
        key = (id(pattern), id(enrollment.calendar), start, end)
        found = self._cache.get(key)
        if found is None:
            days = frozenset(pattern.days())
            found = tuple(day for day in enrollment.open_days(start, end) if day in days)
            self._cache[key] = found
        return found

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def attendance(
        self, start: date, end: date
    ) -> Iterator[tuple[AttendanceRecord | AbsenceJustification, ...]]:
        """Attendance exceptions from ``start`` to ``end``, one tuple per enrollment that has some.

        Each tuple holds the enrollment's :class:`AttendanceRecord` values (absences of booked
        days, presences on days not booked) followed by its :class:`AbsenceJustification` values
        (one per justified run of consecutive absences). Days are those the periodicity books
        (the state after :meth:`booked_days` is applied). Streamed: nothing is kept.
        """
        if end < start:
            raise InvalidInputError(ends_before_start_fr("la période", start, end), path="end")
        profile = self.profile
        for enrollment in self.enrollments:
            open_days = enrollment.open_days(start, end)
            if not open_days:
                continue
            booked_days = frozenset(self._booked(enrollment, start, end))
            rng = self._rng("attendance", enrollment.id, start.isoformat())
            items: list[AttendanceRecord | AbsenceJustification] = []
            justifications: list[AbsenceJustification] = []
            run: list[AttendanceRecord] = []
            for day in (*open_days, None):
                booked = day in booked_days
                absent = booked and rng.random() < profile.absence
                if run and not absent:
                    # An absence run ends: a certificate covers it, or not.
                    if rng.random() < profile.justified:
                        note = _justification(enrollment, run[0].day, run[-1].day)
                        justifications.append(note)
                        run = [attrs.evolve(r, justification_id=note.id) for r in run]
                    items.extend(run)
                    run = []
                if day is None:
                    break
                if absent:
                    run.append(_record(enrollment, day, Presence.ABSENT, booked=True))
                elif not booked and rng.random() < profile.unbooked_presence:
                    items.append(_record(enrollment, day, Presence.PRESENT, booked=False))
            if items or justifications:
                yield (*items, *justifications)

    def population(self, *, meals_per_month: int = 14) -> Population:
        """The city as a :class:`~canteen_core.simulation.Population` for tariff simulations.

        Every household's children eat ``meals_per_month`` meals a month.
        """
        meals = Decimal(_count(meals_per_month, "meals_per_month"))
        day = self.calendar.first_day
        return Population(
            ids=tuple(h.id for h in self.households),
            quotients=tuple(h.quotient_on(day) for h in self.households),
            children=tuple(len(h.children) for h in self.households),
            meals_per_month=(meals,) * len(self.households),
            resident=tuple(h.resident for h in self.households),
        )


_STAFF = "synthetic-staff"


def _record(
    enrollment: Enrollment, day: date, presence: Presence, *, booked: bool
) -> AttendanceRecord:
    return AttendanceRecord.of(
        enrollment,
        day,
        presence,
        booked=booked,
        recorded_by=_STAFF,
        recorded_at=wall_clock(day, time(14, 0)),
    )


def _justification(enrollment: Enrollment, first: date, last: date) -> AbsenceJustification:
    return AbsenceJustification(
        id=f"{enrollment.id}/certificat/{first.isoformat()}",
        enrollment_id=enrollment.id,
        child_id=enrollment.child_id,
        first_day=first,
        last_day=last,
        recorded_by=_STAFF,
        recorded_at=wall_clock(last + timedelta(days=1), time(9, 0)),
    )


def _quotient(rng: random.Random, profile: CityProfile) -> Decimal | None:
    if rng.random() < profile.no_qf:
        return None
    value = rng.lognormvariate(math.log(profile.qf_median), profile.qf_sigma)
    return Decimal(min(int(value), 9_999))


def _diet(rng: random.Random, profile: CityProfile) -> Diet:
    draw = rng.random()
    if draw < profile.no_pork:
        return Diet.NO_PORK
    if draw < profile.no_pork + profile.vegetarian:
        return Diet.VEGETARIAN
    return Diet.STANDARD


def _pattern(rng: random.Random) -> tuple[str, Recurrence]:
    weekdays, recurrence, _ = rng.choices(_PATTERNS, weights=[p[2] for p in _PATTERNS])[0]
    return weekdays, recurrence


def synthetic_city(
    households: int,
    *,
    calendar: ServiceCalendar,
    seed: int = 0,
    sites: int | None = None,
    profile: CityProfile | None = None,
    service: Service | None = None,
) -> SyntheticCity:
    """Generate a city of ``households`` households on ``calendar`` (see the module docstring).

    ``sites`` defaults to one school per ``profile.children_per_site`` children (at least one).
    Ids are stable and sortable: ``H000001``, ``H000001-C1`` (child), ``H000001-C1-rs``
    (enrollment), ``S001`` (site).
    """
    count = _count(households, "households")
    if not isinstance(calendar, ServiceCalendar):
        raise InvalidInputError(f"expected a ServiceCalendar, got {calendar!r}", path="calendar")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInputError(f"seed must be an integer, got {seed!r}", path="seed")
    shape = profile or CityProfile()
    rng = random.Random(f"city:{seed}")
    sizes = rng.choices((1, 2, 3, 4), weights=shape.children_weights, k=count)
    site_count = (
        _count(sites, "sites")
        if sites is not None
        else max(1, sum(sizes) // shape.children_per_site)
    )
    if site_count < 1:
        raise InvalidInputError("a city needs at least one site", path="sites")
    zone = calendar.school_year.zone
    school_sites = tuple(
        Site(
            id=f"S{i:03d}",
            name=f"École {_LAST_NAMES[i % len(_LAST_NAMES)]} {i}",
            zone=zone,
            department="75",
        )
        for i in range(1, site_count + 1)
    )
    canteen = service or Service(
        id="rs", name="Restauration scolaire", open_weekdays=calendar.open_weekdays
    )
    policy = WeeklyDeadline(weekday=3, at=time(10, 0))
    first, last = calendar.first_day, calendar.last_day
    # What every enrollment of the city shares: the canteen, all year, booked by Thursday 10:00.
    year_enrollment = functools.partial(
        Enrollment,
        service=canteen,
        calendar=calendar,
        start=first,
        end=last,
        booking_policy=policy,
        cancellation_policy=policy,
    )
    # One value per pattern, shared by the enrollments using it: its days are computed once.
    patterns = {
        (weekdays, recurrence): Periodicity(
            weekdays=weekdays,
            start=first,
            end=last,
            recurrence=recurrence,
            anchor=first if recurrence is Recurrence.EVERY_OTHER_WEEK else None,
        )
        for weekdays, recurrence, _ in _PATTERNS
    }
    result_households: list[Household] = []
    enrollments: list[Enrollment] = []
    periodicities: dict[str, Periodicity] = {}
    for index, size in enumerate(sizes, start=1):
        hid = f"H{index:06d}"
        last_name = rng.choice(_LAST_NAMES)
        # Drawn as before (a name index, then the civility) so the city stays the same.
        name = rng.randrange(len(_ADULT_NAMES["Madame"]))
        civility = rng.choice(("Madame", "Monsieur"))
        payer = Guardian(
            id=f"{hid}-G1",
            first_name=_ADULT_NAMES[civility][name],
            last_name=last_name,
            email=f"{hid.lower()}@example.org",
            civility=civility,
        )
        qf = _quotient(rng, shape)
        resident = rng.random() >= shape.non_resident
        site = school_sites[rng.randrange(site_count)]
        children: list[Child] = []
        for rank in range(1, size + 1):
            child = Child(
                id=f"{hid}-C{rank}",
                first_name=rng.choice(_FIRST_NAMES),
                last_name=last_name,
                birth_date=date(
                    first.year - rng.randint(3, 10), rng.randint(1, 12), rng.randint(1, 28)
                ),
                diet=_diet(rng, shape),
                pai=rng.random() < shape.pai,
            )
            children.append(child)
            if child.pai:
                category = TariffCategory.PAI_BASKET
            elif resident:
                category = TariffCategory.RESIDENT_CHILD
            else:
                category = TariffCategory.NON_RESIDENT_CHILD
            enrollment = year_enrollment(
                id=f"{child.id}-{canteen.id}",
                household_id=hid,
                child_id=child.id,
                site=site,
                tariff_category=category.value,
            )
            enrollments.append(enrollment)
            periodicities[enrollment.id] = patterns[_pattern(rng)]
        quotients = () if qf is None else (FamilyQuotient(value=qf, valid_from=first),)
        result_households.append(
            Household(
                id=hid,
                payer=payer,
                children=tuple(children),
                quotients=quotients,
                resident=resident,
            )
        )
    return SyntheticCity(
        seed=seed,
        profile=shape,
        calendar=calendar,
        service=canteen,
        sites=school_sites,
        households=tuple(result_households),
        enrollments=tuple(enrollments),
        periodicities=periodicities,
    )


#: The seed family's household id.
CONCERTO_ID = "CONCERTO"


def concerto_household() -> Household:
    """The seed's family (the "Espace Restauration" guide): Madame CONCERTO Maman pays, Papa
    is co-representative, three children. The demo's first household and the HTTP API's
    examples."""
    return Household(
        id=CONCERTO_ID,
        payer=Guardian(
            id="concerto-maman",
            first_name="Maman",
            last_name="CONCERTO",
            email="abc@gmail.com",
            civility="Madame",
        ),
        co_representative=Guardian(
            id="concerto-papa", first_name="Papa", last_name="CONCERTO", civility="Monsieur"
        ),
        children=(
            Child(
                id="concerto-alban",
                first_name="Alban",
                last_name="CONCERTO",
                birth_date=date(2014, 5, 12),
            ),
            Child(
                id="concerto-arielle",
                first_name="Arielle",
                last_name="CONCERTO",
                birth_date=date(2018, 2, 3),
                diet=Diet.VEGETARIAN,
            ),
            Child(
                id="concerto-basile",
                first_name="Basile",
                last_name="CONCERTO",
                birth_date=date(2021, 10, 27),
                pai=True,
            ),
        ),
        quotients=(FamilyQuotient(value=Decimal(850), valid_from=date(2023, 1, 1)),),
    )
