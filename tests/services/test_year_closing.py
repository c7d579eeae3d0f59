"""Closing a school year through the facade (#17): refused before the year's last day and
twice; once closed, no booking, roll call, enrollment or late change on its days, from
families or staff, while its invoices stay payable and the next year books as before; the
households' open invoices and credit are counted as carried (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    RuleViolationError,
)
from canteen_core.domain.money import Money

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    GRID,
    any_billing_canteen,
    any_bworld,
    book,
    september,
)
from ._world import ADMIN, FINANCE, PAYER, SERVICE, SITE, STAFF, World

GRID_2024 = attrs.evolve(GRID, id="rs-2024", valid_from=date(2024, 8, 1), valid_until=None)


def _after(day: date) -> datetime:
    """09:00 in Paris, three days after ``day``."""
    return datetime.combine(day + timedelta(days=3), datetime.min.time(), UTC) + timedelta(hours=7)


def _bill_september(world: World, clock: FixedClock) -> None:
    """Alban books every September day (16 x 3.05 = 48.80), Léa four (4 x 3.15 = 12.60)."""
    book(world.canteen, world.alban, september(world.alban))
    book(world.canteen, world.lea, september(world.lea)[:4])
    clock.set(BILLING_DAY)
    world.canteen.billing.run_postpaid(FINANCE, "2023-09")


def test_a_closed_year_freezes_its_days_and_carries_its_balances(
    any_bworld: World,  # noqa: F811  (the fixture imported above)
    clock: FixedClock,
) -> None:
    canteen = any_bworld.canteen
    alban = any_bworld.alban
    _bill_september(any_bworld, clock)

    # Before the year's last day: families still book its days.
    clock.set(datetime(2024, 6, 20, 8, 0, tzinfo=UTC))
    with pytest.raises(RuleViolationError, match="qu'après son dernier jour"):
        canteen.campaigns.close_year(ADMIN, "2023-2024")
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.close_year(PAYER, 2023)
    assert canteen.campaigns.closed_years(ADMIN) == ()

    clock.set(_after(alban.end))
    closing = canteen.campaigns.close_year(ADMIN, "2023-2024")
    assert closing.id == "2023-2024"
    assert closing.closed_by == "admin"
    assert closing.open_invoices == 2
    assert closing.amount_due == Money.of("61.40")  # 48.80 + 12.60, carried as they stand
    assert closing.credit_held == Money.zero()
    assert "2 factures non réglées (61,40" in closing.summary_fr()
    assert canteen.campaigns.closed_years(ADMIN) == (closing,)
    with pytest.raises(ConflictError, match="déjà clôturée"):
        canteen.campaigns.close_year(ADMIN, 2023)

    # Its days are frozen, for staff as for families; nothing is stored.
    booked = canteen.reservations.booked_days(ADMIN, alban.id)
    june = date(2024, 6, 3)
    with pytest.raises(RuleViolationError, match="2023-2024 est clôturée"):
        canteen.reservations.book(ADMIN, alban.id, june)
    with pytest.raises(RuleViolationError, match="2023-2024 est clôturée"):
        canteen.reservations.cancel(PAYER, alban.id, september(alban)[0])
    with pytest.raises(RuleViolationError, match="2023-2024 est clôturée"):
        canteen.attendance.roll_call(STAFF, june, {alban.id: "present"})
    with pytest.raises(RuleViolationError, match="2023-2024 est clôturée"):
        canteen.enrollments.end_on(ADMIN, alban.id, date(2024, 6, 1))
    assert canteen.reservations.booked_days(ADMIN, alban.id) == booked
    assert canteen.enrollments.get(ADMIN, alban.id).end == alban.end

    # Its invoices stay payable.
    canteen.payments.record_payment(FINANCE, "concerto", "48.80", "cash")
    assert canteen.billing.statement(PAYER, "concerto").balance_due == Money.zero()

    # The next year books as before.
    canteen.billing.save_tariff_grid(ADMIN, GRID_2024)
    next_year = canteen.enrollments.enroll(
        ADMIN,
        "concerto",
        "alban",
        service=SERVICE,
        site=SITE,
        booking_policy=alban.booking_policy,
        school_year=2024,
        enrollment_id="e-alban-2024",
    )
    rentree = next_year.start
    canteen.reservations.book(PAYER, next_year.id, rentree + timedelta(days=14))
    assert canteen.reservations.booked_days(PAYER, next_year.id) == (rentree + timedelta(days=14),)


def test_closing_bad_years_is_refused_and_stores_nothing(
    any_bworld: World,  # noqa: F811  (the fixture imported above)
    clock: FixedClock,
) -> None:
    canteen = any_bworld.canteen
    clock.set(_after(any_bworld.alban.end))
    with pytest.raises(InvalidInputError):
        canteen.campaigns.close_year(ADMIN, "deux mille vingt-trois")
    with pytest.raises(InvalidInputError):
        canteen.campaigns.close_year(ADMIN, True)  # type: ignore[arg-type]
    with pytest.raises(RuleViolationError, match="aucune inscription sur l'année scolaire 2030"):
        canteen.campaigns.close_year(ADMIN, 2030)
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.close_year(STAFF, 2023)
    assert canteen.campaigns.closed_years(ADMIN) == ()
    # Nothing was frozen by the refusals.
    canteen.attendance.roll_call(STAFF, date(2024, 6, 3), {any_bworld.alban.id: "present"})
