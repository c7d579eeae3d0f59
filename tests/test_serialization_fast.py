"""Structuring tries a fast converter first: the same objects as the detailed converter for
valid data, and for bad data the same :class:`InvalidInputError` (path, message) as before."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _calendars import CALENDAR, HOUSEHOLD, OTHER, PREVIOUS_DAY_11, THURSDAY_10, enrollment
from canteen_core.config.serialization import compiled, converter, fast, structure, unstructure
from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.charging import ChargeRule
from canteen_core.domain.deadlines import CutOffPolicy, DayOfPreviousMonth, FixedDelay
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.events import PaymentReceived
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import InvoiceLine
from canteen_core.domain.money import Money
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    Pricing,
    TariffCategory,
)
from canteen_core.synthetic import synthetic_city


def _corpus() -> list[tuple[Any, Any]]:
    """Valid objects of the stored kinds, each with the type it is structured as."""
    town = synthetic_city(6, calendar=CALENDAR, seed=3)
    attendance = [
        (item, type(item))
        for items in town.attendance(date(2023, 9, 4), date(2023, 10, 20))
        for item in items
    ]
    kinds = {type(item) for item, _ in attendance}
    first_of_kind = [next(pair for pair in attendance if pair[1] is kind) for kind in kinds]
    policies: list[CutOffPolicy] = [
        THURSDAY_10,
        PREVIOUS_DAY_11,
        FixedDelay(amount=48, unit="hours"),
        DayOfPreviousMonth(day_of_month=20, at=time(12, 0)),
    ]
    line = InvoiceLine.build(
        child_id="c1",
        child_name="Alban",
        service_id="rs",
        category=TariffCategory.RESIDENT_CHILD,
        description="Restauration scolaire – repas pris",
        quantity=2,
        unit_price=Money.of("3.10"),
        days=[date(2023, 9, 4), date(2023, 9, 5)],
        rule=ChargeRule.PRESENT,
        grid_id="g1",
    )
    payment = PaymentReceived(
        occurred_at=datetime(2023, 10, 3, 12, 0, tzinfo=UTC),
        payment_id="p1",
        household_id="h1",
        amount=Money.of("24.80"),
        method="card",
        invoice_ids=("i1", "i2"),
    )
    pricings: list[Pricing] = [
        FlatPricing(price=Money.of("3.10")),
        BracketPricing.from_thresholds(["1.00", "3.05", "3.10"], [700, 1000]),
        EffortRatePricing.of("0.36", minimum="2.60", maximum="4.50"),
    ]
    return [
        (HOUSEHOLD, Household),
        (OTHER, Household),
        *[(household, Household) for household in town.households[:3]],
        *[(item, Enrollment) for item in town.enrollments[:3]],
        *[
            (enrollment(booking=policy, cancellation=FixedDelay(amount=2, unit="days")), Enrollment)
            for policy in policies
        ],
        *[(policy, CutOffPolicy) for policy in policies],
        *[(pricing, Pricing) for pricing in pricings],
        (CALENDAR, ServiceCalendar),
        *first_of_kind,
        (
            ReservationBook(enrollment_id="e1", origin=date(2023, 9, 4), bits=0b1011),
            ReservationBook,
        ),
        (line, InvoiceLine),
        (payment, PaymentReceived),
        (Actor.guardian("u1", "h2", "h1"), Actor),
        (Money.of("13.40"), Money),
    ]


CORPUS = _corpus()
assert {AttendanceRecord, AbsenceJustification} <= {cls for _, cls in CORPUS}


def _document(index: int) -> tuple[Any, Any, Any]:
    obj, cls = CORPUS[index]
    return obj, cls, json.loads(json.dumps(unstructure(obj, cls)))  # through real JSON text


def _shape(value: Any) -> Any:
    """``value`` down to its leaves, each with its type (``True`` is not ``1``), sets sorted."""
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        return (type(value), tuple(_shape(getattr(value, field.name)) for field in fields))
    if isinstance(value, set | frozenset):
        return (type(value), sorted((_shape(item) for item in value), key=repr))
    if isinstance(value, dict):
        return (type(value), sorted(((_shape(k), _shape(v)) for k, v in value.items()), key=repr))
    if isinstance(value, list | tuple):
        return (type(value), [_shape(item) for item in value])
    return (type(value), repr(value))


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call gives: its value (every leaf with its type), or its error."""
    try:
        value = call()
    except Exception as error:
        return ("error", type(error), str(error), getattr(error, "path", None))
    return ("value", _shape(value))


