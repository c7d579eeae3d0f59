"""Periodicities (semaines types) built on dateutil.rrule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.periodicity import Periodicity, Recurrence


def test_every_week_on_school_restaurant_days() -> None:
    pattern = Periodicity(weekdays="lun,mar,jeu,ven", start=date(2023, 9, 4), end=date(2023, 9, 15))
    assert pattern.days() == (
        date(2023, 9, 4),
        date(2023, 9, 5),
        date(2023, 9, 7),
        date(2023, 9, 8),
        date(2023, 9, 11),
        date(2023, 9, 12),
        date(2023, 9, 14),
        date(2023, 9, 15),
    )
    assert pattern.describe() == (
        "lundi, mardi, jeudi et vendredi, toutes les semaines, du 04/09/2023 au 15/09/2023"
    )


def test_range_starting_mid_week_and_weekday_spellings() -> None:
    pattern = Periodicity(
        weekdays=["mon", 3, "vendredi"], start=date(2023, 9, 6), end=date(2023, 9, 11)
    )
    assert pattern.days() == (date(2023, 9, 7), date(2023, 9, 8), date(2023, 9, 11))


def test_every_other_week_is_anchored() -> None:
    pattern = Periodicity(
        weekdays="lun",
        start=date(2023, 9, 4),
        end=date(2023, 10, 9),
        recurrence="une semaine sur deux",
        anchor=date(2023, 9, 13),  # week 37
    )
    assert pattern.days() == (date(2023, 9, 11), date(2023, 9, 25), date(2023, 10, 9))
    default = Periodicity(
        weekdays="lun", start=date(2023, 9, 4), end=date(2023, 10, 9), recurrence="every_other_week"
    )
    assert default.days() == (date(2023, 9, 4), date(2023, 9, 18), date(2023, 10, 2))
    assert "une semaine sur deux dès la semaine 37" in pattern.describe()


def test_even_and_odd_iso_weeks_across_a_53_week_year() -> None:
    odd = Periodicity(
        weekdays="lun", start=date(2026, 12, 1), end=date(2027, 1, 31), recurrence="odd_weeks"
    )
    # 2026 has an ISO week 53, followed by week 1: two odd weeks in a row.
    assert [(d, d.isocalendar().week) for d in odd.days()] == [
        (date(2026, 12, 14), 51),
        (date(2026, 12, 28), 53),
        (date(2027, 1, 4), 1),
        (date(2027, 1, 18), 3),
    ]
    even = Periodicity(
        weekdays="lun", start=date(2026, 12, 1), end=date(2027, 1, 31), recurrence="semaines paires"
    )
    assert [d.isocalendar().week for d in even.days()] == [50, 52, 2, 4]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekdays": ""},
        {"weekdays": []},
        {"weekdays": "lun,funday"},
        {"weekdays": [7]},
        {"weekdays": "lun", "start": date(2024, 1, 1), "end": date(2023, 12, 31)},
        {"weekdays": "lun", "recurrence": "monthly"},
        {"weekdays": "lun", "recurrence": "every_week", "anchor": date(2023, 9, 4)},
        {"weekdays": "lun", "start": "2023-09-04"},
    ],
)
def test_malformed_periodicities(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"start": date(2023, 9, 4), "end": date(2023, 12, 22), **kwargs}
    with pytest.raises(InvalidInputError):
        Periodicity(**values)  # type: ignore[arg-type]


@given(
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    length=st.integers(0, 120),
    recurrence=st.sampled_from(list(Recurrence)),
    anchor_shift=st.integers(-60, 60),
)
def test_days_agree_with_matches(
    weekdays: frozenset[int], start: date, length: int, recurrence: Recurrence, anchor_shift: int
) -> None:
    anchor = (
        start + timedelta(days=anchor_shift) if recurrence is Recurrence.EVERY_OTHER_WEEK else None
    )
    pattern = Periodicity(
        weekdays=weekdays,
        start=start,
        end=start + timedelta(days=length),
        recurrence=recurrence,
        anchor=anchor,
    )
    days = set(pattern.days())
    for offset in range(length + 1):
        day = start + timedelta(days=offset)
        assert (day in days) == pattern.matches(day)
    assert all(day.weekday() in weekdays for day in days)
    if recurrence is Recurrence.EVERY_WEEK:
        assert len(days) == sum(
            (start + timedelta(days=i)).weekday() in weekdays for i in range(length + 1)
        )
