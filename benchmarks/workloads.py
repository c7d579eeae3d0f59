"""The workloads, each timed next to its baseline on the same data (see docs/performance.md).

Every workload goes through the code users get: the storage adapters' repositories and the
domain functions (the application services where a use case exists). Sizes: ``FULL`` for
people measuring, ``QUICK`` (tiny) for CI, where targets are not checked.
"""

from __future__ import annotations

import bisect
import statistics
import time as clock
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from benchmarks.common import (
    backends,
    bare_execute,
    bare_insert,
    chunks,
    city,
    paris,
    postgres_dsn,
    seed_city,
    sql_storage,
)
from benchmarks.harness import Result, Timer, workload
from canteen_adapters.storage.sql import SqlStorage
from canteen_core.actors import Actor
from canteen_core.clock import FixedClock
from canteen_core.headcount import count_day, count_sites
from canteen_core.reservations import ReservationBook, apply_periodicity
from canteen_core.simulation import Population, compare
from canteen_core.synthetic import SyntheticCity
from canteen_core.tariffs import BracketPricing, TariffCategory, TariffGrid

SEPTEMBER = (date(2023, 9, 1), date(2023, 9, 30))
#: Doubling the city may at most double the time, plus 15 %.
SCALING_LIMIT = 2.30


def _verdict(quick: bool, ok: bool) -> bool | None:
    return None if quick else ok


def _scaling(name: str, backend: str, small: float, big: float, quick: bool, size: str) -> Result:
    """A row comparing the full city with half of it: ratio = time(N) / time(N/2)."""
    return Result(
        workload=f"{name} scaling",
        backend=backend,
        seconds=big,
        baseline_seconds=small,
        size=size,
        target=f"ratio <= {SCALING_LIMIT:.2f} (baseline: half city)",
        met=_verdict(quick, big <= SCALING_LIMIT * small),
    )


def _skipped_postgres(name: str, size: str) -> list[Result]:
    if postgres_dsn():
        return []
    return [
        Result(
            workload=name,
            backend="postgresql",
            seconds=0.0,
            baseline_seconds=None,
            size=size,
            notes="skipped: CANTEEN_TEST_POSTGRES_DSN is not set",
        )
    ]


# -- rentrée ---------------------------------------------------------------------------------


def _apply_rentree(storage: SqlStorage, town: SyntheticCity, batch: int = 2_000) -> int:
    """The rentrée: every enrollment applies its full-year periodicity, persisted.

    Staff run it for the whole city (a system actor): books are loaded, changed by the
    reservation engine and saved in batches, in one transaction.
    """
    actor = Actor.system()
    now = FixedClock(paris(date(2023, 8, 28)))
    households = {household.id: household for household in town.households}
    booked = 0
    with storage.unit_of_work() as uow:
        for part in chunks(town.enrollments, batch):
            books = uow.reservations.load_many(e.id for e in part)
            changed: list[tuple[ReservationBook, int]] = []
            for enrollment in part:
                book = books[enrollment.id]
                new_book, result = apply_periodicity(
                    book,
                    town.periodicities[enrollment.id],
                    enrollment=enrollment,
                    household=households[enrollment.household_id],
                    actor=actor,
                    clock=now,
                )
                booked += len(result.booked)
                changed.append((new_book, book.version))
            uow.reservations.save_many(changed)
        uow.commit()
    return booked


def _rentree_rows(town: SyntheticCity) -> list[tuple[str, str]]:
    return [
        (enrollment.child_id, day.isoformat())
        for enrollment in town.enrollments
        for day in town.booked_days(enrollment)
    ]


def _time_rentree(backend: str, town: SyntheticCity) -> tuple[float, float, int]:
    with sql_storage(backend) as (storage, bare):
        seed_city(storage, town)
        timer = Timer()
        with timer():
            booked = _apply_rentree(storage, town)
        bare_execute(backend, bare, "CREATE TABLE bare_days (child_id TEXT, day DATE)")
        rows = _rentree_rows(town)
        if backend == "postgresql":
            rows = [(child, date.fromisoformat(day)) for child, day in rows]  # type: ignore[misc]
        baseline = Timer()
        with baseline():
            bare_insert(backend, bare, "bare_days", rows)
        assert booked == len(rows), (booked, len(rows))
        return timer.seconds, baseline.seconds, booked


