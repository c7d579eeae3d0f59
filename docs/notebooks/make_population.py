"""Write ``population.csv``, the sample population of the tariff-simulation notebook.

The households come from canteen's seeded synthetic city (400 households in zone C, school year
2023-2024: log-normal family quotients around 900 EUR/month, a few without QF on file, some
non-residents). Each household's ``meals_per_month`` is what its children's weekly patterns
book over the year, divided by the 10 school months. Same seed, same file, on every machine:
``tests/test_notebook.py`` checks the shipped file is exactly what this script writes.

Run from the repository root: ``python docs/notebooks/make_population.py``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from canteen_adapters.calendars.france import FranceHolidaySource
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.synthetic import synthetic_city

HOUSEHOLDS = 400
SEED = 2023
SCHOOL_MONTHS = 10
TARGET = Path(__file__).with_name("population.csv")


def population_csv() -> str:
    """The CSV text: ``household_id,qf,children,meals_per_month,resident``."""
    calendar = ServiceCalendar(school_year=FranceHolidaySource().school_year("C", SEED))
    city = synthetic_city(HOUSEHOLDS, calendar=calendar, seed=SEED)
    meals_by_household: dict[str, list[int]] = {}
    for enrollment in city.enrollments:
        booked = len(city.booked_days(enrollment))
        meals_by_household.setdefault(enrollment.household_id, []).append(booked)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["household_id", "qf", "children", "meals_per_month", "resident"])
    for household in city.households:
        meals = meals_by_household.get(household.id, [0])
        per_child_month = Decimal(sum(meals)) / len(meals) / SCHOOL_MONTHS
        quotient = household.quotient_on(calendar.first_day)
        writer.writerow(
            [
                household.id,
                "" if quotient is None else f"{quotient:f}",
                len(household.children),
                f"{per_child_month.quantize(Decimal('0.1'))}",
                "oui" if household.resident else "non",
            ]
        )
    return out.getvalue()


if __name__ == "__main__":
    TARGET.write_text(population_csv(), encoding="utf-8")
    print(f"wrote {TARGET}")
