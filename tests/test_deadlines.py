"""Cut-off policies: exact deadline instants (Europe/Paris, across DST) and explanations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _calendars import CALENDAR, LAST_DAY, PREVIOUS_DAY_11, RENTREE, SERVICE, THURSDAY_10
from canteen_core.domain.clock import PARIS
from canteen_core.domain.deadlines import (
    CutOffPolicy,
    DayOfPreviousMonth,
    FixedDelay,
    OpenDaysBefore,
    WeeklyDeadline,
    WorkingDaysBefore,
    cut_off_policy_kind,
    cut_off_policy_kinds,
    wall_clock,
)
from canteen_core.domain.errors import InvalidInputError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def last_sunday(year: int, month: int) -> date:
    """Computed independently of zoneinfo: the EU switches on the last Sunday."""
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def expected_offset(instant_local: datetime) -> timedelta:
    """+2 h between the last Sunday of March and of October (switch at 01:00 UTC), else +1 h."""
    year = instant_local.year
    start = datetime.combine(last_sunday(year, 3), time(1), tzinfo=UTC)
    end = datetime.combine(last_sunday(year, 10), time(1), tzinfo=UTC)
    return (
        timedelta(hours=2) if start <= instant_local.astimezone(UTC) < end else timedelta(hours=1)
    )


# -- real-regulation examples ------------------------------------------------------------


def test_thursday_10_for_next_week() -> None:
    deadline = THURSDAY_10.deadline(date(2023, 9, 11), CALENDAR)  # Monday of week 37
    assert deadline == datetime(2023, 9, 7, 10, 0, tzinfo=PARIS)
    assert deadline == utc(2023, 9, 7, 8, 0)
    # Every day of week 37 shares that deadline.
    for offset in range(5):
        assert (
            THURSDAY_10.deadline(date(2023, 9, 11) + timedelta(days=offset), CALENDAR) == deadline
        )
    assert THURSDAY_10.is_on_time(date(2023, 9, 11), CALENDAR, utc(2023, 9, 7, 7, 59))
    assert not THURSDAY_10.is_on_time(date(2023, 9, 11), CALENDAR, utc(2023, 9, 7, 8, 0))
    assert not THURSDAY_10.is_on_time(date(2023, 9, 11), CALENDAR, utc(2023, 9, 7, 8, 1))


def test_previous_school_day_after_toussaint_is_before_the_holidays() -> None:
    # Monday 6 November 2023, first day after the Toussaint holidays: due Friday 20 October.
    deadline = PREVIOUS_DAY_11.deadline(date(2023, 11, 6), CALENDAR)
    assert deadline == datetime(2023, 10, 20, 11, 0, tzinfo=PARIS)
    assert PREVIOUS_DAY_11.is_on_time(date(2023, 11, 6), CALENDAR, utc(2023, 10, 20, 8, 59))
    assert not PREVIOUS_DAY_11.is_on_time(date(2023, 11, 6), CALENDAR, utc(2023, 10, 20, 9, 0))


def test_previous_school_day_jumps_wednesday_and_armistice() -> None:
    # Thursday meal: Wednesday has no service, so Tuesday 11:00.
    assert PREVIOUS_DAY_11.deadline(date(2023, 9, 14), CALENDAR) == datetime(
        2023, 9, 14 - 2, 11, tzinfo=PARIS
    )
    # Monday 13 November: Friday 10 November (Saturday 11 is Armistice anyway).
    assert PREVIOUS_DAY_11.deadline(date(2023, 11, 13), CALENDAR) == datetime(
        2023, 11, 10, 11, tzinfo=PARIS
    )
    # Thursday 2 May 2024 after 1 May (Wednesday): Tuesday 30 April.
    assert PREVIOUS_DAY_11.deadline(date(2024, 5, 2), CALENDAR) == datetime(
        2024, 4, 30, 11, tzinfo=PARIS
    )
    # Tuesday 14 May 2024, after Ascension Thursday, bridge Friday and the weekend: Monday 13.
    assert PREVIOUS_DAY_11.deadline(date(2024, 5, 14), CALENDAR) == datetime(
        2024, 5, 13, 11, tzinfo=PARIS
    )
    # Monday 13 May: Tuesday 7 May (8 May Wednesday, 9 Ascension, 10 bridge).
    assert PREVIOUS_DAY_11.deadline(date(2024, 5, 13), CALENDAR) == datetime(
        2024, 5, 7, 11, tzinfo=PARIS
    )


def test_two_open_days_before_and_the_rentree() -> None:
    policy = OpenDaysBefore(days=2, at=time(9, 30))
    assert policy.deadline(date(2023, 9, 7), CALENDAR) == datetime(2023, 9, 4, 9, 30, tzinfo=PARIS)
    # No open day before the rentrée: weekdays are counted (Friday 1 September).
    assert PREVIOUS_DAY_11.deadline(RENTREE, CALENDAR) == datetime(2023, 9, 1, 11, tzinfo=PARIS)
    assert policy.deadline(RENTREE, CALENDAR) == datetime(2023, 8, 31, 9, 30, tzinfo=PARIS)


def test_48_hours_in_calendar_days() -> None:
    policy = FixedDelay.days(2)
    # Thursday 14 September: until Monday 23:59, late from Tuesday 00:00.
    assert policy.deadline(date(2023, 9, 14), CALENDAR) == datetime(2023, 9, 12, tzinfo=PARIS)
    assert policy.is_on_time(date(2023, 9, 14), CALENDAR, utc(2023, 9, 11, 21, 59))
    assert not policy.is_on_time(date(2023, 9, 14), CALENDAR, utc(2023, 9, 11, 22, 0))
    # Across the spring change the wall-clock time stays 00:00.
    assert policy.deadline(date(2024, 4, 2), CALENDAR) == datetime(2024, 3, 31, tzinfo=PARIS)
    assert policy.deadline(date(2024, 4, 2), CALENDAR) == utc(2024, 3, 30, 23, 0)


def test_48_real_hours_shift_by_one_hour_across_dst() -> None:
    policy = FixedDelay.hours(48)
    # Tuesday 2 April 2024 starts 1 April 22:00 UTC (CEST); 48 h before is Saturday 23:00 CET.
    deadline = policy.deadline(date(2024, 4, 2), CALENDAR)
    assert deadline == utc(2024, 3, 30, 22, 0)
    assert deadline.astimezone(PARIS).replace(tzinfo=None) == datetime(2024, 3, 30, 23, 0)
    # Tuesday 29 October 2024 starts 28 Oct 23:00 UTC (CET); 48 h before is Sunday 01:00 CEST.
    deadline = policy.deadline(date(2024, 10, 29), CALENDAR)
    assert deadline == utc(2024, 10, 26, 23, 0)
    assert deadline.astimezone(PARIS).replace(tzinfo=None) == datetime(2024, 10, 27, 1, 0)
    # No DST change in between: plain midnight two days before.
    assert policy.deadline(date(2023, 9, 14), CALENDAR) == datetime(2023, 9, 12, tzinfo=PARIS)


def test_eight_days_at_noon() -> None:
    policy = FixedDelay.days(8, at=time(12))
    assert policy.deadline(date(2023, 9, 14), CALENDAR) == datetime(2023, 9, 6, 12, tzinfo=PARIS)


def test_weekly_deadline_across_dst() -> None:
    # Week of Monday 1 April 2024 (summer time from 31 March): Thursday 28 March, still CET.
    assert THURSDAY_10.deadline(date(2024, 4, 2), CALENDAR) == utc(2024, 3, 28, 9, 0)
    # Week of 8 April: Thursday 4 April 10:00 CEST.
    assert THURSDAY_10.deadline(date(2024, 4, 8), CALENDAR) == utc(2024, 4, 4, 8, 0)
    # Autumn: week of 30 October 2023 -> Thursday 26 October CEST; week of 6 November -> CET.
    assert THURSDAY_10.deadline(date(2023, 10, 30), CALENDAR) == utc(2023, 10, 26, 8, 0)
    assert THURSDAY_10.deadline(date(2023, 11, 6), CALENDAR) == utc(2023, 11, 2, 9, 0)


def test_nth_day_of_previous_month() -> None:
    policy = DayOfPreviousMonth(day_of_month=20, at=time(12))
    assert policy.deadline(date(2023, 10, 5), CALENDAR) == datetime(2023, 9, 20, 12, tzinfo=PARIS)
    assert policy.deadline(date(2024, 1, 8), CALENDAR) == datetime(2023, 12, 20, 12, tzinfo=PARIS)
    end_of_month = DayOfPreviousMonth(day_of_month=31, at=time(23, 59))
    assert end_of_month.deadline(date(2024, 3, 4), CALENDAR) == datetime(
        2024, 2, 29, 23, 59, tzinfo=PARIS
    )
    assert end_of_month.is_on_time(date(2024, 3, 4), CALENDAR, utc(2024, 2, 29, 22, 58))
    assert not end_of_month.is_on_time(date(2024, 3, 4), CALENDAR, utc(2024, 2, 29, 22, 59))


def test_non_existent_and_ambiguous_wall_times() -> None:
    policy = FixedDelay.days(1, at=time(2, 30))
    # 02:30 on 31 March 2024 does not exist: the clock jumps from 02:00 to 03:00.
    assert policy.deadline(date(2024, 4, 1), CALENDAR) == utc(2024, 3, 31, 1, 30)
    # 02:30 on 27 October 2024 happens twice: the first (summer time) is taken.
    assert policy.deadline(date(2024, 10, 28), CALENDAR) == utc(2024, 10, 27, 0, 30)


def test_explanations_in_french_and_english() -> None:
    text = THURSDAY_10.explain(date(2023, 11, 6), CALENDAR)
    assert text == (
        "Pour le lundi 6 novembre 2023, modifiable jusqu'au jeudi 2 novembre 2023 à 10 h 00 "
        "(exclu) : le jeudi à 10 h 00 de la semaine précédente."
    )
    assert "vendredi 20 octobre 2023 à 11 h 00" in PREVIOUS_DAY_11.explain(
        date(2023, 11, 6), CALENDAR
    )
    assert PREVIOUS_DAY_11.describe() == "avant 11 h 00 le jour de service précédent"
    assert FixedDelay.hours(48).describe() == "48 heures avant le début du jour concerné"
    assert FixedDelay.days(8).describe() == "8 jours calendaires avant, à 0 h 00"
    assert DayOfPreviousMonth(day_of_month=1, at=time(9)).describe() == (
        "le 1er du mois précédent à 9 h 00"
    )
    english = THURSDAY_10.explain(date(2023, 11, 6), CALENDAR, "en")
    assert english == (
        "For Monday 6 November 2023, changes are possible until Thursday 2 November 2023 at "
        "10:00 (excluded): Thursday 10:00 of the previous week."
    )


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: WeeklyDeadline(weekday=7, at=time(10)), "weekday"),
        (lambda: WeeklyDeadline(weekday=3, at=time(10), weeks_before=0), "weeks_before"),
        (lambda: WeeklyDeadline(weekday=3, at="10:00"), "at"),
        (lambda: WeeklyDeadline(weekday=3, at=time(10, tzinfo=UTC)), "at"),
        (lambda: OpenDaysBefore(days=0, at=time(11)), "days"),
        (lambda: FixedDelay(amount=-1, unit="hours"), "amount"),
        (lambda: FixedDelay(amount=2, unit="weeks"), "unit"),
        (lambda: FixedDelay(amount=2, unit="hours", at=time(10)), "at"),
        (lambda: DayOfPreviousMonth(day_of_month=32, at=time(12)), "day_of_month"),
        (lambda: DayOfPreviousMonth(day_of_month=0, at=time(12)), "day_of_month"),
    ],
)
def test_malformed_policies_are_rejected(build: object, path: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        build()  # type: ignore[operator]
    assert error.value.path == path


# -- properties --------------------------------------------------------------------------

times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))
safe_times = times.filter(lambda at: at.hour != 2)  # 02:xx may not exist on a DST Sunday
policies: st.SearchStrategy[CutOffPolicy] = st.one_of(
    st.builds(WeeklyDeadline, weekday=st.integers(0, 6), at=times, weeks_before=st.integers(1, 3)),
    st.builds(OpenDaysBefore, days=st.integers(1, 5), at=times),
    st.builds(FixedDelay.hours, st.integers(0, 24 * 15)),
    st.builds(FixedDelay.days, st.integers(1, 20), times),
    st.builds(DayOfPreviousMonth, day_of_month=st.integers(1, 31), at=times),
)
school_days = st.dates(min_value=RENTREE, max_value=LAST_DAY)


@given(policy=policies, day=school_days)
def test_every_deadline_is_strictly_before_the_service(policy: CutOffPolicy, day: date) -> None:
    deadline = policy.deadline(day, CALENDAR)
    assert deadline.utcoffset() is not None
    assert deadline < wall_clock(day, SERVICE.starts_at)
    assert deadline <= wall_clock(day, time(0, 0))


wall_policies: st.SearchStrategy[CutOffPolicy] = st.one_of(
    st.builds(WeeklyDeadline, weekday=st.integers(0, 6), at=safe_times),
    st.builds(OpenDaysBefore, days=st.integers(1, 3), at=safe_times),
    st.builds(FixedDelay.days, st.integers(1, 20), safe_times),
    st.builds(DayOfPreviousMonth, day_of_month=st.integers(1, 31), at=safe_times),
)
dst_days = st.sampled_from(
    [last_sunday(year, month) for year in (2024, 2025, 2026) for month in (3, 10)]
).flatmap(lambda sunday: st.integers(-20, 20).map(lambda n: sunday + timedelta(days=n)))


@given(policy=wall_policies, day=dst_days)
def test_wall_clock_deadlines_keep_their_time_across_dst(policy: CutOffPolicy, day: date) -> None:
    deadline = policy.deadline(day, CALENDAR)
    local = deadline.astimezone(PARIS)
    assert local.time().replace(second=0) == policy.at  # type: ignore[attr-defined]
    assert local.utcoffset() == expected_offset(deadline)


@given(hours=st.integers(0, 24 * 10), day=dst_days)
def test_hour_delays_are_real_elapsed_hours(hours: int, day: date) -> None:
    deadline = FixedDelay.hours(hours).deadline(day, CALENDAR)
    midnight_utc = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(hours=1)
    if expected_offset(midnight_utc) == timedelta(hours=2):
        midnight_utc -= timedelta(hours=1)
    assert midnight_utc - deadline.astimezone(UTC) == timedelta(hours=hours)


def test_the_hand_built_calendar_matches_the_france_data_plugin() -> None:
    """The fixtures' 2023-2024 zone C calendar is the official one (140 service days)."""
    from canteen_adapters.calendars.france import FranceHolidaySource
    from canteen_core.domain.calendar import ServiceCalendar

    official = ServiceCalendar(school_year=FranceHolidaySource().school_year("C", 2023))
    assert official.open_days() == CALENDAR.open_days()
    assert len(CALENDAR.open_days()) == 140