def _before(data: Any, cls: Any) -> tuple[Any, ...]:
    """The outcome of structuring as before: the detailed converter alone."""
    return _outcome(lambda: converter._structure_detailed(data, cls))


indexes = st.integers(0, len(CORPUS) - 1)


@given(index=indexes)
def test_valid_documents_give_equal_objects_both_ways(index: int) -> None:
    obj, cls, data = _document(index)
    fast = converter._FAST_CONVERTER.structure(copy.deepcopy(data), cls)
    detailed = converter._CONVERTER.structure(copy.deepcopy(data), cls)
    assert fast == detailed == obj
    assert type(fast) is type(detailed) is type(obj)
    assert _shape(fast) == _shape(detailed) == _shape(obj)
    assert _shape(structure(data, cls)) == _shape(obj)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every node below ``data``, as the keys and indexes leading to it."""
    children: Any = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in children:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _node(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


#: Values that look valid somewhere (dates, times, enum values, amounts) and some that never are.
_PLAUSIBLE = st.sampled_from(
    [
        "2023-09-04",
        "2023-02-30",
        "2023-09-04T08:00:00+00:00",
        "2023-09-04T08:00:00",
        "11:30:00",
        "PT3600S",
        "13.40",
        "1,5",
        "NaN",
        "EUR",
        "standard",
        "refuse",
        "resident_child",
        "WeeklyDeadline",
        "FixedDelay",
        "C",
        "75",
        "",
        " ",
        0,
        1,
        -1,
        3,
        True,
        False,
        1.0,
        0.1,
        None,
        [],
        {},
        [0, 1, 3, 4],
        [True, 1],
        {"amount": "1.00", "currency": "EUR"},
        {"type": "Nope"},
    ]
)

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=4,
)


@st.composite
def _changed(draw: st.DrawFn, among: st.SearchStrategy[int] = indexes) -> tuple[Any, Any]:
    """A stored document (of the corpus entries ``among``) with one node replaced, removed,
    or one key added."""
    _, cls, data = _document(draw(among))
    paths = list(_paths(data))
    action = draw(st.sampled_from(["replace", "delete", "add", "swap"]))
    if action == "add" or not paths:
        tables = [path for path in [(), *paths] if isinstance(_node(data, path), dict)]
        table = _node(data, draw(st.sampled_from(tables)))
        table[draw(st.sampled_from(["type", "extra", "id"]) | st.text(max_size=3))] = draw(_JSON)
        return data, cls
    path = draw(st.sampled_from(paths))
    parent = _node(data, path[:-1])
    if action == "delete":
        del parent[path[-1]]
    elif action == "swap":  # a value of the same document: often valid, sometimes not here
        parent[path[-1]] = copy.deepcopy(_node(data, draw(st.sampled_from(paths))))
    else:
        parent[path[-1]] = draw(_PLAUSIBLE | _JSON)
    return data, cls


@given(changed=_changed())
def test_changed_documents_give_the_same_outcome_as_before(changed: tuple[Any, Any]) -> None:
    data, cls = changed
    expected = _before(copy.deepcopy(data), cls)
    assert _outcome(lambda: structure(data, cls)) == expected


#: The corpus entries of the classes given compiled hooks (households, attendance).
COMPILED = [index for index, (_, cls) in enumerate(CORPUS) if cls in compiled._documents()]


@settings(max_examples=400)
@given(changed=_changed(st.sampled_from(COMPILED)))
def test_changed_documents_of_compiled_hooks_give_the_same_outcome(
    changed: tuple[Any, Any],
) -> None:
    data, cls = changed
    expected = _before(copy.deepcopy(data), cls)
    assert _outcome(lambda: structure(data, cls)) == expected


def test_compiled_hooks_read_households_and_attendance_and_leave_subclasses() -> None:
    for cls in compiled._documents():
        hook = converter._FAST_CONVERTER.get_structure_hook(cls)
        assert hook.__code__.co_filename == f"<compiled structure {cls.__qualname__}>"
    for index in COMPILED:
        obj, cls, data = _document(index)
        assert _shape(converter._FAST_CONVERTER.structure(data, cls)) == _shape(obj)

    @attrs.frozen(kw_only=True)
    class Home(Household):
        pass

    data = json.loads(json.dumps(unstructure(HOUSEHOLD)))
    assert type(structure(data, Home)) is Home
    assert type(structure(data, Household)) is Household


@given(roles=st.lists(st.sampled_from(["staff", "guardian", "bogus", 3]), max_size=4))
def test_one_shot_iterators_are_read_once(roles: list[Any]) -> None:
    """The fast converter leaves iterators to the detailed one before reading them."""

    def fresh() -> dict[str, Any]:
        return {"user_id": "u1", "roles": iter(roles), "household_ids": (h for h in ["h1"])}

    assert _outcome(lambda: structure(fresh(), Actor)) == _before(fresh(), Actor)
    items = [{"amount": "1.00", "currency": "EUR"}, *({"amount": role} for role in roles)]
    assert _outcome(lambda: structure(iter(items), tuple[Money, ...])) == _before(
        iter(copy.deepcopy(items)), tuple[Money, ...]
    )


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        ("nope", Household),
        (None, Enrollment),
        ([], Money),
        ({"amount": "1.00", "currency": "EUR"}, list[Money]),
        ([{"amount": "1"}, {"amount": 0.5}], list[Money]),
        ({"weekday": 3, "at": "10:00:00", "weeks_before": 1}, CutOffPolicy),
        ({"type": "Nope"}, CutOffPolicy),
        ("2023-09-04", date),
        ("4.50", Decimal),
    ],
)
def test_top_level_values_give_the_same_outcome_as_before(data: Any, cls: Any) -> None:
    assert _outcome(lambda: structure(copy.deepcopy(data), cls)) == _before(data, cls)


@pytest.mark.parametrize("cls", [Service, Site, CutOffPolicy, ServiceCalendar])
def test_equal_stored_values_of_shared_classes_are_one_object(cls: Any) -> None:
    stored = enrollment(booking=FixedDelay(amount=2, unit="days"))
    field = {Service: "service", Site: "site", CutOffPolicy: "booking_policy"}.get(cls, "calendar")
    data = unstructure(stored)[field]
    first = structure(json.loads(json.dumps(data)), cls)
    assert first == getattr(stored, field)
    assert structure(json.loads(json.dumps(data)), cls) is first
    assert structure(json.loads(json.dumps(unstructure(stored))), Enrollment).site is (
        structure(json.loads(json.dumps(unstructure(stored))), Enrollment).site
    )
    bad = {**data, "id": 5} if cls in (Service, Site) else {**data, "extra": 1}
    with pytest.raises(InvalidInputError):
        structure(bad, cls)


def test_only_frozen_classes_are_shared() -> None:
    @attrs.define
    class Mutable:
        name: str

    assert fast._is_frozen(Service)
    assert all(map(fast._is_frozen, fast._concrete_subclasses(CutOffPolicy)))
    assert not fast._is_frozen(Mutable)
    assert not fast._is_frozen(dict)


def test_a_subclass_of_a_shared_class_keeps_its_own_hook() -> None:
    @attrs.frozen(kw_only=True)
    class Kitchen(Site):
        pass

    data = unstructure(enrollment().site)
    assert type(structure(dict(data), Site)) is Site
    assert type(structure(dict(data), Kitchen)) is Kitchen
    assert type(structure(dict(data), Site)) is Site
