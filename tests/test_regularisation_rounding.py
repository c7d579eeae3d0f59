"""Régularisation credits never credit more than an invoice line (#14, régularisation gaps):
with a unit price in fractions of a cent (an effort-rate tariff gives 3.125 EUR), crediting
the days of a line group by group, over several runs, adds up to at most the line's amount,
and to exactly it once every day is credited."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.invoicing import InvoiceLine
from canteen_core.domain.money import Money
from canteen_core.domain.regularisation import _credit_lines

FIRST = date(2023, 9, 4)


@given(
    thousandths=st.integers(min_value=20, max_value=20_000),
    groups=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=8),
)
def test_credits_of_a_line_add_up_to_at_most_its_amount(
    thousandths: int, groups: list[int]
) -> None:
    price = Money.of(Decimal(thousandths) / 1000)
    days = [FIRST + timedelta(days=i) for i in range(sum(groups))]
    line = InvoiceLine.build(
        service_id="rs", description="Repas", quantity=len(days), unit_price=price, days=days
    )
    credited = Money.of("0")
    done = 0
    for size in groups:
        lines = _credit_lines(line, days[done : done + size], done, "Régularisation")
        assert sorted(d for item in lines for d in item.days) == days[done : done + size]
        credited += Money.sum((item.amount for item in lines), "EUR")
        done += size
        assert credited <= line.amount
    assert credited == line.amount


def test_the_cent_the_old_rounding_credited_too_much() -> None:
    """8 days at 3.125 EUR: 25.00 EUR; 3 then 5 days credited used to give 9.38 + 15.63."""
    days = [FIRST + timedelta(days=i) for i in range(8)]
    line = InvoiceLine.build(
        service_id="rs", description="Repas", quantity=8, unit_price=Money.of("3.125"), days=days
    )
    first = _credit_lines(line, days[:3], 0, "Régularisation")
    second = _credit_lines(line, days[3:], 3, "Régularisation")
    amounts = [item.amount for item in (*first, *second)]
    assert Money.sum(amounts, "EUR") == Money.of("25.00")
    assert [item.quantity for item in second] == [4, 1]  # the last day takes the cent off
