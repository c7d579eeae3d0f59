"""Activities beyond lunch through the facade (issue #18): a child booked, attended and billed
for evening care by the half-hour, for Wednesday by the half-day with meal and for a week of
ALSH during the February holidays in zone C, each on its own invoice line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from io import BytesIO
from pathlib import Path

import attrs
import pytest
from pypdf import PdfReader

from canteen_adapters.documents.pdf import render_invoice_pdf
from canteen_core.config.deployment import BillingMode
from canteen_core.domain.catalog import Service
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    TariffCategory,
    TariffGrid,
)
from canteen_core.services import Canteen
from canteen_core.synthetic_activities import ALSH as HOLIDAY_CENTRE
from canteen_core.synthetic_activities import EVENING_CARE
from canteen_core.synthetic_activities import WEDNESDAY as WEDNESDAY_SERVICE

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    any_billing_canteen,
    any_bworld,
    make_billing_canteen,
    priced_world,
)
from ._world import ADMIN, FINANCE, PAYER, SITE, STAFF, WEEKLY, World
from .conftest import ISSUER, EventRecorder

EVENING = EVENING_CARE
WEDNESDAY = WEDNESDAY_SERVICE
ALSH = attrs.evolve(HOLIDAY_CENTRE, name="ALSH vacances d'hiver")
_YEAR = {"valid_from": date(2023, 8, 1), "valid_until": date(2024, 7, 31)}
GRIDS = (
    TariffGrid(
        id="soir-2023",
        service_id="soir",
        **_YEAR,
        prices={  # 0.1 % of the QF per half-hour
            TariffCategory.RESIDENT_CHILD: EffortRatePricing.of(
                "0.1", minimum="0.40", maximum="1.20"
            )
        },
        late_pickup_fee=Money.of("5.00"),
    ),
    TariffGrid(
        id="mercredi-2023",
        service_id="mercredi",
        **_YEAR,
        prices={
            TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
                ["4.00", "5.00", "6.00", "7.00"], [500, 800, 1200]
            )
        },
    ),
    TariffGrid(
        id="alsh-2023",
        service_id="alsh",
        **_YEAR,
        prices={
            TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
                ["40.00", "55.00", "70.00", "85.00"], [500, 800, 1200]
            )
        },
    ),
)
D = date


def _enroll(canteen: Canteen) -> None:
    for service in (EVENING, WEDNESDAY, ALSH):
        canteen.catalog.add_service(ADMIN, service)
        canteen.enrollments.enroll(
            ADMIN,
            "concerto",
            "alban",
            service=service,
            site=SITE,
            booking_policy=WEEKLY,
            school_year=2023,
            enrollment_id=f"alban-{service.id}",
        )
    for grid in GRIDS:
        canteen.billing.save_tariff_grid(ADMIN, grid)


@pytest.fixture
def activities(any_bworld: World) -> World:  # noqa: F811  (the imported fixture)
    """The seed's priced world with Alban enrolled in the three activities, on each backend."""
    _enroll(any_bworld.canteen)
    return any_bworld


def _at(clock: FixedClock, day: date, hour: int = 20) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour - 2, 0, tzinfo=UTC))


def test_evening_wednesday_and_alsh_are_booked_attended_and_billed(
    activities: World, clock: FixedClock
) -> None:
    canteen = activities.canteen
    reservations = canteen.reservations
    for day in (D(2023, 9, 11), D(2023, 9, 12), D(2023, 9, 14)):
        reservations.book(PAYER, "alban-soir", day)
    for day in (D(2023, 9, 13), D(2023, 9, 20)):
        reservations.book(PAYER, "alban-mercredi", day)
    # A holiday centre books the school holidays: the week of Monday 12 February 2024.
    reservations.tick_week(PAYER, "alban-alsh", D(2024, 2, 12))
    grid = canteen.reservations.week_grid(PAYER, "alban-alsh", D(2024, 2, 12))
    assert grid.activity.startswith("ALSH vacances d'hiver, à la semaine")
    assert all(cell.booked for cell in grid.cells())

    _at(clock, D(2023, 9, 20))
    attendance = canteen.attendance
    attendance.record(STAFF, "alban-soir", D(2023, 9, 11), "present", arrival=time(16, 30),
                      departure=time(18, 30))  # fmt: skip
    attendance.record(STAFF, "alban-soir", D(2023, 9, 12), "present", arrival=time(16, 35),
                      departure=time(18, 34))  # fmt: skip
    attendance.record(STAFF, "alban-soir", D(2023, 9, 14), "present", arrival=time(16, 45),
                      departure=time(19, 0))  # fmt: skip
    for day in (D(2023, 9, 13), D(2023, 9, 20)):
        attendance.record(STAFF, "alban-mercredi", day, "present")
    record = canteen.attendance.records(STAFF, start=D(2023, 9, 11), end=D(2023, 9, 11))
    assert [(r.arrival, r.departure) for r in record if r.enrollment_id == "alban-soir"] == [
        (time(16, 30), time(18, 30))
    ]

    _at(clock, D(2023, 10, 2), 9)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09", household_ids=["concerto"])
    invoice = canteen.billing.invoice(FINANCE, report.issued[0].invoice_id).invoice
    lines = {(line.service_id, line.unit): line for line in invoice.lines}
    # 4 + 4 (1 h 59 with 5 minutes' tolerance) + 5 (2 h 15) half-hours at 0.61 (QF 612.50).
    evening = lines[("soir", "half_hour")]
    assert evening.quantity == 13
    assert evening.unit_price == Money.of("0.61")
    assert evening.days == (D(2023, 9, 11), D(2023, 9, 12), D(2023, 9, 14))
    assert evening.description.startswith("Accueil du soir : 6 h 30 – présence")
    half_days = lines[("mercredi", "half_day")]
    assert (half_days.quantity, half_days.unit_price) == (2, Money.of("5.00"))
    assert half_days.description.startswith("Accueil du mercredi : 2 demi-journées")
    meals = lines[("mercredi", "meal")]
    assert (meals.quantity, meals.unit_price, meals.grid_id) == (2, Money.of("3.05"), "rs-2023")
    assert meals.description.startswith("Accueil du mercredi : 2 repas")
    # Picked up at 19:00 on the 14th, past 18:30 and the 10 minutes' grace: one late fee.
    late = lines[("soir", "late_pickup")]
    assert (late.quantity, late.amount, late.days) == (1, Money.of("5.00"), (D(2023, 9, 14),))
    assert late.description == "Accueil du soir : 1 retard à la sortie (forfait)"
    assert invoice.total == Money.of("7.93") + Money.of("10.00") + Money.of("6.10") + late.amount

    # The PDF names each activity and its unit.
    pdf = render_invoice_pdf(invoice, household=canteen.families.get(ADMIN, "concerto"),
                             issuer=ISSUER)  # fmt: skip
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages).split())
    for expected in ("Accueil du soir : 6 h 30", "Accueil du mercredi : 2 demi-journées",
                     "Accueil du mercredi : 2 repas", "1 retard à la sortie"):  # fmt: skip
        assert expected in text

    _at(clock, D(2024, 2, 16))
    for day in (D(2024, 2, 12), D(2024, 2, 13), D(2024, 2, 14), D(2024, 2, 15), D(2024, 2, 16)):
        attendance.record(STAFF, "alban-alsh", day, "present")
    _at(clock, D(2024, 3, 1), 9)
    february = canteen.billing.run_postpaid(FINANCE, "2024-02", household_ids=["concerto"])
    week = canteen.billing.invoice(FINANCE, february.issued[0].invoice_id).invoice
    (line,) = week.lines
    assert (line.unit, line.quantity, line.unit_price) == ("week", 1, Money.of("55.00"))
    assert line.description.startswith("ALSH vacances d'hiver : semaine du 12/02")
    assert len(line.days) == 5


