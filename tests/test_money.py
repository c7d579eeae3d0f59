from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core import InvalidInputError, Money

amounts = st.decimals(min_value=-10_000, max_value=10_000, places=4, allow_nan=False)


def test_float_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="float"):
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
