"""Dunning schedule and the arrears rule blocking new bookings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.invoicing import Invoice, InvoiceLine
from canteen_core.domain.ledger import HouseholdAccount, Payment
from canteen_core.domain.money import Money
from canteen_core.domain.reminders import (
    ArrearsRule,
    DunningLevel,
    DunningSchedule,
    arrears,
    due_reminders,
)

DUE = date(2023, 10, 15)
NOW = datetime(2023, 11, 1, 8, tzinfo=UTC)


def invoice(n: int, total: str, due: date = DUE) -> Invoice:
    line = InvoiceLine.build(
        service_id="lunch", description="repas", quantity=1, unit_price=Money.of(total)
    )
    return Invoice(
        id=f"inv-{n}",
        number=f"2023-{n:06d}",
        issuer_id="regie",
        household_id="H1",
        label="SEPTEMBRE 2023",
        mode="postpaid",
        billing_key=f"k{n}",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        issue_date=date(2023, 10, 1),
        due_date=due,
        payment_open_date=date(2023, 10, 1),
        lines=(line,),
        total=line.amount,
    )


def account() -> HouseholdAccount:
    return (
        HouseholdAccount.empty("H1")
        .add_invoice(invoice(1, "13.40"))
        .add_invoice(invoice(2, "20.00", due=DUE + timedelta(days=20)))
    )


def test_levels_are_sent_once_and_only_the_highest_reached() -> None:
    a = account()
    assert due_reminders(a, today=DUE + timedelta(days=14), occurred_at=NOW) == ()
    first = due_reminders(a, today=DUE + timedelta(days=15), occurred_at=NOW)
    assert [(e.invoice_id, e.level) for e in first] == [("inv-1", 1)]
    assert first[0].balance_due == Money.of("13.40")
    assert first[0].due_date == DUE
    sent = {("inv-1", 1)}
    assert (
        due_reminders(a, today=DUE + timedelta(days=20), occurred_at=NOW, already_sent=sent) == ()
    )
    later = due_reminders(a, today=DUE + timedelta(days=40), occurred_at=NOW, already_sent=sent)
    # inv-1 reached level 2; inv-2 (due 20 days later) is 20 days overdue: level 1.
    assert [(e.invoice_id, e.level) for e in later] == [("inv-1", 2), ("inv-2", 1)]
    # Missed checks: a single letter at the highest level, not a burst.
    burst = due_reminders(a, today=DUE + timedelta(days=100), occurred_at=NOW)
    assert [(e.invoice_id, e.level) for e in burst] == [("inv-1", 2), ("inv-2", 2)]


def test_paid_invoices_get_no_reminder() -> None:
    a = account().record_payment(
        Payment.of(id="p", household_id="H1", amount="13.40", method="cheque", received_on=DUE)
    )
    events = due_reminders(a, today=DUE + timedelta(days=100), occurred_at=NOW)
    assert [e.invoice_id for e in events] == ["inv-2"]


def test_custom_schedule_and_bad_schedules() -> None:
    schedule = DunningSchedule.of(7, 21, 60)
    events = due_reminders(
        account(), today=DUE + timedelta(days=61), occurred_at=NOW, schedule=schedule
    )
    assert events[0].level == 3
    with pytest.raises(InvalidInputError):
        DunningSchedule.of(30, 15)
    with pytest.raises(InvalidInputError):
        DunningSchedule(levels=())
    with pytest.raises(InvalidInputError):
        DunningSchedule(levels=(DunningLevel(level=2, days_overdue=3),))
    with pytest.raises(InvalidInputError):
        DunningLevel(level=0, days_overdue=3)


def test_arrears_rule_blocks_bookings_above_the_threshold() -> None:
    a = account()
    rule = ArrearsRule(threshold=Money.of("30"))
    assert arrears(a, today=DUE) == Money.zero()  # not yet overdue on the due date
    assert arrears(a, today=DUE + timedelta(days=1)) == Money.of("13.40")
    assert not rule.blocks_bookings(a, today=DUE + timedelta(days=1))
    assert rule.blocks_bookings(a, today=DUE + timedelta(days=21))  # 33.40 > 30
    assert not ArrearsRule(threshold=Money.of("30"), grace_days=10).blocks_bookings(
        a, today=DUE + timedelta(days=21)
    )
    assert not ArrearsRule(threshold=Money.of("0"), enabled=False).blocks_bookings(
        a, today=DUE + timedelta(days=200)
    )
    with pytest.raises(InvalidInputError):
        ArrearsRule(threshold=Money.of("-1"))
