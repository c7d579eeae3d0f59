"""The payments ledger: allocation, credit, refunds, rejected debits, credit notes, statements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.invoicing import CreditNote, Invoice, InvoiceLine
from canteen_core.domain.ledger import (
    HouseholdAccount,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from canteen_core.domain.money import Money

START = date(2023, 9, 30)


def invoice(n: int, total: str, *, household: str = "H1", day: int | None = None) -> Invoice:
    issued = START + timedelta(days=30 * n if day is None else day)
    line = InvoiceLine.build(
        service_id="lunch", description="repas", quantity=1, unit_price=Money.of(total)
    )
    return Invoice(
        id=f"inv-{household}-{n}",
        number=f"2023-{n:06d}" if household == "H1" else f"2023-{n + 500:06d}",
        issuer_id="regie",
        household_id=household,
        label=f"MOIS {n}",
        mode="postpaid",
        billing_key=f"key-{household}-{n}",
        period_start=issued - timedelta(days=29),
        period_end=issued,
        issue_date=issued,
        due_date=issued + timedelta(days=15),
        payment_open_date=issued,
        lines=(line,),
        total=line.amount,
    )


def note(n: int, inv: Invoice, amount: str) -> CreditNote:
    line = InvoiceLine.build(
        service_id="lunch", description="correction", quantity=1, unit_price=Money.of(amount)
    )
    return CreditNote(
        id=f"cn-{n}",
        number=f"AV-2023-{n:06d}",
        issuer_id="regie",
        household_id=inv.household_id,
        invoice_id=inv.id,
        issue_date=inv.issue_date + timedelta(days=1),
        reason="Erreur de pointage",
        lines=(line,),
        total=line.amount,
    )


def pay(pid: str, amount: object, *targets: str, method: str = "card", day: int = 40) -> Payment:
    return Payment.of(
        id=pid,
        household_id="H1",
        amount=amount,
        method=method,
        received_on=START + timedelta(days=day),
        invoice_ids=targets,
    )


def account(*invoices: Invoice) -> HouseholdAccount:
    result = HouseholdAccount.empty("H1")
    for item in invoices:
        result = result.add_invoice(item)
    return result


def test_oldest_first_and_partial_payment() -> None:
    a = account(invoice(2, "20.00"), invoice(1, "13.40"))
    a = a.record_payment(pay("p1", "20.00"))
    first, second = a.invoice_states()
    assert first.invoice.number == "2023-000001"
    assert (first.status, first.balance_due) == (InvoiceStatus.PAID, Money.of("0"))
    assert (second.status, second.balance_due) == (InvoiceStatus.PARTIALLY_PAID, Money.of("13.40"))
    assert a.balance_due == Money.of("13.40")
    assert a.available_credit == Money.zero()
    event = a.payment_event("p1", occurred_at=datetime(2023, 11, 10, tzinfo=UTC))
    assert event.invoice_ids == ("inv-H1-1", "inv-H1-2")
    assert event.amount == Money.of("20.00")


def test_explicit_targets_come_first() -> None:
    a = account(invoice(1, "13.40"), invoice(2, "20.00"))
    a = a.record_payment(pay("p1", "20.00", "inv-H1-2"))
    assert a.invoice_state("inv-H1-2").status is InvoiceStatus.PAID
    assert a.invoice_state("inv-H1-1").status is InvoiceStatus.ISSUED


def test_overpayment_becomes_credit_used_by_the_next_invoice_and_refundable() -> None:
    a = account(invoice(1, "13.40")).record_payment(pay("p1", "50.00"))
    assert a.invoice_state("inv-H1-1").status is InvoiceStatus.PAID
    assert a.available_credit == Money.of("36.60")
    a = a.add_invoice(invoice(2, "20.00"))
    assert a.invoice_state("inv-H1-2").status is InvoiceStatus.PAID
    assert a.available_credit == Money.of("16.60")
    with pytest.raises(RuleViolationError, match="available credit"):
        a.refund(Refund(id="r1", household_id="H1", amount=Money.of("20"), refunded_on=START))
    a = a.refund(Refund(id="r1", household_id="H1", amount=Money.of("16.60"), refunded_on=START))
    assert a.available_credit == Money.zero()
    statement = a.statement()
    assert statement.net_balance == Money.zero()
    assert [e.kind for e in statement.entries] == ["refund", "invoice", "payment", "invoice"]


def test_payment_larger_than_anything_due_is_credit_not_an_error() -> None:
    a = account().record_payment(pay("p1", "100"))
    assert a.available_credit == Money.of("100")
    assert a.statement().net_balance == Money.of("-100")


def test_rejected_direct_debit_reopens_what_it_paid() -> None:
    a = account(invoice(1, "13.40"), invoice(2, "20.00"))
    a = a.record_payment(pay("dd", "33.40", method="direct_debit"))
    assert a.balance_due == Money.zero()
    rejected = a.reject_payment("dd", rejected_on=START + timedelta(days=45))
    assert rejected.balance_due == Money.of("33.40")
    assert {s.status for s in rejected.invoice_states()} == {InvoiceStatus.ISSUED}
    assert rejected.reject_payment("dd", rejected_on=START + timedelta(days=46)) == rejected
    kinds = [e.kind for e in rejected.statement().entries]
    assert kinds == ["invoice", "payment", "payment_rejected", "invoice"]
    assert rejected.statement().net_balance == Money.of("33.40")
    # A rejected payment cannot fund a refund that already left.
    over = account(invoice(1, "10")).record_payment(pay("p", "30"))
    over = over.refund(Refund(id="r", household_id="H1", amount=Money.of("20"), refunded_on=START))
    with pytest.raises(RuleViolationError, match="refund"):
        over.reject_payment("p", rejected_on=START + timedelta(days=50))
    with pytest.raises(NotFoundError):
        a.reject_payment("nope", rejected_on=START)


def test_credit_note_cancels_and_releases_payments_to_credit() -> None:
    inv = invoice(1, "13.40")
    a = account(inv).record_payment(pay("p1", "13.40"))
    a = a.add_credit_note(note(1, inv, "3.35"))
    state = a.invoice_state(inv.id)
    assert state.status is InvoiceStatus.PAID
    assert state.paid == Money.of("10.05")
    assert a.available_credit == Money.of("3.35")
    a = a.add_credit_note(note(2, inv, "10.05"))
    assert a.invoice_state(inv.id).status is InvoiceStatus.CANCELLED
    assert a.available_credit == Money.of("13.40")
    with pytest.raises(RuleViolationError, match="exceed"):
        a.add_credit_note(note(3, inv, "0.01"))
    with pytest.raises(RuleViolationError, match="cancelled"):
        a.record_payment(pay("p2", "5", inv.id))
    with pytest.raises(NotFoundError):
        a.add_credit_note(note(4, invoice(9, "1"), "1"))


def test_partial_credit_note_on_an_unpaid_invoice() -> None:
    inv = invoice(1, "13.40")
    a = account(inv).add_credit_note(note(1, inv, "3.35"))
    assert a.invoice_state(inv.id).status is InvoiceStatus.PARTIALLY_PAID
    assert a.balance_due == Money.of("10.05")


@pytest.mark.parametrize("amount", [13.4, "-5", "0", "abc", True, None])
def test_bad_amounts_are_refused(amount: object) -> None:
    with pytest.raises(InvalidInputError):
        pay("p", amount)


def test_bad_operations_change_nothing() -> None:
    a = account(invoice(1, "13.40"))
    before = a
    with pytest.raises(NotFoundError):
        a.record_payment(pay("p", "5", "inv-unknown"))
    with pytest.raises(InvalidInputError, match="household"):
        a.record_payment(Payment.of(id="p", household_id="H2", amount="5", method="cash",
                                    received_on=START))  # fmt: skip
    with pytest.raises(InvalidInputError, match="pour le mode de paiement"):
        pay("p", "5", method="bitcoin")
    with pytest.raises(InvalidInputError, match="currency"):
        a.record_payment(
            Payment(
                id="p",
                household_id="H1",
                amount=Money.of("5", "CHF"),
                method=PaymentMethod.CASH,
                received_on=START,
            )
        )
    assert a == before
    assert a.payments == ()


def test_duplicate_notifications_are_idempotent_and_conflicts_detected() -> None:
    a = account(invoice(1, "13.40")).record_payment(pay("p1", "13.40"))
    assert a.record_payment(pay("p1", "13.40")) == a
    with pytest.raises(ConflictError):
        a.record_payment(pay("p1", "10.00"))
    assert a.add_invoice(invoice(1, "13.40")) == a
    with pytest.raises(ConflictError):
        a.add_invoice(invoice(1, "99.00"))


def test_without_auto_apply_credit_stays_until_applied() -> None:
    a = HouseholdAccount.empty("H1", auto_apply_credit=False).record_payment(pay("p1", "10"))
    a = a.add_invoice(invoice(1, "13.40"))
    assert a.available_credit == Money.of("10")
    assert a.balance_due == Money.of("13.40")
    a = a.apply_credit()
    assert a.available_credit == Money.zero()
    assert a.balance_due == Money.of("3.40")


# -- invariants ------------------------------------------------------------------------------

cents = st.integers(min_value=1, max_value=10_000).map(lambda c: Decimal(c) / 100)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), cents),
        st.tuples(st.just("pay"), cents),
        st.tuples(st.just("pay_target"), cents),
        st.tuples(st.just("credit"), cents),
        st.tuples(st.just("reject"), cents),
        st.tuples(st.just("refund"), cents),
    ),
    max_size=30,
)


@given(operations)
def test_balance_is_invoices_minus_credit_notes_minus_allocations(
    ops: list[tuple[str, Decimal]],
) -> None:
    a = HouseholdAccount.empty("H1")
    for counter, (kind, amount) in enumerate(ops, start=1):
        try:
            if kind == "invoice":
                a = a.add_invoice(invoice(counter, str(amount), day=counter))
            elif kind in {"pay", "pay_target"}:
                targets = [a.invoices[-1].id] if kind == "pay_target" and a.invoices else []
                a = a.record_payment(pay(f"p{counter}", amount, *targets, day=counter))
            elif kind == "credit" and a.invoices:
                target = a.invoices[counter % len(a.invoices)]
                a = a.add_credit_note(note(counter, target, str(amount)))
            elif kind == "reject" and a.payments:
                payment = a.payments[counter % len(a.payments)]
                a = a.reject_payment(payment.id, rejected_on=payment.received_on)
            elif kind == "refund":
                a = a.refund(
                    Refund(
                        id=f"r{counter}", household_id="H1", amount=Money(amount), refunded_on=START
                    )
                )
        except RuleViolationError:
            pass  # refused operations leave the account as it was
        invoiced = Money.sum(i.total for i in a.invoices)
        credited = Money.sum(n.total for n in a.credit_notes)
        assert a.balance_due == invoiced - credited - a.allocated
        statement = a.statement()
        assert statement.net_balance == statement.balance_due - statement.available_credit
        assert not a.available_credit.is_negative
        for state in a.invoice_states():
            assert not state.balance_due.is_negative
            assert state.paid + state.credited + state.balance_due == state.invoice.total
        for payment in a.payments:
            used = Money.sum(x.amount for x in a.allocations_for(payment.id))
            assert used <= payment.amount
            if payment.is_rejected:
                assert used.is_zero
        # Credit is always applied: never credit and something open at the same time.
        assert not (a.available_credit.is_positive and a.balance_due.is_positive)


def test_account_round_trips_through_the_serializer() -> None:
    from canteen_core.config.serialization import dumps, loads

    inv = invoice(1, "13.40")
    a = account(inv, invoice(2, "5")).record_payment(pay("p1", "15"))
    a = a.add_credit_note(note(1, inv, "1.00"))
    again = loads(dumps(a), HouseholdAccount)
    assert again == a
    assert again.statement() == a.statement()


def test_two_issuers_may_use_the_same_number() -> None:
    import attrs

    ours = invoice(1, "13.40")
    theirs = attrs.evolve(ours, id="other-issuer-1", issuer_id="caisse-des-ecoles")
    a = account(ours).add_invoice(theirs)
    assert len(a.invoices) == 2
    assert a.balance_due == Money.of("26.80")


# -- direct debits count from their collection date ------------------------------------------


def test_a_direct_debit_is_scheduled_until_its_collection_date() -> None:
    inv = invoice(1, "48.80")  # issued START + 30, due START + 45
    collection = START + timedelta(days=50)
    a = account(inv).record_payment(pay("dd", "48.80", inv.id, method="direct_debit", day=50))
    before = a.on(collection - timedelta(days=1))
    state = before.invoice_state(inv.id)
    assert state.status is InvoiceStatus.DEBIT_SCHEDULED
    assert state.status_label_fr == "Prélèvement prévu le 19/11/2023"
    assert (state.paid, state.scheduled, state.balance_due) == (
        Money.zero(),
        Money.of("48.80"),
        Money.of("48.80"),
    )
    assert state.uncovered == Money.zero()
    assert not state.is_overdue(collection - timedelta(days=1))  # the mandate covers it
    assert before.open_invoices() == ()  # nothing to remind, debit again or pay online
    assert (before.balance_due, before.received, before.allocated, before.scheduled) == (
        Money.of("48.80"),
        Money.zero(),
        Money.zero(),
        Money.of("48.80"),
    )
    statement = before.statement()
    assert [e.kind for e in statement.entries] == ["invoice"]
    assert statement.net_balance == Money.of("48.80")
    assert statement.scheduled == Money.of("48.80")
    # From the collection date on (and with no date at all) it is paid.
    for day in (collection, None):
        paid = a.on(day).invoice_state(inv.id)
        assert (paid.status, paid.status_label_fr) == (InvoiceStatus.PAID, "Facture réglée")
        assert paid.paid == Money.of("48.80")
        assert a.on(day).statement().net_balance == Money.zero()


def test_only_direct_debits_wait_for_their_date_and_a_returned_one_reopens() -> None:
    inv = invoice(1, "20.00")
    cheque = account(inv).record_payment(pay("chq", "20.00", method="cheque", day=50))
    assert cheque.on(START).invoice_state(inv.id).status is InvoiceStatus.PAID
    a = account(inv).record_payment(pay("dd", "20.00", method="direct_debit", day=50))
    returned = a.reject_payment("dd", rejected_on=START + timedelta(days=50)).on(START)
    state = returned.invoice_state(inv.id)
    assert (state.status, state.scheduled, state.uncovered) == (
        InvoiceStatus.ISSUED,
        Money.zero(),
        Money.of("20.00"),
    )


@given(operations, st.lists(st.booleans(), min_size=30, max_size=30), st.integers(0, 40))
def test_reading_on_a_day_only_moves_scheduled_debits_out_of_paid(
    ops: list[tuple[str, Decimal]], debits: list[bool], as_of: int
) -> None:
    a = HouseholdAccount.empty("H1")
    for counter, (kind, amount) in enumerate(ops, start=1):
        method = "direct_debit" if debits[counter - 1] else "card"
        try:
            if kind == "invoice":
                a = a.add_invoice(invoice(counter, str(amount), day=counter))
            elif kind in {"pay", "pay_target"}:
                targets = [a.invoices[-1].id] if kind == "pay_target" and a.invoices else []
                a = a.record_payment(
                    pay(f"p{counter}", amount, *targets, method=method, day=counter)
                )
            elif kind == "credit" and a.invoices:
                target = a.invoices[counter % len(a.invoices)]
                a = a.add_credit_note(note(counter, target, str(amount)))
            elif kind == "reject" and a.payments:
                payment = a.payments[counter % len(a.payments)]
                a = a.reject_payment(payment.id, rejected_on=payment.received_on)
        except RuleViolationError:
            pass
    day = START + timedelta(days=as_of)
    read = a.on(day)
    whole = {state.invoice.id: state for state in a.invoice_states()}
    invoiced = Money.sum(i.total for i in a.invoices)
    credited = Money.sum(n.total for n in a.credit_notes)
    assert read.balance_due == invoiced - credited - read.allocated
    assert read.allocated + read.scheduled == a.allocated
    statement = read.statement()
    assert statement.net_balance == statement.balance_due - statement.available_credit
    waiting = {p.id for p in a.payments if read.is_scheduled(p)}
    assert all(p.method is PaymentMethod.DIRECT_DEBIT and p.received_on > day
               for p in a.payments if p.id in waiting)  # fmt: skip
    assert not waiting & {e.reference for e in statement.entries}
    for state in read.invoice_states():
        same = whole[state.invoice.id]
        assert state.paid + state.scheduled == same.paid
        assert state.uncovered == same.balance_due  # what is left to ask for: as_of-free
        assert state.paid + state.scheduled + state.credited + state.uncovered == same.invoice.total
        covered = state.balance_due.is_positive and not state.uncovered.is_positive
        assert (state.status is InvoiceStatus.DEBIT_SCHEDULED) == (
            covered and state.scheduled.is_positive
        )
        if state.scheduled.is_positive:
            assert state.scheduled_on is not None
            assert state.scheduled_on > day
    assert [s.invoice.id for s in read.open_invoices()] == [s.invoice.id for s in a.open_invoices()]
