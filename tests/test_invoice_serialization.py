"""Invoice lines have a hand-written unstructure hook: the same data as the generated one."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core import serialization
from canteen_core.charging import ChargeRule
from canteen_core.invoicing import InvoiceLine
from canteen_core.money import Money
from canteen_core.serialization import structure, unstructure
from canteen_core.tariffs import TariffCategory


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


def test_the_hook_is_registered() -> None:
    hook = serialization._CONVERTER.get_unstructure_hook(InvoiceLine)
    assert hook.__name__ == "unstructure_line"
