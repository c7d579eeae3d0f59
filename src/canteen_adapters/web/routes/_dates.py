"""The dates routes read from their paths: a day, an ISO week, a month (a French error naming
the parameter otherwise)."""

from __future__ import annotations

import re
from datetime import date

from canteen_core.domain.errors import InvalidInputError

__all__ = ["parse_day", "parse_month", "parse_week"]

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_day(text: str, path: str = "day") -> date:
    """``2024-02-12`` -> that day."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"date invalide « {text[:20]} » (AAAA-MM-JJ)", path=path) from None


def parse_week(text: str) -> date:
    """``2023-W36`` (or any day of the week, ``2023-09-04``) -> a day of that ISO week."""
    match = _WEEK.fullmatch(text)
    try:
        if match:
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"semaine invalide « {text[:20]} » : écrivez 2023-W36 ou une date 2023-09-04",
            path="week",
        ) from None


def parse_month(text: str) -> tuple[int, int]:
    """``2023-09`` -> (2023, 9)."""
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1901:
        raise InvalidInputError(f"mois invalide « {text[:20]} » : écrivez 2023-09", path="month")
    return int(match.group(1)), int(match.group(2))
