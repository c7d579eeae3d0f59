"""The storage contract of the invoice repositories: gapless numbering, one invoice per billing
key, issued documents never change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
import pytest

from canteen_core.domain.errors import (
    ConflictError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.invoicing import NumberSequence, credit_note
from canteen_core.domain.ledger import Payment, Refund
from canteen_core.domain.money import Money
from canteen_core.ports.storage import AccountDocuments, Storage
from canteen_core.testing.samples import (
    ISSUER,
    household,
    invoice,
)


def test_numbering_is_gapless_and_a_rollback_gives_numbers_back(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        sequence = uow.invoices.sequence(ISSUER, 2023)
        assert sequence == NumberSequence(issuer_id=ISSUER, year=2023, last_used=0)
        numbers, sequence = sequence.allocate(3)
        uow.invoices.save_sequence(sequence)
        uow.commit()
    assert numbers == ("2023-000001", "2023-000002", "2023-000003")
    with storage.unit_of_work() as uow:
        assert uow.invoices.next_number(ISSUER, 2023) == 4
        # rolled back below: number 4 is given back
    with storage.unit_of_work() as uow:
        assert uow.invoices.next_number(ISSUER, 2023) == 4
        assert uow.invoices.next_number(ISSUER, 2024) == 1
        assert uow.invoices.next_number(ISSUER, 2023, kind="credit_note") == 1
        assert uow.invoices.next_number("autre-regie", 2023) == 1
        with pytest.raises(ConflictError, match="cannot go back"):
            uow.invoices.save_sequence(NumberSequence(issuer_id=ISSUER, year=2023, last_used=2))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.invoices.sequence(ISSUER, 2023, prefix="F").last_used == 4


def test_one_invoice_per_billing_key(storage: Storage) -> None:
    home = household("h1")
    first = invoice(home, 1)
    with storage.unit_of_work() as uow:
        uow.invoices.add(first)
        uow.commit()
    again = invoice(home, 2)  # another number, the same household and period
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError):
            uow.invoices.add(again)
        assert uow.invoices.find_by_billing_key(first.billing_key) == first
        october = invoice(home, 2, first_day=date(2023, 10, 1), last_day=date(2023, 10, 31))
        uow.invoices.add(october)
        assert uow.invoices.billed_keys([first.billing_key, "postpaid/x", october.billing_key]) == {
            first.billing_key,
            october.billing_key,
        }
        assert [i.number for i in uow.invoices.list(household_id="h1")] == [
            "2023-000001",
            "2023-000002",
        ]
        assert uow.invoices.count(year=2023, issuer=ISSUER) == 2
        uow.commit()


def test_a_bulk_load_of_invoices_is_all_or_nothing(storage: Storage) -> None:
    """``add_many`` (a billing run's bulk load): every invoice reads back as stored; one
    conflicting billing key refuses the whole load, and the unit of work goes on."""
    homes = [household(f"b{n}") for n in range(5)]
    batch = [invoice(home, n + 1) for n, home in enumerate(homes[:3])]
    with storage.unit_of_work() as uow:
        uow.invoices.add_many(batch)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert [uow.invoices.get(item.id) for item in batch] == batch
        assert uow.invoices.billed_keys(i.billing_key for i in batch) == {
            i.billing_key for i in batch
        }
    fresh = invoice(homes[3], 4)
    clash = invoice(homes[0], 5)  # the first household's period again
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError):
            uow.invoices.add_many([fresh, clash])
        assert uow.invoices.find_by_billing_key(fresh.billing_key) is None
        later = invoice(homes[4], 4)
        uow.invoices.add_many([later])
        uow.invoices.add_many([])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.invoices.count() == 4
        assert uow.invoices.find_by_billing_key(clash.billing_key) == batch[0]


def test_issued_documents_are_never_saved_over_nor_removed(storage: Storage) -> None:
    """Invoices and credit notes are immutable at the port: ``save`` over a stored one and
    ``remove`` raise ``RuleViolationError`` and change nothing; a new one may be saved."""
    home = household("h1")
    first = invoice(home, 1)
    note, _ = credit_note(
        first,
        lines=first.lines,
        reason="Erreur de pointage",
        sequence=NumberSequence(issuer_id=ISSUER, year=2023, prefix="AV-"),
        issue_date=date(2023, 10, 5),
    )
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.invoices.add(first)
        uow.credit_notes.save(note)  # new: stored
        uow.commit()
    october = invoice(home, 2, first_day=date(2023, 10, 1), last_day=date(2023, 10, 31))
    with storage.unit_of_work() as uow:
        cases: list[tuple[Any, Any, Any]] = [
            (uow.invoices, first, attrs.evolve(first, label="FAUX")),
            (uow.credit_notes, note, attrs.evolve(note, reason="Autre")),
        ]
        for repository, stored, changed in cases:
            with pytest.raises(RuleViolationError, match="never changes"):
                repository.save(changed)
            with pytest.raises(RuleViolationError):
                repository.save(stored)
            with pytest.raises(RuleViolationError):
                repository.remove(stored.id)
            with pytest.raises(NotFoundError):
                repository.remove("nothing-here")
            # A batch save (offered by the built-in backends, not part of the port) too.
            save_many = getattr(repository, "save_many", None)
            if save_many is not None:
                with pytest.raises(RuleViolationError):
                    save_many([changed])
        uow.invoices.save(october)  # a new invoice may be saved
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.invoices.get(first.id) == first
        assert uow.credit_notes.get(note.id) == note
        assert [item.id for item in uow.invoices.list()] == sorted([first.id, october.id])


def test_households_billed_until_a_day(storage: Storage) -> None:
    """``households_billed_until``: the households with an invoice issued on or before the
    day (a reminder run looks at those only), each once."""
    homes = [household(f"r{n}") for n in range(3)]
    september = invoice(homes[0], 1)  # issued 2 October 2023
    october = attrs.evolve(
        invoice(homes[0], 2, first_day=date(2023, 10, 1), last_day=date(2023, 10, 31)),
        issue_date=date(2023, 11, 2),
        due_date=date(2023, 12, 1),
        payment_open_date=date(2023, 11, 2),
    )
    later = attrs.evolve(
        invoice(homes[1], 3),
        issue_date=date(2023, 11, 2),
        due_date=date(2023, 12, 1),
        payment_open_date=date(2023, 11, 2),
    )
    with storage.unit_of_work() as uow:
        uow.invoices.add_many([september, october, later])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.invoices.households_billed_until(date(2023, 10, 1)) == frozenset()
        assert uow.invoices.households_billed_until(date(2023, 10, 2)) == {"r0"}
        assert uow.invoices.households_billed_until(date(2023, 11, 2)) == {"r0", "r1"}


def test_account_documents_are_the_households_four_lists(storage: Storage) -> None:
    """``account_documents``: a household's invoices, credit notes, payments and refunds,
    each as its repository's ``list(household_id=...)`` gives them (id order), none of
    another household's; an unknown household has none; a writable unit of work sees what it
    stored, and a rollback takes it away."""
    homes = [household("a1"), household("a2")]
    september = invoice(homes[0], 2)
    october = invoice(homes[0], 1, first_day=date(2023, 10, 1), last_day=date(2023, 10, 31))
    theirs = invoice(homes[1], 3)
    note, _ = credit_note(
        september,
        lines=september.lines,
        reason="Erreur de pointage",
        sequence=NumberSequence(issuer_id=ISSUER, year=2023, prefix="AV-"),
        issue_date=date(2023, 10, 5),
    )

    def paid(payment_id: str, household_id: str, cents: str) -> Payment:
        return Payment.of(
            id=payment_id,
            household_id=household_id,
            amount=Money.of(cents),
            method="cash",
            received_on=date(2023, 10, 10),
        )

    payments = [paid("p-b", "a1", "5.00"), paid("p-a", "a1", "2.00"), paid("p-c", "a2", "1.00")]
    refund = Refund(
        id="r-1", household_id="a1", amount=Money.of("1.00"), refunded_on=date(2023, 10, 20)
    )
    with storage.unit_of_work() as uow:
        uow.households.add_many(homes)
        uow.invoices.add_many([september, october, theirs])
        uow.credit_notes.add(note)
        uow.payments.add_many(payments)
        uow.refunds.add(refund)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        found = uow.invoices.account_documents("a1")
        assert found == AccountDocuments(
            invoices=tuple(uow.invoices.list(household_id="a1")),
            credit_notes=tuple(uow.credit_notes.list(household_id="a1")),
            payments=tuple(uow.payments.list(household_id="a1")),
            refunds=tuple(uow.refunds.list(household_id="a1")),
        )
        assert [item.id for item in found.invoices] == sorted([september.id, october.id])
        assert found.credit_notes == (note,)
        assert [item.id for item in found.payments] == ["p-a", "p-b"]
        assert found.refunds == (refund,)
        assert uow.invoices.account_documents("a2") == AccountDocuments(
            invoices=(theirs,), credit_notes=(), payments=(payments[2],), refunds=()
        )
        empty = AccountDocuments(invoices=(), credit_notes=(), payments=(), refunds=())
        assert uow.invoices.account_documents("nobody") == empty
    with storage.unit_of_work() as uow:
        more = paid("p-0", "a2", "3.00")
        uow.payments.add(more)
        assert uow.invoices.account_documents("a2").payments == (more, payments[2])
        uow.rollback()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.invoices.account_documents("a2").payments == (payments[2],)


__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
