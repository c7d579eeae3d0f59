"""The scalar conventions of the converter: decimals, strings, numbers, dates, times, durations,
money, time zones and enums, each checked when read (see
:mod:`canteen_core.config.serialization`).
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from canteen_core.config.serialization.errors import kind_fr, unknown_fields_fr
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money, to_decimal

T = TypeVar("T")

_ISO_WHAT_FR = {"date": "une date", "datetime": "une date et heure", "time": "une heure"}


def _unstructure_bytes(value: bytes) -> str:
    """Bytes (an e-mail attachment) as base64 text."""
    return base64.b64encode(value).decode("ascii")


def _structure_bytes(value: object, _: type) -> bytes:
    if not isinstance(value, str):
        raise InvalidInputError("du texte base64 est attendu")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise InvalidInputError("du texte base64 est attendu") from None


def _structure_decimal(value: object, _: type) -> Decimal:
    # to_decimal refuses floats and booleans: a float amount has already lost its cents.
    return to_decimal(value, path="")


def _structure_str(value: object, _: type) -> str:
    # cattrs would call str() on anything (5 -> "5"): refuse instead of guessing.
    if type(value) is str:  # the common case first: exact types are the cheapest test
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"du texte est attendu, pas {kind_fr(value)}")
    return value


def _structure_int(value: object, _: type) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"un nombre entier est attendu, pas {kind_fr(value)}")
    return value


def _structure_bool(value: object, _: type) -> bool:
    # bool("false") is True: only real booleans are accepted.
    if not isinstance(value, bool):
        raise InvalidInputError(f"true ou false est attendu, pas {kind_fr(value)}")
    return value


def _iso(parse: Callable[[str], T], value: str, what: str) -> T:
    """``parse(value)``, a bad text being an :class:`InvalidInputError` naming ``what``."""
    try:
        return parse(value)
    except ValueError:
        raise InvalidInputError(
            f"{_ISO_WHAT_FR[what]} au format ISO 8601 est attendue : « {value} »"
        ) from None


def _structure_date(value: object, _: type) -> date:
    if isinstance(value, str):  # the common case first
        return _iso(date.fromisoformat, value, "date")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise InvalidInputError(
        f"une date au format ISO 8601 (AAAA-MM-JJ) est attendue, pas {kind_fr(value)}"
    )


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        result = _iso(datetime.fromisoformat, value, "datetime")
    else:
        raise InvalidInputError(
            f"une date et heure au format ISO 8601 est attendue, pas {kind_fr(value)}"
        )
    if result.tzinfo is None or result.utcoffset() is None:
        raise InvalidInputError(
            f"la date et heure doit porter son décalage UTC (+01:00) : « {value} »"
        )
    return result


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"une date et heure sans fuseau ne peut pas être enregistrée : {value.isoformat()}"
        )
    return value.isoformat()


def _structure_time(value: object, _: type) -> time:
    if isinstance(value, str):
        return _iso(time.fromisoformat, value, "time")
    if isinstance(value, time):
        return value
    raise InvalidInputError(
        f"une heure au format ISO 8601 (HH:MM) est attendue, pas {kind_fr(value)}"
    )


_DURATION = re.compile(r"^(-?)PT(\d+(?:\.\d{1,6})?)S$")


def _unstructure_timedelta(value: timedelta) -> str:
    seconds = Decimal(value.days * 86400 + value.seconds) + Decimal(value.microseconds) / 10**6
    sign = "-" if seconds < 0 else ""
    return f"{sign}PT{abs(seconds).normalize():f}S"


def _structure_timedelta(value: object, _: type) -> timedelta:
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInputError(f"une durée comme « PT3600S » est attendue : « {value} »")
    seconds = Decimal(match[2])
    result = timedelta(seconds=int(seconds), microseconds=int((seconds % 1) * 10**6))
    return -result if match[1] else result


def _structure_money(value: object, _: type) -> Money:
    if isinstance(value, Money):
        return value
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"un montant {{amount, currency}} est attendu, pas {kind_fr(value)}"
        )
    extra = set(value) - {"amount", "currency"}
    if extra:
        raise InvalidInputError(f"montant : {unknown_fields_fr(extra)}")
    if "amount" not in value:
        raise InvalidInputError("montant : champ amount manquant")
    return Money(to_decimal(value["amount"]), value.get("currency", "EUR"))


def _structure_zoneinfo(value: object, _: type) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"fuseau horaire inconnu : « {value} »") from None


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def _structure_enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    if type(value) is str or type(value) is int:
        # The table ``cls(value)`` looks in first: the same member, without the call.
        found = cls._value2member_map_.get(value)
        if found is not None:
            return found
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        valid = ", ".join(str(member.value) for member in cls)
        raise InvalidInputError(
            f"valeur inconnue « {value} » (valeurs possibles : {valid})"
        ) from None


def _sort_key(item: Any) -> tuple[int, Any]:
    # Items of a set may not be mutually orderable once unstructured (dicts); JSON text is.
    if isinstance(item, str | int | float):
        return (0, item)
    return (1, json.dumps(item, sort_keys=True, default=str))