# -- working days ("2 jours ouvrés avant, 10 h") -------------------------------------------------

TWO_WORKING_DAYS_10 = WorkingDaysBefore(days=2, at=time(10))


def test_working_days_skip_weekends_not_closed_service_days() -> None:
    # The service is closed on Wednesdays: a Friday meal still falls due on Wednesday 10:00
    # (OpenDaysBefore would count service days and land on Tuesday).
    assert 2 not in CALENDAR.open_weekdays
    friday = date(2023, 11, 17)
    assert TWO_WORKING_DAYS_10.deadline(friday, CALENDAR) == datetime(
        2023, 11, 15, 10, tzinfo=PARIS
    )
    assert OpenDaysBefore(days=2, at=time(10)).deadline(friday, CALENDAR) == datetime(
        2023, 11, 14, 10, tzinfo=PARIS
    )
    # A Monday meal: Friday, then Thursday.
    assert TWO_WORKING_DAYS_10.deadline(date(2023, 11, 20), CALENDAR) == datetime(
        2023, 11, 16, 10, tzinfo=PARIS
    )


def test_working_days_skip_public_holidays() -> None:
    # 8 May (Victoire 1945) and 9 May 2024 (Ascension) are not working days.
    assert TWO_WORKING_DAYS_10.deadline(date(2024, 5, 10), CALENDAR) == datetime(
        2024, 5, 6, 10, tzinfo=PARIS
    )


