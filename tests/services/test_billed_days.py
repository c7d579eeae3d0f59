"""The line a closure over days already invoiced shows the operator (one French line): the
meals and other days, the families, the invoices' months, in French agreement."""

from __future__ import annotations

from datetime import date

from canteen_core.services.billing.billed_days import BilledDaysCancelled, CreditedDay


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
