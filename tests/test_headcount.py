"""Kitchen headcounts by site, day, diet and PAI basket, for a school and a whole city."""

from __future__ import annotations

import random
from datetime import date, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from _calendars import (
    ALBAN,
    ARIELLE,
    BASILE,
    CALENDAR,
    DIRECTORY,
    OTHER,
    OTHER_CHILD,
    SITE,
    enrollment,
)
from canteen_core.domain.calendar import Period
from canteen_core.domain.catalog import Site
from canteen_core.domain.families import Diet
from canteen_core.domain.headcount import (
    count_day,
    count_range,
    count_sites,
    headcount_entries,
    site_headcount,
    site_headcounts,
)
from canteen_core.domain.reservations import ReservationBook

OPEN_DAYS = CALENDAR.open_days()


def _family_books() -> tuple[list, dict[str, ReservationBook]]:
    enrollments = [
        enrollment(child_id=ALBAN.id),
        enrollment(child_id=ARIELLE.id),
        enrollment(child_id=BASILE.id),
        enrollment(child_id=OTHER_CHILD.id, household=OTHER),
    ]
    days = {
        ALBAN.id: [date(2023, 9, 11), date(2023, 9, 12)],
        ARIELLE.id: [date(2023, 9, 11)],
        BASILE.id: [date(2023, 9, 11), date(2023, 9, 12)],
        OTHER_CHILD.id: [date(2023, 9, 11)],
    }
    books = {e.id: ReservationBook.from_days(e.id, e.start, days[e.child_id]) for e in enrollments}
    return enrollments, books


def test_site_day_by_diet_and_pai() -> None:
    enrollments, books = _family_books()
    count = site_headcount(
        SITE.id, date(2023, 9, 11), enrollments=enrollments, books=books, directory=DIRECTORY
    )
    assert count.meals == {Diet.STANDARD: 1, Diet.NO_PORK: 1, Diet.VEGETARIAN: 1}
    assert count.pai_baskets == 1  # Basile brings a packed lunch
    assert count.total_meals == 3
    assert count.total == 4
    assert count.site_id == SITE.id
    tuesday = site_headcount(
        SITE.id, date(2023, 9, 12), enrollments=enrollments, books=books, directory=DIRECTORY
    )
    assert tuesday.meals[Diet.STANDARD] == 1
    assert tuesday.pai_baskets == 1
    other_site = site_headcount(
        "elsewhere", date(2023, 9, 11), enrollments=enrollments, books=books, directory=DIRECTORY
    )
    assert other_site.total == 0


def test_a_strike_day_counts_zero() -> None:
    enrollments, books = _family_books()
    strike = CALENDAR.with_closures(
        Period(name="Grève", first_day=date(2023, 9, 11), last_day=date(2023, 9, 11))
    )
    closed = [attrs.evolve(e, calendar=strike) for e in enrollments]
    count = site_headcount(
        SITE.id, date(2023, 9, 11), enrollments=closed, books=books, directory=DIRECTORY
    )
    assert count.total == 0


def test_site_range_skips_days_closed_after_booking() -> None:
    enrollments, books = _family_books()
    strike = CALENDAR.with_closures(
        Period(name="Grève", first_day=date(2023, 9, 12), last_day=date(2023, 9, 12))
    )
    closed = [attrs.evolve(e, calendar=strike) for e in enrollments]
    days = site_headcounts(
        SITE.id,
        date(2023, 9, 11),
        date(2023, 9, 12),
        enrollments=closed,
        books=books,
        directory=DIRECTORY,
    )
    assert [d.total for d in days] == [4, 0]
    normal = site_headcounts(
        SITE.id,
        date(2023, 9, 11),
        date(2023, 9, 12),
        enrollments=enrollments,
        books=books,
        directory=DIRECTORY,
    )
    assert [d.total for d in normal] == [4, 2]


def test_range_and_many_sites() -> None:
    enrollments, books = _family_books()
    entries = headcount_entries(enrollments, books, DIRECTORY, site_id=SITE.id)
    days = count_range(entries, date(2023, 9, 10), date(2023, 9, 13), site_id=SITE.id)
    assert [d.day for d in days] == [date(2023, 9, 10) + timedelta(days=i) for i in range(4)]
    assert [d.total for d in days] == [0, 4, 2, 0]
    elsewhere = Site(id="jaures", name="École Jaurès", zone="C", department="75")
    moved = [attrs.evolve(enrollments[0], site=elsewhere), *enrollments[1:]]
    sites = count_sites(
        (
            (
                e.site.id,
                DIRECTORY.child(e.child_id).diet,
                DIRECTORY.child(e.child_id).pai,
                books[e.id],
            )
            for e in moved
        ),
        date(2023, 9, 11),
    )
    assert sorted(sites) == ["jaures", "ronde"]
    assert sites["jaures"].total == 1
    assert sites["ronde"].total == 3


books_strategy = st.lists(
    st.tuples(
        st.sampled_from(list(Diet)),
        st.booleans(),
        st.sets(st.sampled_from(OPEN_DAYS[:60]), max_size=30),
        st.sampled_from([OPEN_DAYS[0], OPEN_DAYS[10], OPEN_DAYS[30]]),
    ),
    max_size=30,
)


@given(specs=books_strategy, offset=st.integers(0, 40), length=st.integers(0, 40))
def test_range_counts_agree_with_day_counts(specs: list, offset: int, length: int) -> None:
    entries = []
    for i, (diet, pai, days, origin) in enumerate(specs):
        kept = [day for day in days if day >= origin]
        entries.append((diet, pai, ReservationBook.from_days(f"e{i}", origin, kept)))
    start = OPEN_DAYS[0] + timedelta(days=offset)
    end = start + timedelta(days=length)
    ranged = count_range(entries, start, end)
    for count in ranged:
        single = count_day(entries, count.day)
        assert count == single
        expected = sum(1 for _, _, book in entries if book.is_booked(count.day))
        assert count.total == expected


def test_a_city_counted_at_once_agrees_with_each_school() -> None:
    # Speed is measured by the headcount benchmark (benchmarks/), not asserted here.
    rng = random.Random(7)
    diets = list(Diet)
    city = []
    for i in range(3_000):
        days = [day for day in OPEN_DAYS if rng.random() < 0.8]
        book = ReservationBook.from_days(f"e{i}", OPEN_DAYS[0], days)
        city.append((f"site-{i % 60}", rng.choice(diets), rng.random() < 0.03, book))
    day = OPEN_DAYS[50]
    by_site = count_sites(city, day)
    assert len(by_site) == 60
    for site_id, count in by_site.items():
        school = [(diet, pai, book) for site, diet, pai, book in city if site == site_id]
        assert count == count_day(school, day, site_id=site_id)
    assert sum(c.total for c in by_site.values()) == sum(book.is_booked(day) for *_, book in city)
