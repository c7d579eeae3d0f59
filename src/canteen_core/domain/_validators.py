"""Small attrs validators shared by the domain models (private: not public API)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money

#: The years a date given to canteen may fall in. Wider than any school record needs (a
#: guardian's birth, a debt written off decades later), narrow enough that a range between two
#: accepted dates stays cheap to walk and every backend stores it the same way.
MIN_YEAR = 1900
MAX_YEAR = 2200

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


def enum_member(cls: type[E], value: object, *, path: str, what: str) -> E:
    """``cls(value)``; :class:`InvalidInputError` naming ``what`` and the accepted values
    otherwise, in French (``what`` is French too: ``valeur inconnue « late » pour la présence
    (valeurs possibles : present, absent)``)."""
    try:
        return cls(value)
    except ValueError:
        accepted = ", ".join(str(member.value) for member in cls)
        raise InvalidInputError(
            f"valeur inconnue « {value} » pour {what} (valeurs possibles : {accepted})", path=path
        ) from None


def parse_enum(cls: type[E], value: object, *, path: str, message: str) -> E:
    """``cls(value)``; :class:`InvalidInputError` with ``message`` otherwise, in which
    ``{value}`` (or ``{value!r}``) stands for the value refused."""
    try:
        return cls(value)
    except ValueError:
        raise InvalidInputError(message.format(value=value), path=path) from None


def check_year(value: object, path: str) -> int:
    """``value`` as a year between :data:`MIN_YEAR` and :data:`MAX_YEAR` (an ``int``, not a
    ``bool``); :class:`InvalidInputError` in French otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError("l'année doit être un nombre entier", path=path)
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise InvalidInputError(
            f"l'année doit être comprise entre {MIN_YEAR} et {MAX_YEAR}", path=path
        )
    return value


def check_date(value: object, path: str) -> date:
    """``value`` as a :class:`datetime.date` (not a datetime) in the accepted years;
    :class:`InvalidInputError` in French otherwise."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInputError("une date (sans heure) est attendue", path=path)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidInputError(f"la date doit tomber entre {MIN_YEAR} et {MAX_YEAR}", path=path)
    return value


def non_empty_str(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    """A non-blank string; else :class:`InvalidInputError` in French (its ``path`` names the
    field: the message reaches staff importing a file or checking a deployment)."""
    if not isinstance(value, str):
        raise InvalidInputError("du texte est attendu", path=attribute.name)
    if not value.strip():
        raise InvalidInputError("ne doit pas être vide", path=attribute.name)


def received(value: object) -> str:
    """`` (reçu -3)`` for a number refused, nothing for a value of another kind (no repr):
    the end of a French message."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f" (reçu {value})"
    return ""


def positive_int(_: Any, attribute: attrs.Attribute[int], value: object) -> None:
    """An ``int`` (not a ``bool``) of at least 1 (a count, a position, a number of bytes)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(
            f"un entier positif est attendu{received(value)}", path=attribute.name
        )


def non_negative_int(_: Any, attribute: attrs.Attribute[int], value: object) -> None:
    """An ``int`` (not a ``bool``) of at least 0 (a counter, a number of days)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(
            f"un entier positif ou nul est attendu{received(value)}", path=attribute.name
        )


def non_negative_money(_: Any, attribute: attrs.Attribute[Money], value: object) -> None:
    """A :class:`~canteen_core.domain.money.Money` of zero or more (a price, a threshold)."""
    if not isinstance(value, Money):
        raise InvalidInputError("un montant est attendu", path=attribute.name)
    if value.is_negative:
        raise InvalidInputError(
            f"le montant ne doit pas être négatif (reçu {value.format_fr()})", path=attribute.name
        )


def instance_of(kind: type) -> Callable[[Any, attrs.Attribute[Any], object], None]:
    """A validator accepting instances of ``kind`` only (French message naming the class)."""

    def check(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InvalidInputError(
                f"{attribute.name} : {kind.__name__} attendu, reçu {type(value).__name__}",
                path=attribute.name,
            )

    return check


def optional_instance_of(
    kind: type, message: str
) -> Callable[[Any, attrs.Attribute[Any], object], None]:
    """A validator accepting ``None`` or instances of ``kind``; :class:`InvalidInputError` with
    ``message`` otherwise."""

    def check(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, kind):
            raise InvalidInputError(message, path=attribute.name)

    return check


def items_of(kind: type[T], values: Iterable[object], path: str) -> tuple[T, ...]:
    """``values`` as a tuple whose every item is a ``kind``; :class:`InvalidInputError` naming
    the first other item (``facts[3]``) otherwise."""
    items: list[T] = []
    for index, item in enumerate(values):
        if not isinstance(item, kind):
            raise InvalidInputError(
                f"{kind.__name__} attendu, reçu {type(item).__name__}", path=f"{path}[{index}]"
            )
        items.append(item)
    return tuple(items)


def first_repeated(items: Iterable[T]) -> T | None:
    """The first item of ``items`` seen twice (to name it in an error), ``None`` if none is."""
    seen: set[T] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None


def a_date(_: Any, attribute: attrs.Attribute[date], value: object) -> None:
    """A :class:`datetime.date` that is not a datetime."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInputError("une date (sans heure) est attendue", path=attribute.name)


def optional_date(_: Any, attribute: attrs.Attribute[date | None], value: object) -> None:
    """``None`` or a date."""
    if value is not None:
        a_date(_, attribute, value)  # type: ignore[arg-type]


def bounded_date(_: Any, attribute: attrs.Attribute[date], value: object) -> None:
    """A date (not a datetime) between :data:`MIN_YEAR` and :data:`MAX_YEAR`: for values whose
    range is walked day by day (a periodicity)."""
    check_date(value, attribute.name)


def optional_bounded_date(_: Any, attribute: attrs.Attribute[date | None], value: object) -> None:
    """``None`` or a :func:`bounded_date`."""
    if value is not None:
        check_date(value, attribute.name)


def aware_datetime(_: Any, attribute: attrs.Attribute[datetime], value: object) -> None:
    """A timezone-aware datetime."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInputError(
            "une date et une heure avec leur fuseau horaire sont attendues", path=attribute.name
        )


def optional_aware_datetime(
    _: Any, attribute: attrs.Attribute[datetime | None], value: object
) -> None:
    """``None`` or an :func:`aware_datetime` (when a decision or a reminder happened)."""
    if value is not None:
        aware_datetime(_, attribute, value)  # type: ignore[arg-type]
