"""French formatting of dates and times for user-facing texts (private helper).

The C locale cannot be relied upon (``strftime('%B')`` depends on the machine), so month and
weekday names are spelled out here.
"""

from __future__ import annotations

from datetime import date, datetime

from canteen_core.domain.calendar import MONTH_NAMES_FR, WEEKDAY_NAMES_FR
from canteen_core.domain.clock import PARIS, ensure_aware

__all__ = ["format_date_fr", "format_datetime_fr", "format_time_fr"]


def format_date_fr(day: date, *, weekday: bool = False) -> str:
    """``date(2023, 8, 21) -> '21 août 2023'`` (``'lundi 21 août 2023'`` with ``weekday``).

    The first day of a month is written "1er", as French typography wants.
    """
    if isinstance(day, datetime):
        day = day.astimezone(PARIS).date()
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTH_NAMES_FR[day.month - 1]} {day.year}"
    return f"{WEEKDAY_NAMES_FR[day.weekday()]} {text}" if weekday else text


def format_time_fr(instant: datetime) -> str:
    """Wall-clock time in Paris, French style: ``'9 h 05'``."""
    local = ensure_aware(instant, "instant").astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def format_datetime_fr(instant: datetime, *, weekday: bool = False) -> str:
    """``'21 août 2023 à 9 h 00'`` in Europe/Paris."""
    local = ensure_aware(instant, "instant").astimezone(PARIS)
    return f"{format_date_fr(local.date(), weekday=weekday)} à {format_time_fr(local)}"
