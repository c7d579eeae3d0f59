"""Days already invoiced: the days an invoice charged and its credit notes did not credit
yet (one computation for the quotient guard, the attendance certificate and the closure
preview), and the line a closure over such days shows the operator (one French line): the
meals and other days, the families, the invoices' months, in French agreement."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.charging import ChargeRule
from canteen_core.domain.invoicing import CreditNote, Invoice, InvoiceLine
from canteen_core.domain.money import Money
from canteen_core.services.billing.billed_days import (
    BilledDaysCancelled,
    CreditedDay,
    net_billed_days,
    uncredited_days,
)

MONDAY = date(2023, 9, 4)


def _line(
    days: tuple[date, ...],
    *,
    child: str | None = "c1",
    service: str = "lunch",
    unit: str | None = None,
    rule: ChargeRule | None = ChargeRule.PRESENT,
) -> InvoiceLine:
    return InvoiceLine.build(
        child_id=child,
        service_id=service,
        description="repas",
        quantity=len(days),
        unit_price=Money.of("1.00"),
        days=days,
        unit=unit,
        rule=rule,
    )


def _invoice(n: int, lines: tuple[InvoiceLine, ...]) -> Invoice:
    return Invoice(
        id=f"inv-{n}",
        number=f"2023-{n:06d}",
        issuer_id="regie",
        household_id="h1",
        label=f"FACTURE {n}",
        mode="postpaid",
        billing_key=f"key-{n}",
        period_start=MONDAY,
        period_end=MONDAY + timedelta(days=26),
        issue_date=date(2023, 10, 2),
        due_date=date(2023, 10, 17),
        payment_open_date=date(2023, 10, 2),
        lines=lines,
        total=Money.sum((line.amount for line in lines), "EUR"),
    )


def _note(n: int, invoice_id: str, lines: tuple[InvoiceLine, ...]) -> CreditNote:
    return CreditNote(
        id=f"cn-{n}",
        number=f"AV-2023-{n:06d}",
        issuer_id="regie",
        household_id="h1",
        invoice_id=invoice_id,
        issue_date=date(2023, 10, 3),
        reason="Régularisation",
        lines=lines,
        total=Money.sum((line.amount for line in lines), "EUR"),
    )


_lines = st.lists(
    st.builds(
        _line,
        st.sets(st.sampled_from([MONDAY + timedelta(days=n) for n in range(4)]), min_size=1).map(
            lambda days: tuple(sorted(days))
        ),
        child=st.sampled_from(["c1", "c2", None]),
        service=st.sampled_from(["lunch", "judo"]),
        unit=st.sampled_from([None, None, "half_hour"]),
        rule=st.sampled_from([ChargeRule.PRESENT, ChargeRule.LATE_PICKUP]),
    ),
    min_size=1,
    max_size=4,
).map(tuple)


@given(
    st.lists(_lines, min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 3), _lines), max_size=4),
    st.booleans(),
)
def test_a_day_stands_on_an_invoice_while_charged_more_times_than_credited_on_it(
    charged: list[tuple[InvoiceLine, ...]],
    credited: list[tuple[int, tuple[InvoiceLine, ...]]],
    by_unit: bool,
) -> None:
    invoices = [_invoice(n, lines) for n, lines in enumerate(charged)]
    notes = [_note(n, f"inv-{i}", lines) for n, (i, lines) in enumerate(credited)]

    def days(lines: tuple[InvoiceLine, ...]) -> Counter[tuple[str, str, date]]:
        return Counter(
            (line.child_id, line.service_id, day)
            for line in lines
            if line.child_id is not None
            and line.rule is not ChargeRule.LATE_PICKUP  # late pick-up fees are not days
            and (by_unit or line.unit is None)
            for day in line.days
        )

    expected: dict[str, dict[tuple[str, str], set[date]]] = {}
    for invoice in invoices:
        times = days(invoice.lines)
        for note in notes:
            if note.invoice_id == invoice.id:
                times.subtract(days(note.lines))
        for (child, service, day), count in times.items():
            if count > 0:
                expected.setdefault(invoice.id, {}).setdefault((child, service), set()).add(day)

    assert uncredited_days(invoices, notes, by_unit=by_unit) == expected
    if by_unit:
        union: dict[tuple[str, str], set[date]] = {}
        for found in expected.values():
            for key, found_days in found.items():
                union.setdefault(key, set()).update(found_days)
        assert dict(net_billed_days(invoices, notes, date.min, date.max)) == union


def test_a_day_credited_then_charged_again_stands_on_the_invoice_charging_it_again() -> None:
    tuesday = MONDAY + timedelta(days=1)
    september = _invoice(1, (_line((MONDAY, tuesday)),))
    october = _invoice(2, (_line((tuesday,)),))
    credit = _note(1, september.id, (_line((tuesday,)),))

    assert uncredited_days([september, october], [credit]) == {
        "inv-1": {("c1", "lunch"): {MONDAY}},
        "inv-2": {("c1", "lunch"): {tuesday}},
    }
    assert uncredited_days([september, october], [credit], first=tuesday) == {
        "inv-2": {("c1", "lunch"): {tuesday}}
    }
    assert net_billed_days([september, october], [credit], tuesday, tuesday) == {
        ("c1", "lunch"): {tuesday}
    }


def test_activities_billed_by_their_unit_are_days_unless_left_out() -> None:
    judo = _invoice(1, (_line((MONDAY,), service="judo", unit="half_hour"),))

    assert uncredited_days([judo], []) == {"inv-1": {("c1", "judo"): {MONDAY}}}
    assert uncredited_days([judo], [], by_unit=False) == {}


def _day(
    household: str, day: date, *, number: str = "2023-000001", meal: bool = True
) -> CreditedDay:
    return CreditedDay(
        household_id=household,
        enrollment_id=f"{household}-rs",
        day=day,
        invoice_id=f"invoice:R:{number}",
        invoice_number=number,
        meal=meal,
    )


def test_nothing_invoiced_says_nothing() -> None:
    assert BilledDaysCancelled().summary_fr == ""
    assert BilledDaysCancelled().count == 0


def test_one_meal_is_singular() -> None:
    one = BilledDaysCancelled(days=(_day("h1", date(2023, 9, 12)),))
    assert one.summary_fr == (
        "1 repas déjà facturé (1 famille, facture de septembre 2023) sera crédité à la "
        "prochaine facturation"
    )


def test_months_families_and_activities_are_each_named() -> None:
    billed = BilledDaysCancelled(
        days=(
            _day("h1", date(2023, 9, 29)),
            _day("h1", date(2023, 10, 2), number="2023-000010"),
            _day("h2", date(2023, 10, 2), number="2023-000011", meal=False),
        )
    )
    assert billed.household_ids == ("h1", "h2")
    assert billed.invoice_numbers == ("2023-000001", "2023-000010", "2023-000011")
    assert billed.months == (date(2023, 9, 1), date(2023, 10, 1))
    assert billed.summary_fr == (
        "2 repas et 1 jour d'activité déjà facturés (2 familles, factures de septembre 2023 et "
        "octobre 2023) seront crédités à la prochaine facturation"
    )


def test_a_month_starting_with_a_vowel_is_elided() -> None:
    billed = BilledDaysCancelled(
        days=tuple(_day(f"h{n}", date(2024, 4, 2)) for n in range(1, 1235))
    )
    assert billed.summary_fr == (
        "1 234 repas déjà facturés (1 234 familles, facture d'avril 2024) seront "
        "crédités à la prochaine facturation"
    )