def test_activity_calendars_open_their_own_days(activities: World) -> None:
    canteen = activities.canteen
    saturday = Service(id="samedi", name="Samedi sportif", calendar="saturdays", meal=False)
    canteen.catalog.add_service(ADMIN, saturday)
    canteen.enrollments.enroll(
        ADMIN, "concerto", "zoe", service=saturday, site=SITE, booking_policy=WEEKLY,
        school_year=2023, enrollment_id="zoe-samedi",
    )  # fmt: skip
    canteen.reservations.book(PAYER, "zoe-samedi", D(2023, 9, 16))
    # The holiday centre does not run on class days, the Wednesday service on Mondays.
    with pytest.raises(RuleViolationError):
        canteen.reservations.book(PAYER, "alban-alsh", D(2023, 9, 11))
    with pytest.raises(RuleViolationError):
        canteen.reservations.book(PAYER, "alban-mercredi", D(2023, 9, 11))


def test_attendance_times_are_checked_and_nothing_is_stored(
    activities: World, clock: FixedClock
) -> None:
    canteen = activities.canteen
    canteen.reservations.book(PAYER, "alban-soir", D(2023, 9, 11))
    _at(clock, D(2023, 9, 11))
    with pytest.raises(InvalidInputError):
        canteen.attendance.record(
            STAFF, "alban-soir", D(2023, 9, 11), "present", arrival=time(18, 0),
            departure=time(17, 0),
        )  # fmt: skip
    with pytest.raises(InvalidInputError):
        canteen.attendance.record(
            STAFF, "alban-soir", D(2023, 9, 11), "absent", arrival=time(16, 30),
            departure=time(17, 0),
        )  # fmt: skip
    with pytest.raises(InvalidInputError):
        canteen.attendance.record(STAFF, "alban-soir", D(2023, 9, 11), "present",
                                  arrival=time(16, 30))  # fmt: skip
    assert canteen.attendance.records(STAFF, start=D(2023, 9, 11), end=D(2023, 9, 11)) == ()


def test_kitchen_counts_meals_only(activities: World) -> None:
    canteen = activities.canteen
    canteen.reservations.book(PAYER, "alban-soir", D(2023, 9, 11))
    canteen.reservations.book(PAYER, "e-zoe", D(2023, 9, 11))
    canteen.reservations.book(PAYER, "alban-mercredi", D(2023, 9, 13))
    monday = canteen.kitchen.headcount(STAFF, "ronde", D(2023, 9, 11))
    wednesday = canteen.kitchen.headcount(STAFF, "ronde", D(2023, 9, 13))
    assert monday.total == 1  # Zoé's basket; Alban's evening care has no meal
    assert wednesday.total_meals == 1


def test_a_prepaid_basket_holds_lunch_only(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = make_billing_canteen(
        "memory", request, tmp_path, clock, recorder, mode=BillingMode.PREPAID
    )
    with canteen:
        priced_world(canteen)
        _enroll(canteen)
        canteen.reservations.book(PAYER, "e-alban", D(2023, 9, 11))
        canteen.reservations.book(PAYER, "alban-soir", D(2023, 9, 11))
        invoice = canteen.billing.invoice_basket(PAYER, "concerto", "2023-09")
        assert invoice is not None
        # Activities are billed post-paid from attendance: the basket bills the meal only.
        assert [(line.service_id, line.quantity) for line in invoice.lines] == [("rs", 1)]
