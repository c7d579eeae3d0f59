"""The template filters of the emails (``money``, ``date_fr``, ``weekday_fr``, ``datetime_fr``) and
the stencils that render invoice emails once per shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

import attrs

from canteen_core.domain._french import format_date_fr, format_datetime_fr
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money


def _money(value: Money) -> str:
    if not isinstance(value, Money):
        raise InvalidInputError(f"expected Money, got {value!r}")
    return value.format_fr()


def _date_fr(value: date) -> str:
    return format_date_fr(value)


def _weekday_fr(value: date) -> str:
    return format_date_fr(value, weekday=True)


def _datetime_fr(value: datetime) -> str:
    return format_datetime_fr(value)


def _single_line(text: str) -> str:
    return " ".join(text.split())


class _Slot(str):
    """A stand-in rendered where a per-message value goes (see :class:`_Stencil`).

    The ``money`` filter passes it through unchanged (it stands for an amount).
    """

    __slots__ = ()


def _money_or_slot(value: Money | _Slot) -> str:
    if isinstance(value, _Slot):
        return value
    return _money(value)


#: How a per-message value is printed: ``money``-filtered Money or str().
def _printed(value: object) -> str:
    return value.format_fr() if isinstance(value, Money) else str(value)


@attrs.frozen
class _Stencil:
    """The three parts of a message rendered once, with holes for the per-message values.

    Each part is a tuple alternating literal text and slot names; filling it joins the
    literals with the values (escaped in the HTML part, as autoescape would).
    """

    subject: tuple[str, ...]
    text: tuple[str, ...]
    html: tuple[str, ...]

    @staticmethod
    def split(rendered: str, tokens: Mapping[str, str]) -> tuple[str, ...]:
        by_token = {token: name for name, token in tokens.items()}
        pattern = "|".join(re.escape(token) for token in by_token)
        parts = re.split(f"({pattern})", rendered)
        return tuple(part if i % 2 == 0 else by_token[part] for i, part in enumerate(parts))

    @staticmethod
    def fill(parts: tuple[str, ...], values: Mapping[str, str]) -> str:
        return "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(parts))
