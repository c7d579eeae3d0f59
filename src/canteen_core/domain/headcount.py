"""Kitchen headcounts: how many meals to cook per site and day, by diet, and PAI baskets.

The caterer cooks from reservations. A child with a PAI (projet d'accueil individualisé) brings
a packed lunch: it is counted as a basket, not as a meal of its diet.

Counting works on plain triples ``(diet, pai, book)`` so it scales to a whole city: one bit test
per enrollment for a day, one pass over the set bits of a window for a range, aggregated with a
:class:`collections.Counter`; no per-day objects are created for unbooked days. The service
layer decides who may see counts (staff) and which enrollments to pass (one site, one service);
:func:`site_headcount` does that selection from enrollments, books and the household directory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import NotRequired, TypedDict, Unpack

import attrs

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Diet, HouseholdDirectory
from canteen_core.domain.reservations import ReservationBook

__all__ = [
    "HeadcountSources",
    "KitchenCount",
    "count_day",
    "count_range",
    "count_sites",
    "headcount_entries",
    "site_headcount",
    "site_headcounts",
    "without_counts",
]

HeadcountEntry = tuple[Diet, bool, ReservationBook]


def _counts(meals: Mapping[Diet, int]) -> Mapping[Diet, int]:
    # Every diet present (zero included) so a caterer's sheet has stable columns.
    return {diet: int(meals.get(diet, 0)) for diet in Diet}


@attrs.frozen(kw_only=True)
class KitchenCount:
    """Meals to cook on ``day`` (by diet, PAI excluded) and PAI baskets expected."""

    day: date
    site_id: str | None = None
    meals: Mapping[Diet, int] = attrs.field(factory=dict, converter=_counts)
    pai_baskets: int = 0

    @property
    def total_meals(self) -> int:
        """Meals the kitchen cooks."""
        return sum(self.meals.values())

    @property
    def total(self) -> int:
        """Children expected at the table (meals + baskets)."""
        return self.total_meals + self.pai_baskets


def _build(day: date, site_id: str | None, counter: Counter[tuple[Diet, bool]]) -> KitchenCount:
    meals = {diet: counter[(diet, False)] for diet in Diet}
    baskets = sum(count for (_, pai), count in counter.items() if pai)
    return KitchenCount(day=day, site_id=site_id, meals=meals, pai_baskets=baskets)


def count_day(
    entries: Iterable[HeadcountEntry], day: date, *, site_id: str | None = None
) -> KitchenCount:
    """Count the entries booked on ``day``: ``entries`` are ``(diet, pai, book)`` triples."""
    target = day.toordinal()
    counter: Counter[tuple[Diet, bool]] = Counter()
    for diet, pai, book in entries:
        offset = target - book.origin.toordinal()
        if offset >= 0 and (book.bits >> offset) & 1:
            counter[(diet, pai)] += 1
    return _build(day, site_id, counter)


def count_range(
    entries: Iterable[HeadcountEntry], start: date, end: date, *, site_id: str | None = None
) -> tuple[KitchenCount, ...]:
    """One :class:`KitchenCount` per calendar day from ``start`` to ``end`` (zeros included)."""
    if end < start:
        raise InvalidInputError(ends_before_start_fr("la période", start, end), path="end")
    first, last = start.toordinal(), end.toordinal()
    counter: Counter[tuple[int, Diet, bool]] = Counter()
    for diet, pai, book in entries:
        origin = book.origin.toordinal()
        lo, hi = first - origin, last - origin
        if hi < 0:
            continue
        bits = book.bits >> max(lo, 0)
        bits &= (1 << (hi - max(lo, 0) + 1)) - 1
        base = origin + max(lo, 0)
        while bits:
            low = bits & -bits
            counter[(base + low.bit_length() - 1, diet, pai)] += 1
            bits ^= low
    per_day: dict[int, Counter[tuple[Diet, bool]]] = {}
    for (ordinal, diet, pai), count in counter.items():
        per_day.setdefault(ordinal, Counter())[(diet, pai)] = count
    return tuple(
        _build(start + timedelta(days=i), site_id, per_day.get(first + i, Counter()))
        for i in range(last - first + 1)
    )


def count_sites(
    entries: Iterable[tuple[str, Diet, bool, ReservationBook]], day: date
) -> dict[str, KitchenCount]:
    """Counts for many sites at once: ``entries`` are ``(site_id, diet, pai, book)``."""
    target = day.toordinal()
    counters: dict[str, Counter[tuple[Diet, bool]]] = {}
    for site_id, diet, pai, book in entries:
        counter = counters.setdefault(site_id, Counter())
        offset = target - book.origin.toordinal()
        if offset >= 0 and (book.bits >> offset) & 1:
            counter[(diet, pai)] += 1
    return {site: _build(day, site, counter) for site, counter in sorted(counters.items())}


def headcount_entries(
    enrollments: Iterable[Enrollment],
    books: Mapping[str, ReservationBook],
    directory: HouseholdDirectory,
    *,
    site_id: str | None = None,
    service_id: str | None = None,
) -> list[HeadcountEntry]:
    """``(diet, pai, book)`` for the enrollments of a site / service that have a book.

    The child's diet and PAI flag come from ``directory`` (:class:`NotFoundError` for an
    enrollment whose child is unknown).
    """
    result: list[HeadcountEntry] = []
    for enrollment in enrollments:
        if site_id is not None and enrollment.site.id != site_id:
            continue
        if service_id is not None and enrollment.service.id != service_id:
            continue
        book = books.get(enrollment.id)
        if book is None:
            continue
        child = directory.child(enrollment.child_id)
        result.append((child.diet, child.pai, book))
    return result


class HeadcountSources(TypedDict):
    """What :func:`site_headcount` and :func:`site_headcounts` count from: the enrollments (of
    any site), their books by enrollment id, the directory giving each child's diet and PAI,
    and optionally the one service to count."""

    enrollments: Iterable[Enrollment]
    books: Mapping[str, ReservationBook]
    directory: HouseholdDirectory
    service_id: NotRequired[str | None]


def _site_entries(
    site_id: str, sources: HeadcountSources, *, open_on: date | None = None
) -> tuple[list[Enrollment], list[HeadcountEntry]]:
    """The enrollments of ``site_id`` (those whose service runs on ``open_on``, if given) and
    their headcount entries."""
    selected = [
        enrollment
        for enrollment in sources["enrollments"]
        if enrollment.site.id == site_id and (open_on is None or enrollment.is_bookable(open_on))
    ]
    entries = headcount_entries(
        selected,
        sources["books"],
        sources["directory"],
        site_id=site_id,
        service_id=sources.get("service_id"),
    )
    return selected, entries


def site_headcount(site_id: str, day: date, **sources: Unpack[HeadcountSources]) -> KitchenCount:
    """The count for one site and day; enrollments whose service is closed that day count 0."""
    _, entries = _site_entries(site_id, sources, open_on=day)
    return count_day(entries, day, site_id=site_id)


def site_headcounts(
    site_id: str, start: date, end: date, **sources: Unpack[HeadcountSources]
) -> tuple[KitchenCount, ...]:
    """One count per day from ``start`` to ``end`` for a site (closed days count 0).

    A booked day on which an enrollment's service no longer runs (a strike added after the
    booking) is not counted, as in :func:`site_headcount`.
    """
    selected, site_entries = _site_entries(site_id, sources)
    entries: list[HeadcountEntry] = []
    by_id = {enrollment.id: enrollment for enrollment in selected}
    for diet, pai, book in site_entries:
        enrollment = by_id[book.enrollment_id]
        closed = [day for day in book.booked_days(start, end) if not enrollment.is_bookable(day)]
        if closed:
            book = book._changed(book=0, cancel=_day_mask(book, closed), late=0)
        entries.append((diet, pai, book))
    return count_range(entries, start, end, site_id=site_id)


def _day_mask(book: ReservationBook, days: Iterable[date]) -> int:
    base = book.origin.toordinal()
    mask = 0
    for day in days:
        mask |= 1 << (day.toordinal() - base)
    return mask


def without_counts(
    counts: Sequence[KitchenCount], removed: Sequence[KitchenCount]
) -> tuple[KitchenCount, ...]:
    """``counts`` less ``removed`` (the same sites and days, in the same order): the meals of
    every activity less those of activities without a meal (evening care)."""
    return tuple(
        attrs.evolve(
            count,
            meals={diet: number - less.meals.get(diet, 0) for diet, number in count.meals.items()},
            pai_baskets=count.pai_baskets - less.pai_baskets,
        )
        for count, less in zip(counts, removed, strict=True)
    )
