"""How :func:`canteen_adapters.web.convert.body` builds a body from domain values."""

from __future__ import annotations

import enum

import attrs

from canteen_adapters.web.convert import arguments, body
from canteen_core.domain.money import Money


class Colour(enum.Enum):
    RED = "red"


@attrs.frozen(kw_only=True)
class Thing:
    id: str
    colour: Colour
    price: Money
    days: tuple[int, ...]
    note: str | None = None


@attrs.frozen(kw_only=True)
class ThingOut:
    id: str
    colour: str
    price: str
    days: list[int]
    label: str
    owner: str
    note: str | None = "none"
    extra: int = 0


@attrs.frozen(kw_only=True)
class Owner:
    owner: str
    id: str


def test_fields_are_copied_by_name_as_json_values_and_given_ones_win() -> None:
    thing = Thing(id="t1", colour=Colour.RED, price=Money.of("3.1"), days=(1, 2))
    out = body(ThingOut, thing, Owner(owner="o", id="other"), label="Chose", note="given")
    # The first source with the name wins; enums, amounts and tuples become JSON values.
    assert out == ThingOut(
        id="t1",
        colour="red",
        price="3.10",
        days=[1, 2],
        label="Chose",
        owner="o",
        note="given",
        extra=0,
    )


def test_a_request_body_is_the_keyword_arguments_it_mirrors() -> None:
    assert arguments(Owner(owner="o", id="x")) == {"owner": "o", "id": "x"}