def test_working_days_explain_themselves_in_french() -> None:
    assert TWO_WORKING_DAYS_10.describe() == (
        "avant 10 h 00, 2 jours ouvrés avant (du lundi au vendredi, hors jours fériés)"
    )
    assert (
        WorkingDaysBefore(days=1, at=time(9, 30))
        .describe("en")
        .startswith("before 09:30, 1 working day before")
    )
    assert TWO_WORKING_DAYS_10.explain(date(2023, 11, 17), CALENDAR) == (
        "Pour le vendredi 17 novembre 2023, modifiable jusqu'au mercredi 15 novembre 2023 à "
        "10 h 00 (exclu) : avant 10 h 00, 2 jours ouvrés avant (du lundi au vendredi, hors "
        "jours fériés)."
    )
    with pytest.raises(InvalidInputError):
        WorkingDaysBefore(days=0, at=time(10))


def test_policy_kinds_are_found_by_name() -> None:
    kinds = cut_off_policy_kinds()
    assert kinds["WorkingDaysBefore"] is WorkingDaysBefore
    assert {"WeeklyDeadline", "OpenDaysBefore", "FixedDelay", "DayOfPreviousMonth"} <= set(kinds)
    with pytest.raises(InvalidInputError, match="type de date limite inconnu « Nope »"):
        cut_off_policy_kind("Nope")
