"""Returned direct debits: the reason codes in French, the ledger after any sequence of debits
and returns (Hypothesis), and the reading of real pain.002 / camt.054 files (lxml + XSD)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.payment.bank_returns import read_bank_returns
from canteen_core.domain.debit_returns import REASON_LABELS, ReturnedTransaction, reason_label
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.ledger import HouseholdAccount, Payment
from canteen_core.domain.money import Money
from test_ledger import START, invoice

from ._bank_files import camt054, pain002


def test_the_reason_codes_read_in_french() -> None:
    assert reason_label("AC04") == "compte clôturé"
    assert reason_label("AM04") == "provision insuffisante"
    assert reason_label("MD01") == "pas de mandat"
    assert reason_label("MS02") == "refus du débiteur"
    assert reason_label("XT99") == "motif XT99"
    assert all(len(code) == 4 and label for code, label in REASON_LABELS.items())
    with pytest.raises(InvalidInputError):
        ReturnedTransaction(end_to_end_id="2023-000001", reason_code="am04 ")


def test_a_status_report_lists_its_rejected_debits() -> None:
    data = pain002(
        "PSR-1",
        [("2023-000001", "AM04", Decimal("48.80")), ("2023-000002", "MD01", Decimal("12.00"))],
    )
    parsed = read_bank_returns(data)
    assert (parsed.kind, parsed.message_id) == ("pain.002", "PSR-1")
    assert [(t.end_to_end_id, t.reason_code, t.amount) for t in parsed.transactions] == [
        ("2023-000001", "AM04", Money.of("48.80")),
        ("2023-000002", "MD01", Money.of("12.00")),
    ]
    assert read_bank_returns(data).digest == parsed.digest
    assert read_bank_returns(data + b"\n").digest != parsed.digest


def test_a_debit_notification_lists_its_returns_with_the_booking_day() -> None:
    parsed = read_bank_returns(
        camt054("NTF-1", [("2023-000007", "MS02", Decimal("9.90"))], booked=date(2023, 11, 3))
    )
    (returned,) = parsed.transactions
    assert parsed.kind == "camt.054"
    assert (returned.end_to_end_id, returned.reason_label) == ("2023-000007", "refus du débiteur")
    assert (returned.amount, returned.returned_on) == (Money.of("9.90"), date(2023, 11, 3))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n", "n'est pas un XML valide (ligne 1)"),
        (b"<?xml version='1.0'?>\n<a>\n<b></a>", "n'est pas un XML valide (ligne 3)"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>',
            "ni un pain.002.001.03 ni un camt.054.001.02 (pain.008.001.02)",
        ),
        (
            camt054("NTF-2", [("2023-000007", "MS02", Decimal("9.90"))]).replace(
                b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>"
            ),
            "le fichier camt.054 ne respecte pas le schéma à la ligne 15 (élément CdtDbtInd)",
        ),
        (
            # PART is a group status: ISO 20022 has no partly accepted transaction.
            pain002("PSR-9", [("2023-000001", "AM04", Decimal("48.80"))]).replace(
                b"<TxSts>RJCT</TxSts>", b"<TxSts>PART</TxSts>"
            ),
            "le fichier pain.002 ne respecte pas le schéma à la ligne 18 (élément TxSts)",
        ),
        (
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&x;</Document>',
            "déclaration DOCTYPE, refusée",
        ),
    ],
)
def test_a_bad_file_is_one_french_line_with_the_line_at_fault(data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        read_bank_returns(data)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("debit"), st.integers(0, 2)),
        st.tuples(st.just("return"), st.integers(0, 20)),
    ),
    max_size=25,
)


@given(
    totals=st.lists(st.integers(1, 50_000), min_size=1, max_size=3),
    steps=_STEPS,
)
def test_remaining_is_total_minus_payments_plus_returns(
    totals: list[int], steps: list[tuple[str, int]]
) -> None:
    """After any sequence of debits (a run debits an invoice's balance due) and returns (a
    bank returns one of the debits, possibly twice), each invoice's remaining amount is its
    total minus its debits plus its returned debits."""
    invoices = [invoice(n + 1, str(Decimal(c) / 100)) for n, c in enumerate(totals)]
    account = HouseholdAccount.empty("H1")
    for item in invoices:
        account = account.add_invoice(item)
    debits: list[Payment] = []
    for day, (kind, index) in enumerate(steps, start=40):
        if kind == "debit":
            target = invoices[index % len(invoices)]
            due = account.invoice_state(target.id).balance_due
            if not due.is_positive:
                continue
            payment = Payment.of(
                id=f"sepa:{day}",
                household_id="H1",
                amount=due,
                method="direct_debit",
                received_on=START + timedelta(days=day),
                invoice_ids=(target.id,),
                reference=target.number,
            )
            account = account.record_payment(payment)
            debits.append(payment)
        elif debits:
            returned = debits[index % len(debits)]
            account = account.reject_payment(returned.id, rejected_on=START + timedelta(days=day))
    rejected = {p.id for p in account.payments if p.is_rejected}
    for item in invoices:
        paid = Money.sum(p.amount for p in debits if p.invoice_ids == (item.id,))
        returned = Money.sum(
            p.amount for p in debits if p.invoice_ids == (item.id,) and p.id in rejected
        )
        assert account.invoice_state(item.id).balance_due == item.total - paid + returned
    assert account.balance_due == Money.sum(i.total for i in invoices) - Money.sum(
        p.amount for p in debits if p.id not in rejected
    )
