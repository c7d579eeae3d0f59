"""The storage contract for returned direct debits.

A :class:`~canteen_core.domain.debit_returns.DebitReturn` is a document like the others: stored
whole, found by household, payment and the digest of the bank file it came from (how a file
loaded twice is recognised), and kept or dropped with its unit of work.
"""

from __future__ import annotations

from datetime import date

from canteen_core.domain.debit_returns import DebitReturn
from canteen_core.domain.money import Money
from canteen_core.ports.storage import Storage
from canteen_core.testing.samples import NOW

__all__ = [
    "debit_return",
    "test_debit_returns_are_dropped_with_their_unit_of_work",
    "test_debit_returns_round_trip_and_filter",
]


def debit_return(payment_id: str, *, household_id: str = "h1", digest: str = "f1") -> DebitReturn:
    """The return of ``payment_id`` (48,80 €, AM04) read from the file of ``digest``."""
    return DebitReturn(
        id=f"{digest}:{payment_id}",
        payment_id=payment_id,
        household_id=household_id,
        end_to_end_id=f"2023-{payment_id[-6:]:0>6}",
        invoice_ids=(f"inv-{payment_id}",),
        amount=Money.of("48.80"),
        reason_code="AM04",
        returned_on=date(2023, 10, 26),
        file_kind="camt.054",
        file_message_id="NTF-1",
        file_digest=digest,
        loaded_at=NOW,
        loaded_by="finance",
    )


def test_debit_returns_round_trip_and_filter(storage: Storage) -> None:
    """Stored whole; listed by household, payment and file digest."""
    first = debit_return("sepa:1")
    second = debit_return("sepa:2", household_id="h2", digest="f2")
    with storage.unit_of_work() as uow:
        uow.debit_returns.add_many([first, second])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.debit_returns.get(first.id) == first
        assert uow.debit_returns.get(first.id).reason_label == "provision insuffisante"
        assert list(uow.debit_returns.list(household_id="h2")) == [second]
        assert list(uow.debit_returns.list(payment_id="sepa:1")) == [first]
        assert list(uow.debit_returns.list(file_digest="f2")) == [second]
        assert list(uow.debit_returns.list(file_digest="nope")) == []


def test_debit_returns_are_dropped_with_their_unit_of_work(storage: Storage) -> None:
    """A return added in a unit of work that does not commit is not stored."""
    with storage.unit_of_work() as uow:
        uow.debit_returns.add(debit_return("sepa:9"))
    with storage.unit_of_work(read_only=True) as uow:
        assert list(uow.debit_returns.list()) == []
