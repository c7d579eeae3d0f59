"""Invoices and their lines have hand-written unstructure hooks: the same data as the
generated ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from attrs import evolve as attrs_evolve
from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import run_postpaid
from canteen_core.config.serialization import converter as serialization
from canteen_core.config.serialization import invoice_json, structure, unstructure
from canteen_core.domain._unchecked import unchecked
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


#: Texts the default JSON encoder escapes: non-ASCII (accents, astral emoji written as a
#: surrogate pair), quotes, backslashes, control characters, a NUL, lone surrogates.
_TRICKY_TEXTS = [
    "Zoé L'HAŸ-LES-ROSES",
    'a "quoted" \\ back\\slash',
    "tab\there\nnew line\r\x0b\x0c\x1f\x7f",
    "\x00 nul",
    "\ud800 lone high, \udfff lone low",
    "emoji 😀 and 中文",
    "%s %d %% {} : , ] }",
    "\u2028\u2029\ufeff",
]


_unchecked_invoice = unchecked(Invoice)


def _invoice_with(text: str, *, quantity: int = 3, unit: str | None = None) -> Invoice:
    days = [date(2023, 9, 1) + timedelta(days=d) for d in range(quantity)]
    line = InvoiceLine.build(
        child_id=f"child {text}",
        child_name=text,
        service_id=f"service {text}",
        category=TariffCategory.RESIDENT_CHILD,
        description=f"Restauration – {text}",
        quantity=quantity,
        unit_price=Money(Decimal("12345678901234567890.05")),
        days=days,
        rule=ChargeRule.PRESENT,
        grid_id=text,
        unit=unit,
    )
    bare = InvoiceLine.build(
        child_id="c2",
        child_name=None,
        service_id="rs",
        category=None,
        description="Repas",
        quantity=1,
        unit_price=Money(Decimal("0")),
        days=[date(2024, 2, 29)],
    )
    lines = (line, bare)
    return Invoice(
        id=f"invoice:{text}",
        number="2023-000001",
        issuer_id="regie",
        household_id=f"H {text}",
        label=text,
        mode="postpaid",
        billing_key=f"postpaid/{text}",
        period_start=date(2023, 9, 1),
        period_end=date(2023, 9, 30),
        issue_date=date(2023, 10, 2),
        due_date=date(2023, 11, 1),
        payment_open_date=date(2023, 10, 2),
        lines=lines,
        total=Money.sum(item.amount for item in lines),
        payer_name=text,
    )


@pytest.mark.parametrize("text", _TRICKY_TEXTS)
def test_invoice_json_is_the_encoded_unstructured_invoice(text: str) -> None:
    """The stored body is written without building dicts: byte for byte the text of
    ``json.dumps(unstructure(invoice))``, on texts the encoder escapes, a big amount, a line
    without child name, category or rule, an activity line's unit."""
    for invoice in (
        _invoice_with(text),
        _invoice_with(text, quantity=1, unit=text),
        attrs_evolve(_invoice_with(text), payer_name=None),
    ):
        expected = json.dumps(unstructure(invoice))
        assert invoice_json(invoice) == expected
        assert structure(json.loads(expected), Invoice) == invoice


def test_invoice_json_takes_the_generic_path_for_unusual_values() -> None:
    """Values a valid invoice does not hold (a number where a text goes, a quantity that is a
    bool) are written as the generic path writes them."""
    invoice = _invoice_with("x")
    odd_line = unchecked(InvoiceLine)(
        **{**attrs.asdict(invoice.lines[1], recurse=False), "quantity": True}
    )
    unusual = [
        _unchecked_invoice(**{**attrs.asdict(invoice, recurse=False), "payer_name": 42}),
        _unchecked_invoice(
            **{**attrs.asdict(invoice, recurse=False), "lines": (invoice.lines[0], odd_line)}
        ),
    ]
    for item in unusual:
        assert invoice_json(item) == json.dumps(unstructure(item))
    assert '"payer_name": 42' in invoice_json(unusual[0])
    assert '"quantity": true' in invoice_json(unusual[1])


@given(text=st.text(min_size=1).filter(str.strip), quantity=st.integers(1, 40))
def test_invoice_json_equals_the_generic_path_on_any_text(text: str, quantity: int) -> None:
    invoice = _invoice_with(text, quantity=quantity)
    assert invoice_json(invoice) == json.dumps(unstructure(invoice))
