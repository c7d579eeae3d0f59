# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""The post-paid run on every backend reads the days before the period only for a run of
justified absences still open: the carence is charged once across months."""

from __future__ import annotations

from datetime import UTC, date, datetime

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.money import Money

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    attend,
    book,
    justify,
    september,
)
from ._world import FINANCE, World

D = date


def test_an_illness_spanning_two_months_pays_one_carence_day_on_every_backend(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    alban = any_bworld.alban
    days = [*september(alban), *alban.open_days(D(2023, 10, 1), D(2023, 10, 31))]
    book(canteen, alban, days)
    ill = {D(2023, 9, 28), D(2023, 9, 29), D(2023, 10, 2), D(2023, 10, 3), D(2023, 10, 5)}
    attend(canteen, alban, {day: "absent" if day in ill else "present" for day in days})
    justify(canteen, alban, D(2023, 9, 28), D(2023, 10, 5))
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09", household_ids=["concerto"])
    clock.set(datetime(2023, 11, 2, 8, 0, tzinfo=UTC))
    october = canteen.billing.run_postpaid(FINANCE, "2023-10", household_ids=["concerto"])
    invoice = canteen.billing.invoice(FINANCE, october.issued[0].invoice_id).invoice
    assert {str(line.rule) for line in invoice.lines} == {"present"}
    october_days = len(alban.open_days(D(2023, 10, 1), D(2023, 10, 31)))
    assert invoice.total == Money.of("3.05") * (october_days - 3)


def test_a_day_present_before_the_period_ends_the_run_on_every_backend(
    any_bworld: World, clock: FixedClock
) -> None:
    # A certificate from 25 September to 5 October, but Alban came back on the 29th: the
    # October absences start a new run, whose first day is a carence day.
    canteen = any_bworld.canteen
    alban = any_bworld.alban
    days = [*september(alban), *alban.open_days(D(2023, 10, 1), D(2023, 10, 31))]
    book(canteen, alban, days)
    ill = {D(2023, 9, 25), D(2023, 9, 26), D(2023, 9, 28), D(2023, 10, 2), D(2023, 10, 3)}
    attend(canteen, alban, {day: "absent" if day in ill else "present" for day in days})
    justify(canteen, alban, D(2023, 9, 25), D(2023, 10, 5))
    clock.set(datetime(2023, 11, 2, 8, 0, tzinfo=UTC))
    october = canteen.billing.run_postpaid(FINANCE, "2023-10", household_ids=["concerto"])
    invoice = canteen.billing.invoice(FINANCE, october.issued[0].invoice_id).invoice
    carence = [line.days for line in invoice.lines if str(line.rule) == "justified_absence_carence"]
    assert carence == [(D(2023, 10, 2),)]