@workload("rentree")
def rentree(quick: bool) -> list[Result]:
    """30,000 children apply a full-year periodicity; baseline: executemany of the rows."""
    households = 100 if quick else 15_000
    town = city(households)
    size = f"{town.children} children"
    results: list[Result] = []
    for backend in backends():
        seconds, baseline, booked = _time_rentree(backend, town)
        results.append(
            Result(
                workload="rentree",
                backend=backend,
                seconds=seconds,
                baseline_seconds=baseline,
                size=f"{size}, {booked} days",
                target="<= 1.5x baseline",
                met=_verdict(quick, seconds <= 1.5 * baseline),
            )
        )
    half = city(households // 2)
    small, _, _ = _time_rentree("sqlite", half)
    results.append(_scaling("rentree", "sqlite", small, results[0].seconds, quick, size))
    return results + _skipped_postgres("rentree", size)


# -- headcount -------------------------------------------------------------------------------


def _headcount_month(storage: SqlStorage, town: SyntheticCity, start: date, end: date) -> int:
    meals = 0
    with storage.unit_of_work(read_only=True) as uow:
        for site in town.sites:
            for count in uow.reservations.headcount(site.id, start, end):
                meals += count.total
    return meals


def _site_days(storage: SqlStorage, town: SyntheticCity, days: list[date]) -> list[float]:
    timings: list[float] = []
    with storage.unit_of_work(read_only=True) as uow:
        for index, day in enumerate(days):
            site = town.sites[index % len(town.sites)]
            started = clock.perf_counter()
            uow.reservations.headcount(site.id, day, day)
            timings.append(clock.perf_counter() - started)
    return timings


def _seed_books(storage: SqlStorage, town: SyntheticCity) -> None:
    """Store each enrollment's year of reservations (setup through ``save_many``)."""
    with storage.unit_of_work() as uow:
        for part in chunks(town.enrollments, 2_000):
            books = [
                (ReservationBook.from_days(e.id, e.start, town.booked_days(e), version=1), 0)
                for e in part
            ]
            uow.reservations.save_many(books)
        uow.commit()


@workload("headcount")
def headcount(quick: bool) -> list[Result]:
    """Meals by site and diet for every open day of September, the whole city."""
    households = 100 if quick else 15_000
    town = city(households)
    start, end = SEPTEMBER
    open_days = town.calendar.open_days(start, end)
    size = f"{town.children} children, {len(town.sites)} sites, {len(open_days)} days"
    children = town.children_by_id
    results: list[Result] = []
    for backend in backends():
        with sql_storage(backend) as (storage, bare):
            seed_city(storage, town)
            _seed_books(storage, town)
            _headcount_month(storage, town, start, end)  # warm the caches, as a kitchen would
            timer = Timer()
            with timer():
                meals = _headcount_month(storage, town, start, end)
            site_day = statistics.median(_site_days(storage, town, list(open_days) * 3))
            bare_execute(
                backend,
                bare,
                "CREATE TABLE bare_meals (child_id TEXT, day DATE, site_id TEXT, diet TEXT, "
                "pai BOOLEAN)",
            )
            rows: list[tuple[Any, ...]] = [
                (
                    e.child_id,
                    day,
                    e.site.id,
                    children[e.child_id].diet.value,
                    children[e.child_id].pai,
                )
                for e in town.enrollments
                for day in town.booked_days(e)
            ]
            if backend == "sqlite":
                rows = [(c, d.isoformat(), s, diet, int(p)) for c, d, s, diet, p in rows]
            bare_insert(backend, bare, "bare_meals", rows)
            del rows
            baseline = Timer()
            with baseline():
                grouped = bare_execute(
                    backend,
                    bare,
                    "SELECT site_id, day, diet, pai, count(*) FROM bare_meals "
                    "WHERE day >= ? AND day <= ? GROUP BY site_id, day, diet, pai",
                    (start.isoformat(), end.isoformat()) if backend == "sqlite" else (start, end),
                )
            assert meals == sum(row[4] for row in grouped), (meals, grouped[:3])
        results.append(
            Result(
                workload="headcount month",
                backend=backend,
                seconds=timer.seconds,
                baseline_seconds=baseline.seconds,
                size=size,
                target="< 2 s",
                met=_verdict(quick, timer.seconds < 2.0),
            )
        )
        results.append(
            Result(
                workload="headcount site-day",
                backend=backend,
                seconds=site_day,
                baseline_seconds=None,
                size=f"median of {3 * len(open_days)}",
                target="< 0.020 s",
                met=_verdict(quick, site_day < 0.020),
            )
        )
    results.extend(_core_headcount(town, quick))
    return results + _skipped_postgres("headcount month", size)


def _core_headcount(town: SyntheticCity, quick: bool) -> list[Result]:
    """The in-memory counters of :mod:`canteen_core.headcount` (books already loaded)."""
    children = town.children_by_id
    books = [
        (
            e.site.id,
            children[e.child_id].diet,
            children[e.child_id].pai,
            ReservationBook.from_days(e.id, e.start, town.booked_days(e)),
        )
        for e in town.enrollments
    ]
    day = town.calendar.open_days(*SEPTEMBER)[10]
    school_id = town.sites[0].id
    school = [(diet, pai, book) for site, diet, pai, book in books if site == school_id]
    one = min(_timed(lambda: count_day(school, day, site_id=school_id)) for _ in range(5))
    whole = min(_timed(lambda: count_sites(books, day)) for _ in range(3))
    expected = sum(book.is_booked(day) for *_, book in books)
    assert sum(count.total for count in count_sites(books, day).values()) == expected
    return [
        Result(
            workload="headcount site-day",
            backend="core (memory)",
            seconds=one,
            baseline_seconds=None,
            size=f"{len(school)} children",
            target="< 0.020 s",
            met=_verdict(quick, one < 0.020),
        ),
        Result(
            workload="headcount city-day",
            backend="core (memory)",
            seconds=whole,
            baseline_seconds=None,
            size=f"{len(books)} children, {len(town.sites)} sites",
            target="< 0.5 s",
            met=_verdict(quick, whole < 0.5),
        ),
    ]


def _timed(action: Callable[[], Any]) -> float:
    started = clock.perf_counter()
    action()
    return clock.perf_counter() - started


# -- simulation ------------------------------------------------------------------------------

_BASE_PRICES = (("1.50", 0), ("2.50", 501), ("3.50", 1001), ("4.50", 1501))
_CANDIDATE_PRICES = (("1.00", 0), ("2.00", 451), ("3.10", 801), ("3.90", 1201), ("4.80", 1801))


def _grid(grid_id: str, prices: tuple[tuple[str, int], ...]) -> TariffGrid:
    pricing = BracketPricing.from_thresholds(
        [price for price, _ in prices], [start for _, start in prices[1:]]
    )
    return TariffGrid(
        id=grid_id,
        service_id="rs",
        valid_from=date(2023, 9, 1),
        prices={TariffCategory.RESIDENT_CHILD: pricing},
    )


def _plain_costs(
    population: Population, prices: tuple[tuple[str, int], ...], months: int
) -> list[Decimal]:
    """The baseline: each household's yearly cost in a plain loop (same Decimal arithmetic)."""
    starts = [Decimal(start) for _, start in prices]
    amounts = [Decimal(price) for price, _ in prices]
    cent = Decimal("0.01")
    factor = Decimal(months)
    costs = []
    for qf, kids, meals in zip(
        population.quotients, population.children, population.meals_per_month, strict=True
    ):
        unit = amounts[-1] if qf is None else amounts[bisect.bisect_right(starts, qf) - 1]
        costs.append((unit * kids * meals * factor).quantize(cent, rounding=ROUND_HALF_UP))
    return costs


@workload("simulation")
def simulation(quick: bool) -> list[Result]:
    """100,000 households, two grids compared; baseline: the same arithmetic in a loop."""
    size = 1_000 if quick else 100_000
    population = Population.synthetic(size, seed=9)
    population = Population(
        ids=population.ids,
        quotients=population.quotients,
        children=population.children,
        meals_per_month=population.meals_per_month,
        resident=(True,) * size,  # the grids price residents only
    )
    base, candidate = _grid("base", _BASE_PRICES), _grid("candidate", _CANDIDATE_PRICES)
    timer = Timer()
    with timer():
        comparison = compare(population, base, candidate)
    baseline = Timer()
    with baseline():
        old = _plain_costs(population, _BASE_PRICES, 10)
        new = _plain_costs(population, _CANDIDATE_PRICES, 10)
        deltas = [b - a for a, b in zip(old, new, strict=True)]
        winners = sum(1 for d in deltas if d < 0)
    assert list(comparison.base.annual_costs) == old
    assert list(comparison.deltas) == deltas
    assert comparison.winners == winners
    half = Population.synthetic(size // 2, seed=9)
    small = Timer()
    with small():
        compare(half, base, candidate)
    label = f"{size} households"
    return [
        Result(
            workload="simulation",
            backend="core (memory)",
            seconds=timer.seconds,
            baseline_seconds=baseline.seconds,
            size=label,
            target="< 1 s",
            met=_verdict(quick, timer.seconds < 1.0),
        ),
        _scaling("simulation", "core (memory)", small.seconds, timer.seconds, quick, label),
    ]


__all__ = ["headcount", "rentree", "simulation"]
