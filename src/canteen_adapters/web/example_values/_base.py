"""What every example module shares: :class:`Shown`, amounts and instants as the API writes
them, and the day the demo is served at."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs
from litestar.openapi.spec import Schema

from canteen_adapters.web.convert import money
from canteen_core.domain.clock import PARIS
from canteen_core.domain.money import Money

__all__ = ["NOW", "TODAY", "ReadByHand", "Shown", "at", "eur"]


@attrs.frozen
class Shown:
    """An example: a one-line French summary (the label the rendered page shows) and the
    value, an API body (or a list of them, a form's fields, a file's text)."""

    summary: str
    value: object


@attrs.frozen
class ReadByHand:
    """A request body its route reads itself (a form with a file, an XML file), which Litestar
    cannot see in the handler's signature: its media type, its schema and its example."""

    media_type: str
    schema: Schema
    shown: Shown


def eur(amount: str) -> str:
    """An amount as the API writes it (``"13.40"``)."""
    return money(Money.of(Decimal(amount)))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant at Ronde (Europe/Paris wall clock)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


#: The day the demo is served at (``CANTEEN_NOW=2023-10-06T09:00:00+02:00``).
TODAY = date(2023, 10, 6)
NOW = at(TODAY, 9)
