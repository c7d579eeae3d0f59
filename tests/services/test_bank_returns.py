# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""The bank's return files (pain.002, camt.054) through the facade on memory, SQLite and
PostgreSQL: a returned debit reopens its invoice with the bank's reason, the family is told,
"Mes prélèvements" shows it, the same file twice changes nothing and bad files change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

from ._bank_files import camt054, pain002
from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    FAMILY_IBAN,
    any_billing_canteen,
    any_bworld,
    book,
    september,
)
from ._world import FINANCE, PAYER, World

D = date
AMOUNT = Decimal("48.80")


def _collected(world: World, clock: FixedClock) -> tuple[str, str]:
    """September billed and collected by direct debit on 20 October: (invoice id, number)."""
    canteen = world.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    book(canteen, world.alban, september(world.alban))
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    invoice_id = next(i.invoice_id for i in report.issued if i.household_id == "concerto")
    canteen.payments.run_direct_debit(FINANCE, D(2023, 10, 20))
    clock.set(datetime(2023, 10, 26, 9, 0, tzinfo=UTC))
    number = canteen.billing.invoice(PAYER, invoice_id).invoice.number
    return invoice_id, number


def _balance(canteen: Canteen, invoice_id: str) -> Money:
    return canteen.billing.invoice(PAYER, invoice_id).balance_due


def _kinds(canteen: Canteen) -> list[str]:
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        return [record.message.kind for record in uow.outbox.records()]


def _snapshot(canteen: Canteen, invoice_id: str) -> tuple[object, ...]:
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        payments = sorted((p.id, p.rejected_on) for p in uow.payments.list(household_id="concerto"))
        returns = sorted(r.id for r in uow.debit_returns.list(household_id="concerto"))
        outbox = len(list(uow.outbox.records()))
    return (_balance(canteen, invoice_id), payments, returns, outbox)


@pytest.mark.parametrize("kind", ["pain.002", "camt.054"])
def test_a_returned_debit_reopens_its_invoice_once(
    any_bworld: World, clock: FixedClock, kind: str
) -> None:
    canteen = any_bworld.canteen
    invoice_id, number = _collected(any_bworld, clock)
    assert _balance(canteen, invoice_id) == Money.zero()
    if kind == "pain.002":
        data = pain002("PSR-0001", [(number, "AM04", AMOUNT)])
        code, label, day = "AM04", "provision insuffisante", D(2023, 10, 26)
    else:
        data = camt054("NTF-0001", [(number, "AC04", AMOUNT)], booked=D(2023, 10, 25))
        code, label, day = "AC04", "compte clôturé", D(2023, 10, 25)
    sent_before = _kinds(canteen).count("direct-debit-returned")

    report = canteen.payments.load_debit_returns(FINANCE, data)

    assert (report.kind, report.already_loaded) == (kind, False)
    (entry,) = report.returns
    assert (entry.end_to_end_id, entry.reason_code, entry.reason_label) == (number, code, label)
    assert entry.amount == Money.of(AMOUNT)
    assert entry.returned_on == day
    assert report.reopened_invoice_ids == (invoice_id,)
    assert "1 prélèvement rejeté" in report.summary
    assert _balance(canteen, invoice_id) == Money.of(AMOUNT)
    # The debit is kept, marked returned: never deleted.
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        (debit,) = uow.payments.list(household_id="concerto", method="direct_debit")
    assert debit.rejected_on == day
    assert debit.amount == Money.of(AMOUNT)
    assert _kinds(canteen).count("direct-debit-returned") == sent_before + 2  # both guardians
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        mail = next(
            r.message for r in uow.outbox.records() if r.message.kind == "direct-debit-returned"
        )
    assert label in mail.subject
    assert number in mail.text_body
    assert code in mail.text_body

    (schedule,) = canteen.payments.debit_schedule(PAYER, "concerto").mandates
    (past,) = schedule.past
    assert (past.returned_on, past.reason_code, past.reason_label) == (day, code, label)
    assert [r.reason_code for r in canteen.payments.debit_returns(PAYER, "concerto")] == [code]

    before = _snapshot(canteen, invoice_id)
    again = canteen.payments.load_debit_returns(FINANCE, data)
    assert again.already_loaded
    assert again.returns == ()
    assert "déjà chargé" in again.summary
    assert _snapshot(canteen, invoice_id) == before


def test_a_debit_returned_by_two_files_counts_once(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    invoice_id, number = _collected(any_bworld, clock)
    canteen.payments.load_debit_returns(FINANCE, pain002("PSR-1", [(number, "MS02", AMOUNT)]))
    before = _snapshot(canteen, invoice_id)
    report = canteen.payments.load_debit_returns(
        FINANCE, camt054("NTF-1", [(number, "MS02", AMOUNT)])
    )
    assert report.returns == ()
    assert report.already_returned == (number,)
    assert "déjà rejetés auparavant" in report.summary
    assert _snapshot(canteen, invoice_id)[:3] == before[:3]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04 not xml", "n'est pas un XML valide (ligne 1)"),
        (b"<Document><Oops/></Document>", "ni un pain.002.001.03 ni un camt.054.001.02"),
        (
            pain002("PSR-BAD", [("2023-000001", "AM04", AMOUNT)]).replace(
                b"<TxSts>RJCT</TxSts>", b"<TxSts>NOPE</TxSts>"
            ),
            "ne respecte pas le schéma à la ligne",
        ),
        (pain002("PSR-UNK", [("2099-000042", "AM04", AMOUNT)]), "2099-000042"),
        (pain002("PSR-AMT", [("NUMBER", "AM04", Decimal("1.00"))]), "rien n'a été modifié"),
        (b"", "vide"),
    ],
)
def test_a_bad_file_is_refused_and_changes_nothing(
    any_bworld: World, clock: FixedClock, data: bytes, expected: str
) -> None:
    canteen = any_bworld.canteen
    invoice_id, number = _collected(any_bworld, clock)
    data = data.replace(b"NUMBER", number.encode())
    before = _snapshot(canteen, invoice_id)
    with pytest.raises(InvalidInputError) as raised:
        canteen.payments.load_debit_returns(FINANCE, data)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)
    assert _snapshot(canteen, invoice_id) == before


def test_a_family_cannot_load_a_return_file(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    invoice_id, number = _collected(any_bworld, clock)
    before = _snapshot(canteen, invoice_id)
    with pytest.raises(NotAuthorizedError):
        canteen.payments.load_debit_returns(PAYER, pain002("PSR-2", [(number, "AM04", AMOUNT)]))
    assert _snapshot(canteen, invoice_id) == before
