"""Invoices and their lines have hand-written unstructure hooks: the same data as the
generated ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from attrs import evolve as attrs_evolve
from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import run_postpaid
from canteen_core.config.serialization import converter as serialization
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.charging import ChargeRule
from canteen_core.domain.invoicing import Invoice, InvoiceLine, NumberSequence
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import TariffCategory


@pytest.fixture(scope="module")
def generated() -> object:
    """The converter as it would be without the hand-written hook."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(serialization, "_fast_invoice_lines", lambda converter: None)
        return serialization._make_converter()


@given(
    child=st.none() | st.text(min_size=1),
    category=st.none() | st.sampled_from(TariffCategory),
    rule=st.none() | st.sampled_from(ChargeRule),
    cents=st.integers(0, 10**6),
    days=st.lists(st.dates(date(2023, 1, 1), date(2024, 12, 31)), min_size=1, max_size=5),
    grid=st.none() | st.text(min_size=1),
)
def test_invoice_line_hook_equals_the_generated_one(
    generated: object,
    child: str | None,
    category: TariffCategory | None,
    rule: ChargeRule | None,
    cents: int,
    days: list[date],
    grid: str | None,
) -> None:
    line = InvoiceLine.build(
        child_id=child,
        child_name=None if child is None else f"Name of {child}",
        service_id="rs",
        category=category,
        description="Restauration scolaire – repas pris",
        quantity=len(days),
        unit_price=Money(Decimal(cents) / 100),
        days=days,
        rule=rule,
        grid_id=grid,
    )
    data = unstructure(line)
    expected = generated.unstructure(line)  # type: ignore[attr-defined]
    assert data == expected
    assert list(data) == list(expected)  # same key order: the same stored JSON text
    assert structure(json.loads(json.dumps(data)), InvoiceLine) == line


def test_invoice_hook_equals_the_generated_one(generated: object) -> None:
    from test_invoicing import BRACKETS, fact, household

    days = [date(2023, 9, d) for d in (4, 5, 7)]
    facts = [fact("H1", day) for day in days] + [fact("H1", days[0], child=2, present=None)]
    run = run_postpaid(
        issuer_id="regie",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        facts=facts,
        households=[household("H1", children=2)],
        tariffs=BRACKETS,
        sequence=NumberSequence(issuer_id="regie", year=2023),
        issued_at=datetime(2023, 10, 2, 8, tzinfo=UTC),
    )
    (invoice,) = run.invoices
    for item in (invoice, attrs_evolve(invoice, payer_name=None)):
        data = unstructure(item)
        expected = generated.unstructure(item)  # type: ignore[attr-defined]
        assert data == expected
        assert list(data) == list(expected)
        assert [list(line) for line in data["lines"]] == [list(x) for x in expected["lines"]]
        assert structure(json.loads(json.dumps(data)), Invoice) == item


def test_the_hooks_are_registered() -> None:
    assert serialization._CONVERTER.get_unstructure_hook(InvoiceLine).__name__ == (
        "unstructure_line"
    )
    assert serialization._CONVERTER.get_unstructure_hook(Invoice).__name__ == (
        "unstructure_invoice"
    )
