"""Periodicities (semaines types): a weekly pattern applied over a date range.

A :class:`Periodicity` says which weekdays are booked and how often: every week, every other week
(anchored on the ISO week of ``anchor``), or only even / only odd ISO week numbers. Its
:meth:`~Periodicity.days` are computed with :mod:`dateutil.rrule`; they are calendar days, not yet
filtered by any service calendar (the reservation engine skips closed days with a reason).

Note on odd weeks: a year with an ISO week 53 is followed by week 1, so two odd weeks follow each
other there. That is what "semaines impaires" means on a French calendar.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cached_property

import attrs
from dateutil import rrule

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._validators import bounded_date, enum_member, optional_bounded_date
from canteen_core.domain.calendar import parse_weekdays, weekdays_fr
from canteen_core.domain.errors import InvalidInputError

__all__ = ["Periodicity", "Recurrence"]

_RRULE_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


class Recurrence(enum.StrEnum):
    """How often the weekly pattern repeats."""

    EVERY_WEEK = "every_week"
    EVERY_OTHER_WEEK = "every_other_week"  # anchored on the ISO week of ``anchor``
    EVEN_WEEKS = "even_weeks"  # ISO week number even
    ODD_WEEKS = "odd_weeks"

    @classmethod
    def parse(cls, value: Recurrence | str) -> Recurrence:
        """Parse a value or a French label (``"toutes les semaines"``, ``"semaines paires"``)."""
        if isinstance(value, Recurrence):
            return value
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        aliases = {
            "toutes_les_semaines": cls.EVERY_WEEK,
            "une_semaine_sur_deux": cls.EVERY_OTHER_WEEK,
            "semaines_paires": cls.EVEN_WEEKS,
            "semaines_impaires": cls.ODD_WEEKS,
        }
        if text in aliases:
            return aliases[text]
        return enum_member(cls, text, path="recurrence", what="la périodicité")


def _recurrence(value: Recurrence | str) -> Recurrence:
    return Recurrence.parse(value)


def _weekdays(value: str | Iterable[str | int]) -> frozenset[int]:
    return parse_weekdays(value)


@attrs.frozen(kw_only=True)
class Periodicity:
    """Book ``weekdays`` from ``start`` to ``end`` (inclusive) with a ``recurrence``.

    >>> p = Periodicity(weekdays="lun,mar,jeu", start=date(2023, 9, 4), end=date(2023, 9, 17))
    >>> [d.isoformat() for d in p.days()][:3]
    ['2023-09-04', '2023-09-05', '2023-09-07']

    Malformed input (no weekday, an unknown one, ``end`` before ``start``, an unknown recurrence)
    raises :class:`~canteen_core.domain.errors.InvalidInputError`.
    """

    weekdays: frozenset[int] = attrs.field(converter=_weekdays)
    start: date = attrs.field(validator=bounded_date)
    end: date = attrs.field(validator=bounded_date)
    recurrence: Recurrence = attrs.field(default=Recurrence.EVERY_WEEK, converter=_recurrence)
    anchor: date | None = attrs.field(default=None, validator=optional_bounded_date)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(
                ends_before_start_fr("la périodicité", self.start, self.end), path="end"
            )
        if self.anchor is not None and self.recurrence is not Recurrence.EVERY_OTHER_WEEK:
            raise InvalidInputError(
                "an anchor only makes sense for every other week", path="anchor"
            )

    @property
    def anchor_monday(self) -> date:
        """Monday of the first booked week for every-other-week (the anchor's week)."""
        base = self.anchor if self.anchor is not None else self.start
        return base - timedelta(days=base.weekday())

    def _rule(self) -> rrule.rrule:
        byweekday = [_RRULE_DAYS[day] for day in sorted(self.weekdays)]
        interval = 2 if self.recurrence is Recurrence.EVERY_OTHER_WEEK else 1
        first_monday = self.start - timedelta(days=self.start.weekday())
        if interval == 2 and ((first_monday - self.anchor_monday).days // 7) % 2:
            # Start on a week in phase with the anchor's week (the anchor may be later).
            first_monday -= timedelta(weeks=1)
        return rrule.rrule(
            rrule.WEEKLY,
            interval=interval,
            byweekday=byweekday,
            wkst=rrule.MO,
            dtstart=first_monday,
            until=self.end,
        )

    def within(self, start: date, end: date) -> Periodicity | None:
        """The same pattern restricted to ``start`` .. ``end`` (``None`` when the ranges do
        not meet). Every-other-week keeps its phase: the anchor is pinned to this pattern's.

        The reservation engine applies a periodicity through this, so the work is bounded by
        the enrollment, not by the dates a caller wrote (a pattern "until 2200")."""
        lo = max(self.start, start)
        hi = min(self.end, end)
        if hi < lo:
            return None
        if lo == self.start and hi == self.end:
            return self
        anchor = self.anchor_monday if self.recurrence is Recurrence.EVERY_OTHER_WEEK else None
        return attrs.evolve(self, start=lo, end=hi, anchor=anchor)

    def days(self) -> tuple[date, ...]:
        """Every calendar day of the pattern between ``start`` and ``end``, in order.

        Computed once per value (a rentrée run applies one periodicity to thousands of books).
        """
        return self._days

    @cached_property
    def _days(self) -> tuple[date, ...]:
        days = (moment.date() for moment in self._rule())
        if self.recurrence in (Recurrence.EVEN_WEEKS, Recurrence.ODD_WEEKS):
            # Parity filtered here: rrule's YEARLY/BYWEEKNO misses ISO weeks that straddle
            # New Year (1 January 2022 belongs to week 52 of 2021).
            parity = 0 if self.recurrence is Recurrence.EVEN_WEEKS else 1
            days = (day for day in days if day.isocalendar().week % 2 == parity)
        return tuple(day for day in days if day >= self.start)

    def matches(self, day: date) -> bool:
        """Whether ``day`` (within the range) is a day of the pattern."""
        if not (self.start <= day <= self.end) or day.weekday() not in self.weekdays:
            return False
        if self.recurrence is Recurrence.EVERY_WEEK:
            return True
        if self.recurrence is Recurrence.EVERY_OTHER_WEEK:
            return ((day - self.anchor_monday).days // 7) % 2 == 0
        week = day.isocalendar().week
        return week % 2 == (0 if self.recurrence is Recurrence.EVEN_WEEKS else 1)

    def describe(self) -> str:
        """A French sentence: ``"lundi, mardi et jeudi, toutes les semaines, du 04/09/2023 au
        05/07/2024"``."""
        listed = weekdays_fr(self.weekdays)
        first_week = self.anchor_monday.isocalendar().week
        how = {
            Recurrence.EVERY_WEEK: "toutes les semaines",
            Recurrence.EVERY_OTHER_WEEK: f"une semaine sur deux dès la semaine {first_week}",
            Recurrence.EVEN_WEEKS: "les semaines paires",
            Recurrence.ODD_WEEKS: "les semaines impaires",
        }[self.recurrence]
        return f"{listed}, {how}, du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"
