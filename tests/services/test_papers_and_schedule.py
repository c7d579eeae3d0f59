# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
""" "Mes prélèvements" (the debit schedule), documents on request and the online payment's
state, through the facade on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.config.deployment import Deployment, IssuerSettings, StorageSettings
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError, NotFoundError
from canteen_core.domain.mandates import is_target2_business_day
from canteen_core.domain.money import Money
from canteen_core.services.documents import ATTENDANCE_CERTIFICATE, PAYMENT_CERTIFICATE, STATEMENT
from canteen_core.services.payments.debit_schedule import earliest_collection_date

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    FAMILY_IBAN,
    any_billing_canteen,
    any_bworld,
    book,
    september,
    shared_backend,
)
from ._world import ADMIN, FINANCE, OTHER, PAYER, World

D = date


def _bill_september(world: World, clock: FixedClock) -> str:
    canteen = world.canteen
    book(canteen, world.alban, september(world.alban))
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    return next(i.invoice_id for i in report.issued if i.household_id == "concerto")


def test_the_schedule_from_forecast_to_return(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    mandate = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    invoice_id = _bill_september(any_bworld, clock)  # 2 October, due later
    invoice = canteen.billing.invoice(PAYER, invoice_id).invoice
    schedule = canteen.payments.debit_schedule(PAYER, "concerto")
    assert schedule.today == BILLING_DAY.date()
    (entry,) = schedule.mandates
    assert entry.mandate.reference == mandate.reference
    (forecast,) = entry.upcoming
    assert forecast.invoice_id == invoice_id
    assert forecast.amount == Money.of("48.80")
    assert not forecast.announced
    assert forecast.collection_date >= max(schedule.earliest_collection, invoice.due_date)
    assert is_target2_business_day(forecast.collection_date)
    assert entry.pre_notifications == ()
    assert entry.past == ()
    with pytest.raises(NotAuthorizedError):
        canteen.payments.debit_schedule(OTHER, "concerto")

    canteen.payments.run_direct_debit(FINANCE, D(2023, 10, 20))
    (entry,) = canteen.payments.debit_schedule(PAYER, "concerto").mandates
    (announced,) = entry.upcoming
    assert (announced.invoice_number, announced.collection_date, announced.announced) == (
        invoice.number,
        D(2023, 10, 20),
        True,
    )
    (notice,) = entry.pre_notifications
    assert notice.collection_date == D(2023, 10, 20)
    assert notice.amount == Money.of("48.80")
    assert notice.status == "queued"
    assert len(notice.recipients) == 2  # payer and co-representative

    canteen.accounts.send_outbox(ADMIN)
    clock.set(datetime(2023, 10, 25, 8, 0, tzinfo=UTC))
    canteen.payments.record_debit_returns(FINANCE, [invoice.number], rejected_on=D(2023, 10, 24))
    (entry,) = canteen.payments.debit_schedule(PAYER, "concerto").mandates
    (past,) = entry.past
    assert (past.collection_date, past.returned_on, past.returned) == (
        D(2023, 10, 20),
        D(2023, 10, 24),
        True,
    )
    assert entry.pre_notifications[0].status == "sent"
    # Reopened: forecast for the next run again.
    assert [(d.invoice_id, d.announced) for d in entry.upcoming] == [(invoice_id, False)]

    # A new bank account: the same mandate goes on; a revoked one keeps its history.
    canteen.payments.revoke_mandate(PAYER, "concerto")
    second = canteen.payments.sign_mandate(PAYER, "concerto", iban="FR7630004000031234567890143")
    first, old = canteen.payments.debit_schedule(PAYER, "concerto").mandates
    assert first.mandate.reference == second.reference
    assert [d.invoice_id for d in first.upcoming] == [invoice_id]
    assert old.upcoming == ()
    assert [p.returned_on for p in old.past] == [D(2023, 10, 24)]


def test_documents_on_request(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    _bill_september(any_bworld, clock)
    days = september(any_bworld.alban)[:3]
    for day in days:
        canteen.attendance.roll_call(ADMIN, day, {any_bworld.alban.id: "present"})
    canteen.attendance.roll_call(
        ADMIN, september(any_bworld.alban)[3], {any_bworld.alban.id: "absent"}
    )
    certificate = canteen.documents.attendance_certificate(
        PAYER, "concerto", D(2023, 9, 1), D(2023, 12, 31)
    )
    assert certificate.end == BILLING_DAY.date()  # not after today
    (line,) = certificate.lines
    assert line.days == tuple(days)
    assert certificate.total_days == 3
    assert line.child_name.startswith("Alban")
    with pytest.raises(NotAuthorizedError):
        canteen.documents.attendance_certificate(OTHER, "concerto", D(2023, 9, 1), D(2023, 9, 30))
    for start, end, field in (
        (D(2023, 9, 30), D(2023, 9, 1), "end"),
        (D(2023, 11, 1), D(2023, 11, 30), "start"),
        (D(2020, 1, 1), D(2023, 9, 30), "end"),
    ):
        with pytest.raises(InvalidInputError) as refused:
            canteen.documents.attendance_certificate(PAYER, "concerto", start, end)
        assert refused.value.path == field
    account = canteen.documents.household_account(PAYER, "concerto")
    assert account.household_id == "concerto"
    assert account.balance_due == Money.of("48.80")
    with pytest.raises(NotAuthorizedError):
        canteen.documents.household_account(OTHER, "concerto")
    with pytest.raises(NotFoundError):
        canteen.documents.household_account(FINANCE, "nobody")
    offered = canteen.documents.documents_on_request(PAYER, "concerto")
    assert [d.kind for d in offered][:2] == [STATEMENT, ATTENDANCE_CERTIFICATE]
    assert {d.dated for d in offered} == {BILLING_DAY.date()}
    assert [d.year for d in offered if d.kind == PAYMENT_CERTIFICATE] == [2023]
    assert offered[1].start == D(2023, 9, 1)


def test_the_online_payment_state_never_credits(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    invoice_id = _bill_september(any_bworld, clock)
    start = canteen.payments.start_online_payment(
        PAYER,
        invoice_id,
        provider="payfip",
        return_url="https://famille.ronde.fr/factures",
        notification_url="https://famille.ronde.fr/api/v1/callbacks/payfip/notification",
    )
    status = canteen.payments.online_payment_status(PAYER, "payfip", start.transaction_id)
    assert status.invoice_id == invoice_id
    assert status.amount == Money.of("48.80")
    assert not status.credited
    assert status.invoice_balance_due == Money.of("48.80")
    with pytest.raises(NotAuthorizedError):
        canteen.payments.online_payment_status(OTHER, "payfip", start.transaction_id)
    with pytest.raises(NotFoundError):
        canteen.payments.online_payment_status(PAYER, "payfip", "NOPE")
    assert canteen.billing.invoice(PAYER, invoice_id).balance_due == Money.of("48.80")


@given(
    today=st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 12, 31)),
    notice=st.integers(min_value=1, max_value=60),
)
def test_the_earliest_collection_date_leaves_the_notice_on_a_business_day(
    today: date, notice: int
) -> None:
    deployment = Deployment(
        issuer=IssuerSettings(name="Régie", code="R"),
        storage=StorageSettings(url="memory://"),
        payment={"sepa": {"pre_notification_days": notice}},
    )
    day = earliest_collection_date(deployment, today)
    assert is_target2_business_day(day)
    assert day >= today + timedelta(days=notice)
    # The first such day: every day between is closed for the banks.
    between = today + timedelta(days=notice)
    while between < day:
        assert not is_target2_business_day(between)
        between += timedelta(days=1)


def test_the_attendance_certificate_counts_the_meals_billed_without_a_roll_call(
    any_bworld: World, clock: FixedClock
) -> None:
    """Walkthrough: a child billed 4 meals got "présents 0 jour(s)": nobody took the roll
    call, so no day was marked present. The certificate states the meals billed (the
    invoices' days, net of the credit notes that cancel days) and the presences only where a
    roll call was taken."""
    canteen = any_bworld.canteen
    days = september(any_bworld.alban)[:4]
    book(canteen, any_bworld.alban, days)
    clock.set(BILLING_DAY)
    (issued,) = [
        i
        for i in canteen.billing.run_postpaid(FINANCE, "2023-09").issued
        if i.household_id == "concerto"
    ]
    certificate = canteen.documents.attendance_certificate(
        PAYER, "concerto", D(2023, 9, 1), D(2023, 9, 30)
    )
    (line,) = certificate.lines
    assert line.billed_days == tuple(days)
    assert line.billed_fr == "4 repas"
    assert line.roll_call_days == ()
    assert line.days == ()
    assert line.presence_fr == "pas d'appel"
    assert certificate.total_billed == 4
    assert not certificate.has_roll_call

    # A credit note for one of the days takes it off; a roll call counts where it was taken.
    invoice = canteen.billing.invoice(FINANCE, issued.invoice_id).invoice
    (meals,) = [i for i in invoice.lines if i.child_id == any_bworld.alban.child_id]
    canteen.billing.issue_credit_note(
        FINANCE,
        invoice.id,
        reason="absence justifiée",
        lines=[meals.part([days[3]], unit_price=meals.unit_price, description="Avoir")],
    )
    canteen.attendance.roll_call(ADMIN, days[0], {any_bworld.alban.id: "present"})
    canteen.attendance.roll_call(ADMIN, days[1], {any_bworld.alban.id: "absent"})
    (line,) = canteen.documents.attendance_certificate(
        PAYER, "concerto", D(2023, 9, 1), D(2023, 9, 30)
    ).lines
    assert line.billed_days == tuple(days[:3])
    assert line.roll_call_days == tuple(days[:2])
    assert line.days == (days[0],)
    assert line.presence_fr == "1 jour sur 2 appels"
