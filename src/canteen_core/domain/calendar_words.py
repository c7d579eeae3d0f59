"""The words of the school calendar: French weekday and month names, the weekday codes, and
the parsing of weekdays (``"mon-fri"``, ``"lundi,mardi"``) and school years (``"2023-2024"``).

Re-exported by :mod:`canteen_core.domain.calendar`, whose values use them.
"""

from __future__ import annotations

from collections.abc import Iterable

from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "MONTH_NAMES_FR",
    "SCHOOL_RESTAURANT_WEEKDAYS",
    "WEEKDAY_CODES",
    "WEEKDAY_NAMES_FR",
    "parse_school_year",
    "parse_weekdays",
    "school_year_label",
    "weekdays_fr",
]

#: Monday=0 ... Sunday=6, as :meth:`datetime.date.weekday`.
WEEKDAY_NAMES_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
#: January first; spelled out because :mod:`calendar` month names depend on the locale.
MONTH_NAMES_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
#: The English codes of the deployment file and the CLI, Monday first.
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Most school restaurants serve on Monday, Tuesday, Thursday and Friday.
SCHOOL_RESTAURANT_WEEKDAYS = frozenset({0, 1, 3, 4})


def weekdays_fr(weekdays: Iterable[int], *, each: str = "", last: str = " et ") -> str:
    """Weekday numbers (Monday = 0), in week order, as French words: ``"lundi, mardi et
    jeudi"``. ``each`` goes before every name and ``last`` joins the last two: ``each="le
    ", last=" ni "`` gives ``"le mercredi ni le samedi"``."""
    names = [each + WEEKDAY_NAMES_FR[day] for day in sorted(set(weekdays))]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + last + names[-1]


def parse_school_year(value: str | int) -> int:
    """Parse ``"2023-2024"`` (or ``"2023/2024"``, or ``2023``) into its starting year, 2023."""
    text = "" if isinstance(value, bool) else str(value).strip().replace("/", "-")
    try:
        years = [int(part) for part in text.split("-")]
    except ValueError:
        years = []
    if len(years) in (1, 2) and 1900 < years[0] < 2200 and years[1:] in ([], [years[0] + 1]):
        return years[0]
    raise InvalidInputError(
        f"année scolaire invalide : « {value} » (deux années qui se suivent, "
        "par exemple 2023-2024)",
        path="school_year",
    )


def _parse_weekday(item: str | int) -> int:
    if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
        return item
    text = str(item).strip().lower()
    if text in WEEKDAY_CODES:
        return WEEKDAY_CODES.index(text)
    if text in WEEKDAY_NAMES_FR:
        return WEEKDAY_NAMES_FR.index(text)
    if len(text) >= 3 and text in {name[: len(text)] for name in WEEKDAY_NAMES_FR}:
        # A French prefix of at least three letters: "lun", "merc", "ven".
        return [name[:3] for name in WEEKDAY_NAMES_FR].index(text[:3])
    raise InvalidInputError(
        f"jour de la semaine inconnu « {item} » (mon, tue, wed, thu, fri, sat, sun "
        "ou lundi, mardi...)",
        path="weekdays",
    )


def parse_weekdays(value: str | Iterable[str | int]) -> frozenset[int]:
    """Parse weekdays into numbers (Monday = 0).

    Accepts ``"mon,tue,thu,fri"``, French names (``"lundi,mardi"``), ranges (``"mon-fri"``),
    numbers 0-6, or an iterable of those.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    result: set[int] = set()
    for item in items:
        if isinstance(item, str) and "-" in item:
            first, _, last = item.partition("-")
            start, end = _parse_weekday(first), _parse_weekday(last)
            if end < start:
                raise InvalidInputError(
                    f"la plage de jours « {item} » est à l'envers : écrivez par exemple mon-fri",
                    path="weekdays",
                )
            result.update(range(start, end + 1))
        else:
            result.add(_parse_weekday(item))
    if not result:
        raise InvalidInputError("at least one weekday is required", path="weekdays")
    return frozenset(result)


def school_year_label(start_year: int) -> str:
    """``"2023-2024"`` for 2023."""
    return f"{start_year}-{start_year + 1}"
