"""Small attrs validators shared by the domain models (private: not public API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

from canteen_core.domain.errors import InvalidInputError


def non_empty_str(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    """A non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"must be a non-empty string, got {value!r}", path=attribute.name)


def a_date(_: Any, attribute: attrs.Attribute[date], value: object) -> None:
    """A :class:`datetime.date` that is not a datetime."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInputError(f"must be a date, got {value!r}", path=attribute.name)


def optional_date(_: Any, attribute: attrs.Attribute[date | None], value: object) -> None:
    """``None`` or a date."""
    if value is not None:
        a_date(_, attribute, value)  # type: ignore[arg-type]


def aware_datetime(_: Any, attribute: attrs.Attribute[datetime], value: object) -> None:
    """A timezone-aware datetime."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInputError(
            f"must be a timezone-aware datetime, got {value!r}", path=attribute.name
        )
