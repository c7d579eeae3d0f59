from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core import InvalidInputError, Money
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.money import (
    DEFAULT_PAYMENT_CEILING,
    MoneySettings,
    format_number_fr,
    parse_amount,
    parse_decimal,
)

amounts = st.decimals(min_value=-10_000, max_value=10_000, places=4, allow_nan=False)


def test_float_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="virgule flottante"):
        Money.of(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        Money.of(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", ""])
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError):
        Money.of(text)


def test_currency_mismatch_raises() -> None:
    with pytest.raises(InvalidInputError, match="currency"):
        Money.of("1", "EUR") + Money.of("1", "CHF")
    with pytest.raises(InvalidInputError):
        Money.of("1", "eur")


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [("2.675", "2.68"), ("2.665", "2.67"), ("-2.675", "-2.68"), ("0.005", "0.01"), ("1", "1.00")],
)
def test_rounding_is_half_up_to_the_cent(raw: str, rounded: str) -> None:
    assert Money.of(raw).rounded().amount == Decimal(rounded)


def test_french_format() -> None:
    assert Money.of("13.4").format_fr() == "13,40 €"
    assert Money.of("1234.5").format_fr() == "1 234,50 €"
    assert Money.of("-3.05").format_fr() == "-3,05 €"
    assert Money.of("1234.5").cents == 123450


@given(amounts, amounts)
def test_addition_is_exact_and_commutative(a: Decimal, b: Decimal) -> None:
    assert (Money.of(a) + Money.of(b)).amount == a + b
    assert Money.of(a) + Money.of(b) == Money.of(b) + Money.of(a)
    assert (Money.of(a) - Money.of(a)).is_zero


@given(st.lists(amounts, max_size=20))
def test_sum_of_rounded_items_is_rounded(values: list[Decimal]) -> None:
    total = Money.sum(Money.of(v).rounded() for v in values)
    assert total == total.rounded()


# -- amounts typed by people: one parser ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 000,00", "1000.00"),
        ("1\u00a0000,00", "1000.00"),  # no-break space
        ("1\u202f000,00", "1000.00"),  # narrow no-break space (what babel writes)
        ("1000.00", "1000.00"),
        ("12,5", "12.5"),
        ("13,40 €", "13.40"),
        ("1 234 567,89", "1234567.89"),
    ],
)
def test_parse_amount_reads_french_and_english(text: str, expected: str) -> None:
    assert parse_amount(text, ceiling=None).amount == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["1e9", "1E3", "NaN", "Infinity", "", "1,000.50", "10 0000", "1 00", "12,345", "dix"]
)
def test_parse_amount_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidInputError, match="amount: ") as caught:
        parse_amount(text)
    assert "Decimal" not in str(caught.value)
    assert "class" not in str(caught.value)


def test_parse_amount_has_a_ceiling_with_an_explicit_override() -> None:
    with pytest.raises(RuleViolationError, match="dépasse le plafond de 10 000,00 €"):
        parse_amount("10 000,01")
    assert parse_amount("10 000,00").amount == Decimal("10000.00")
    assert parse_amount("15000", above_ceiling=True).amount == Decimal(15000)
    with pytest.raises(RuleViolationError, match="plafond de 500,00 €"):
        parse_amount("501", ceiling=Decimal(500))


def test_parse_decimal_keeps_more_decimals_but_no_exponent() -> None:
    assert parse_decimal("0,355") == Decimal("0.355")
    assert parse_decimal("812,50") == Decimal("812.50")
    with pytest.raises(InvalidInputError):
        parse_decimal("8e2")


def test_french_numbers_come_from_babel() -> None:
    assert format_number_fr(72675) == "72 675"
    assert format_number_fr(Decimal("0.5")) == "0,5"
    assert Money.of("1234567.891").format_fr() == "1 234 567,89 €"


def test_money_settings_default_and_validation() -> None:
    assert MoneySettings().max_payment == DEFAULT_PAYMENT_CEILING == Decimal(10000)
    assert MoneySettings(max_payment="25000").max_payment == Decimal(25000)
    with pytest.raises(InvalidInputError):
        MoneySettings(max_payment="0")


def test_money_of_a_string_reads_it_as_a_person_writes_it() -> None:
    # Issue 14, item 5: a service given "1e9" recorded 1,000,000,000 EUR.
    assert Money.of("1 000,50").amount == Decimal("1000.50")
    with pytest.raises(InvalidInputError, match="n'est pas un nombre"):
        Money.of("1e9")
    # Stored values keep Python's own notation (str(Decimal) may use an exponent).
    assert Money(amount="1E+2").amount == Decimal(100)
