"""French formatting of dates and times for user-facing texts (private helper).

Month and weekday names come from babel's ``fr_FR`` locale (the C locale of the machine cannot
be relied upon for ``strftime('%B')``). French typography is kept on top: the first day of a
month is written "1er", times "9 h 05".
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Final

from babel.dates import format_date as _babel_date

from canteen_core.domain.clock import PARIS, ensure_aware

__all__ = [
    "ends_before_start_fr",
    "format_date_fr",
    "format_datetime_fr",
    "format_month_fr",
    "format_short_date_fr",
    "format_time_fr",
    "format_wall_time_fr",
    "not_positive_fr",
    "weekday_name_fr",
]

_LOCALE: Final = "fr_FR"


def format_date_fr(day: date, *, weekday: bool = False) -> str:
    """``date(2023, 8, 21) -> '21 août 2023'`` (``'lundi 21 août 2023'`` with ``weekday``).

    The first day of a month is written "1er", as French typography wants.
    """
    if isinstance(day, datetime):
        day = day.astimezone(PARIS).date()
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {_babel_date(day, 'MMMM y', locale=_LOCALE)}"
    return f"{weekday_name_fr(day)} {text}" if weekday else text


def weekday_name_fr(day: date) -> str:
    """``'lundi'``."""
    return _babel_date(day, "EEEE", locale=_LOCALE)


def format_month_fr(day: date) -> str:
    """``'septembre 2023'`` (the month of ``day``)."""
    return _babel_date(day, "MMMM y", locale=_LOCALE)


def format_short_date_fr(day: date) -> str:
    """``'sam. 21/10/2023'``."""
    return _babel_date(day, "EEE dd/MM/y", locale=_LOCALE)


def format_wall_time_fr(at: time) -> str:
    """A wall-clock time, French style: ``time(9, 5) -> '9 h 05'``."""
    return f"{at.hour} h {at.minute:02d}"


def format_time_fr(instant: datetime) -> str:
    """Wall-clock time in Paris, French style: ``'9 h 05'``."""
    local = ensure_aware(instant, "instant").astimezone(PARIS)
    return format_wall_time_fr(local.time())


def format_datetime_fr(instant: datetime, *, weekday: bool = False) -> str:
    """``'21 août 2023 à 9 h 00'`` in Europe/Paris."""
    local = ensure_aware(instant, "instant").astimezone(PARIS)
    return f"{format_date_fr(local.date(), weekday=weekday)} à {format_time_fr(local)}"


def ends_before_start_fr(what: str, first: object, last: object) -> str:
    """``la période finit le 12/09/2023, avant de commencer (le 14/09/2023)``: the one
    French line for a range whose end comes before its start (``what`` names it)."""
    return f"{what} finit le {_short(last)}, avant de commencer (le {_short(first)})"


def not_positive_fr(what: str, value: object) -> str:
    """``le montant doit être positif (reçu -5,00 €)``."""
    return f"{what} doit être positif (reçu {value})"


def _short(value: object) -> str:
    return f"{value:%d/%m/%Y}" if isinstance(value, date) else str(value)
