"""One cattrs converter for every domain type: to and from plain JSON-compatible data.

Serialization lives outside the models (they stay plain attrs classes). The conventions are
fixed here once, for storage, exports and the portal API alike:

* :class:`~decimal.Decimal` as a string (``"13.40"``), never a float;
* :class:`~canteen_core.domain.money.Money` as ``{"amount": "13.40", "currency": "EUR"}``;
* dates as ISO 8601 (``"2023-09-04"``); datetimes must be timezone-aware and are written in
  ISO 8601 with their offset (``"2023-09-04T08:00:00+00:00"``);
* times as ``"10:00:00"``, durations as ``"PT3600S"`` (ISO 8601, seconds);
* enums by value; frozensets and sets as sorted lists (stable output, stable diffs);
* cut-off policies and tariff pricings (an abstract base, a union) as tables with a
  ``"type"`` key naming the class (``{"type": "WeeklyDeadline", ...}``); the cut-off policy
  kinds are looked up when data is read or written
  (:func:`~canteen_core.domain.deadlines.cut_off_policy_kinds`), so a policy class a portal
  defines after this module is imported is stored like the built-in ones, and an unknown
  ``"type"`` is an :class:`~canteen_core.domain.errors.InvalidInputError`;
* tuples as lists.

Structuring bad data raises :class:`~canteen_core.domain.errors.InvalidInputError` whose ``path``
names the bad field, e.g. ``children[0].birth_date``.

>>> from canteen_core.domain.money import Money
>>> unstructure(Money.of("13.4"))
{'amount': '13.4', 'currency': 'EUR'}
>>> structure({"amount": "13.40", "currency": "EUR"}, Money)
Money(amount=Decimal('13.40'), currency='EUR')

The rooms of this package:

* :mod:`~canteen_core.config.serialization.scalars`: the scalar conventions (decimals, dates,
  times, durations, money, enums);
* :mod:`~canteen_core.config.serialization.fast`: the fast paths: invoice lines, an
  invoice's stored JSON text (:func:`invoice_json`), interned values, shared calendars;
* :mod:`~canteen_core.config.serialization.compiled`: the fast converter's compiled hooks
  for the documents a billing run reads by the thousand (households, attendance);
* :mod:`~canteen_core.config.serialization.errors`: structuring errors as
  :class:`~canteen_core.domain.errors.InvalidInputError` with a path;
* :mod:`~canteen_core.config.serialization.converter`: the converters and :func:`structure`,
  :func:`unstructure`, :func:`dumps`, :func:`loads`, :func:`invoice_json`.

Every name below is importable from ``canteen_core.config.serialization`` itself.
"""

from canteen_core.config.serialization.converter import (
    dumps,
    invoice_json,
    loads,
    structure,
    unstructure,
)
from canteen_core.config.serialization.fast import shared_calendars

__all__ = [
    "dumps",
    "invoice_json",
    "loads",
    "shared_calendars",
    "structure",
    "unstructure",
]
