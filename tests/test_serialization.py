"""The one converter: JSON-compatible output, exact round trips, bad data named by its path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _calendars import HOUSEHOLD, PREVIOUS_DAY_11, THURSDAY_10, enrollment
from canteen_core.config.serialization import dumps, loads, shared_calendars, structure, unstructure
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.deadlines import CutOffPolicy, DayOfPreviousMonth, FixedDelay
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.events import PaymentReceived
from canteen_core.domain.families import Child, Diet, Household
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import BracketPricing, EffortRatePricing, FlatPricing, Pricing


def _round_trip(obj: Any, cls: type[Any]) -> Any:
    data = json.loads(json.dumps(unstructure(obj)))  # through real JSON text
    back = structure(data, cls)
    assert back == obj
    return data


def test_conventions() -> None:
    assert unstructure(Money.of("13.4")) == {"amount": "13.4", "currency": "EUR"}
    assert unstructure(Decimal("0.10")) == "0.10"
    assert unstructure(date(2023, 9, 4)) == "2023-09-04"
    paris = timezone(timedelta(hours=2))
    assert unstructure(datetime(2023, 9, 4, 10, 0, tzinfo=paris)) == "2023-09-04T10:00:00+02:00"
    assert unstructure(time(10, 30)) == "10:30:00"
    assert unstructure(timedelta(hours=1, microseconds=500)) == "PT3600.0005S"
    assert unstructure(Diet.NO_PORK) == "no_pork"
    assert unstructure(frozenset({"b", "c", "a"})) == ["a", "b", "c"]
    actor = Actor.guardian("u1", "h2", "h1")
    assert unstructure(actor) == {
        "user_id": "u1",
        "roles": ["guardian"],
        "household_ids": ["h1", "h2"],
    }


def test_structured_enums_are_members() -> None:
    actor = structure({"user_id": "u1", "roles": ["staff"], "household_ids": []}, Actor)
    assert actor.roles == frozenset({Role.STAFF})
    assert next(iter(actor.roles)) is Role.STAFF
    assert structure("vegetarian", Diet) is Diet.VEGETARIAN


def test_household_round_trip() -> None:
    data = _round_trip(HOUSEHOLD, Household)
    assert data["quotients"] == [] or isinstance(data["quotients"][0]["value"], str)


@pytest.mark.parametrize(
    "policy",
    [
        THURSDAY_10,
        PREVIOUS_DAY_11,
        FixedDelay(amount=48, unit="hours"),
        DayOfPreviousMonth(day_of_month=20, at=time(12, 0)),
    ],
)
def test_enrollments_with_every_cut_off_policy(policy: CutOffPolicy) -> None:
    enrolled = enrollment(booking=policy, cancellation=FixedDelay(amount=2, unit="days"))
    data = _round_trip(enrolled, Enrollment)
    assert data["booking_policy"]["type"] == type(policy).__name__


@pytest.mark.parametrize(
    "pricing",
    [
        FlatPricing(price=Money.of("3.10")),
        BracketPricing.from_thresholds(["1.00", "3.05", "3.10"], [700, 1000]),
        EffortRatePricing.of("0.36", minimum="2.60", maximum="4.50"),
    ],
)
def test_pricings_are_tagged(pricing: Pricing) -> None:
    data = unstructure(pricing, Pricing)
    assert data["type"] == type(pricing).__name__
    assert structure(data, Pricing) == pricing  # type: ignore[arg-type]


def test_dumps_and_loads() -> None:
    event = PaymentReceived(
        occurred_at=datetime(2023, 10, 3, 12, 0, tzinfo=UTC),
        payment_id="p1",
        household_id="h1",
        amount=Money.of("24.80"),
        method="card",
        invoice_ids=("i1",),
    )
    text = dumps(event)
    assert '"amount":{"amount":"24.80","currency":"EUR"}' in text
    assert loads(text, PaymentReceived) == event
    with pytest.raises(InvalidInputError, match="JSON invalide"):
        loads("{", PaymentReceived)


def _bad(data: dict[str, Any], cls: type[Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        structure(data, cls)
    return info.value


def test_bad_fields_are_named_by_their_path() -> None:
    good = unstructure(HOUSEHOLD)

    def changed(path: list[Any], value: Any) -> dict[str, Any]:
        data = json.loads(json.dumps(good))
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return data

    cases = [
        (["children", 1, "birth_date"], "2017-13-01", "children[1].birth_date", "ISO 8601"),
        (["children", 0, "diet"], "halal", "children[0].diet", "valeur inconnue « halal »"),
        (["payer", "email"], "nope", "payer.email", "adresse électronique invalide « nope »"),
        (["payer", "nickname"], "x", "payer.nickname", "champ inconnu"),
        (["children", 0, "pai"], "yes", "children[0].pai", "true ou false"),
        (["id"], 42, "id", "du texte est attendu, pas un nombre entier"),
        (["children"], "all of them", "children", "une liste est attendue, pas du texte"),
    ]
    for path, value, where, message in cases:
        error = _bad(changed(path, value), Household)
        assert error.path == where, (path, error)
        assert message in str(error)
    missing = json.loads(json.dumps(good))
    del missing["payer"]["last_name"]
    assert _bad(missing, Household).path == "payer.last_name"


def test_floats_and_naive_datetimes_are_refused() -> None:
    assert _bad({"amount": 0.1, "currency": "EUR"}, Money).path == "amount"
    data = {
        "occurred_at": "2023-10-03T12:00:00",
        "payment_id": "p1",
        "household_id": "h1",
        "amount": {"amount": "1.00", "currency": "EUR"},
        "method": "card",
    }
    error = _bad(data, PaymentReceived)
    assert (error.path, "décalage UTC" in str(error)) == ("occurred_at", True)
    with pytest.raises(InvalidInputError):
        unstructure(datetime(2023, 1, 1))


@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=2),
    birth=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    diet=st.sampled_from(Diet),
    pai=st.booleans(),
)
def test_round_trips_are_exact(amount: Decimal, birth: date, diet: Diet, pai: bool) -> None:
    assert structure(unstructure(Money.of(amount)), Money) == Money.of(amount)
    child = Child(id="c", first_name="A", last_name="B", birth_date=birth, diet=diet, pai=pai)
    assert structure(json.loads(json.dumps(unstructure(child))), Child) == child


def test_validators_of_the_model_still_apply() -> None:
    data = unstructure(attrs.evolve(HOUSEHOLD, co_representative=None))
    data["co_representative"] = data["payer"]
    error = _bad(data, Household)
    assert "le second responsable doit être une autre personne que le payeur" in str(error)


def test_shared_calendars_give_the_same_data_once_per_calendar_service_site_policy() -> None:
    second = enrollment()
    first = attrs.evolve(second, calendar=attrs.evolve(second.calendar))  # equal, not the same
    other = attrs.evolve(second, id="other")
    plain = [unstructure(item) for item in (first, second, other)]
    with shared_calendars():
        shared = [unstructure(item) for item in (first, second, other)]
        with shared_calendars():  # a nested block starts its own table
            inner = unstructure(first)
    assert shared == plain
    assert shared[0]["calendar"] is not shared[1]["calendar"]  # two calendar objects
    assert shared[1]["calendar"] is shared[2]["calendar"]  # one object, converted once
    for field in ("service", "site", "booking_policy", "cancellation_policy"):
        assert shared[0][field] is shared[2][field]  # the same objects in all three
    assert inner["calendar"] is not shared[0]["calendar"]
    assert unstructure(other)["calendar"] is not unstructure(other)["calendar"]
    assert structure(shared[2], Enrollment) == other


def test_equal_stored_calendars_are_one_object_and_bad_ones_still_fail() -> None:
    data = json.loads(json.dumps(unstructure(enrollment().calendar)))
    again = json.loads(json.dumps(data))
    calendar = structure(data, type(enrollment().calendar))
    assert structure(again, type(calendar)) is calendar
    year = {**again["school_year"], "start_year": float(again["school_year"]["start_year"])}
    bad = {**again, "school_year": year}
    with pytest.raises(InvalidInputError, match="start_year"):
        structure(bad, type(calendar))
    weekdays = {**again, "open_weekdays": [True, *again["open_weekdays"][1:]]}
    with pytest.raises(InvalidInputError):
        structure(weekdays, type(calendar))


def test_an_already_built_calendar_is_taken_as_it_is() -> None:
    # The SQL storage keeps calendars apart and puts its cached instance into the data.
    item = enrollment()
    data = json.loads(json.dumps(unstructure(item)))
    data["calendar"] = item.calendar
    built = structure(data, Enrollment)
    assert built == item
    assert built.calendar is item.calendar
    data = json.loads(json.dumps(unstructure(item)))
    data["calendar"] = HOUSEHOLD  # any other object is still refused, with its path
    with pytest.raises(InvalidInputError, match="ServiceCalendar attendu") as info:
        structure(data, Enrollment)
    assert info.value.path == "calendar"


@pytest.mark.parametrize("data", [3, "x", [1], None])
def test_a_non_object_is_refused_with_a_clear_message_also_for_unions(data: object) -> None:
    from canteen_core.domain.families import Household
    from canteen_core.domain.tariffs import Pricing

    with pytest.raises(
        InvalidInputError, match=r"une table de champs est attendue, pas "
    ) as household:
        structure(data, Household)
    assert "Household invalide" in str(household.value)
    with pytest.raises(InvalidInputError) as pricing:
        structure(data, Pricing)
    assert "FlatPricing ou BracketPricing ou EffortRatePricing invalide" in str(pricing.value)
    with pytest.raises(InvalidInputError, match="price"):
        structure({"type": "FlatPricing"}, Pricing)
