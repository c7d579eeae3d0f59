"""The fast paths of the converter: invoice lines written field by field, interned immutable
values, and calendars shared within a :func:`shared_calendars` block.
"""

from __future__ import annotations

import enum
import marshal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from json.encoder import encode_basestring_ascii as _json_quote
from typing import Any

import attrs
import cattrs

#: The fields of an invoice line, in order, as :func:`_fast_invoice_lines` writes them.
_INVOICE_LINE_FIELDS = (
    "child_id",
    "child_name",
    "service_id",
    "category",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "days",
    "rule",
    "grid_id",
    "unit",
)

#: The fields of an invoice, in order, as :func:`_fast_invoice_lines` writes them.
_INVOICE_FIELDS = (
    "id",
    "number",
    "issuer_id",
    "household_id",
    "label",
    "mode",
    "billing_key",
    "period_start",
    "period_end",
    "issue_date",
    "due_date",
    "payment_open_date",
    "lines",
    "total",
    "currency",
    "payer_name",
)


class _IsoDays(dict[date, str]):
    """``day -> day.isoformat()``, each computed once: a billing run writes the same few
    dozen days of its month in every invoice line (hundreds of thousands of texts in a
    city's run). Bounded: emptied beyond a few years of days."""

    def __missing__(self, day: date) -> str:
        if len(self) >= 4096:
            self.clear()
        text = self[day] = day.isoformat()
        return text


_ISO_DAYS = _IsoDays()


def _fast_invoice_lines(converter: cattrs.Converter) -> None:
    """Unstructure invoices and their lines with hand-written hooks (a billing run stores
    thousands of invoices, tens of thousands of lines): the same data as the generated hooks,
    field by field, in the same order.

    Each is registered only while the class's fields are exactly those it knows; a new field
    falls back to the generated hook (``tests/test_invoice_serialization.py`` compares them).
    """
    from canteen_core.domain.charging import ChargeRule
    from canteen_core.domain.invoicing import Invoice, InvoiceLine
    from canteen_core.domain.tariffs import TariffCategory

    if tuple(field.name for field in attrs.fields(InvoiceLine)) != _INVOICE_LINE_FIELDS:
        return

    # A line's category and rule (members or ``None``) as their values, from a table:
    # ``member.value`` is the enum's Python-level property (a run writes tens of thousands).
    values: dict[Any, Any] = {None: None}
    values.update((member, member.value) for member in TariffCategory)
    values.update((member, member.value) for member in ChargeRule)
    value_of = values.__getitem__

    def unstructure_line(line: InvoiceLine) -> dict[str, Any]:
        unit, amount = line.unit_price, line.amount
        return {
            "child_id": line.child_id,
            "child_name": line.child_name,
            "service_id": line.service_id,
            "category": value_of(line.category),
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": {"amount": str(unit.amount), "currency": unit.currency},
            "amount": {"amount": str(amount.amount), "currency": amount.currency},
            "days": [_ISO_DAYS[day] for day in line.days],
            "rule": value_of(line.rule),
            "grid_id": line.grid_id,
            "unit": line.unit,
        }

    converter.register_unstructure_hook(InvoiceLine, unstructure_line)
    if tuple(field.name for field in attrs.fields(Invoice)) != _INVOICE_FIELDS:
        return

    def unstructure_invoice(invoice: Invoice) -> dict[str, Any]:
        total = invoice.total
        return {
            "id": invoice.id,
            "number": invoice.number,
            "issuer_id": invoice.issuer_id,
            "household_id": invoice.household_id,
            "label": invoice.label,
            "mode": invoice.mode.value,
            "billing_key": invoice.billing_key,
            "period_start": invoice.period_start.isoformat(),
            "period_end": invoice.period_end.isoformat(),
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "payment_open_date": invoice.payment_open_date.isoformat(),
            "lines": [unstructure_line(line) for line in invoice.lines],
            "total": {"amount": str(total.amount), "currency": total.currency},
            "currency": invoice.currency,
            "payer_name": invoice.payer_name,
        }

    converter.register_unstructure_hook(Invoice, unstructure_invoice)


class _Unusual(Exception):
    """A value :func:`invoice_json` does not write itself (the generic path writes it)."""


def _template(fields: tuple[str, ...]) -> str:
    """The default JSON encoder's text of an object with ``fields`` in order, each a ``%s``
    (the keys are identifiers: no ``%`` to escape)."""
    return "{" + ", ".join(f"{_json_quote(name)}: %s" for name in fields) + "}"


_LINE_TEXT = _template(_INVOICE_LINE_FIELDS)
_INVOICE_TEXT = _template(_INVOICE_FIELDS)
_MONEY_TEXT = _template(("amount", "currency"))


class _QuotedDays(dict[date, str]):
    """``day -> json.dumps(day.isoformat())``, as :class:`_IsoDays` (bounded)."""

    def __missing__(self, day: date) -> str:
        if len(self) >= 4096:
            self.clear()
        text = self[day] = _json_quote(day.isoformat())
        return text


_QUOTED_DAYS = _QuotedDays()
#: Whether Invoice and InvoiceLine have the fields :func:`invoice_json` writes (checked once).
_WRITES_INVOICES: list[bool] = []


def _written_invoice(invoice: Any) -> str | None:
    """The text of ``json.dumps(unstructure(invoice))`` (the stored body of an invoice)
    written field by field, or ``None`` where :func:`.converter.invoice_json` must take the
    generic path: a billing run stores thousands of invoices, and building their
    nested dicts to encode them cost about as much as encoding them.

    Texts go through the encoder's own escaping (``encode_basestring_ascii``), numbers through
    ``int.__repr__``, in the encoder's separators. Only for
    :class:`~canteen_core.domain.invoicing.Invoice` itself with the fields it knows (as
    :func:`_fast_invoice_lines`) and values of the types a valid invoice holds: anything else
    (a subclass, a number where a text goes) takes the generic path.
    ``tests/test_invoice_serialization.py`` compares the two on tricky texts.
    """
    from canteen_core.domain.invoicing import Invoice, InvoiceLine

    if not _WRITES_INVOICES:
        _WRITES_INVOICES.append(
            tuple(field.name for field in attrs.fields(InvoiceLine)) == _INVOICE_LINE_FIELDS
            and tuple(field.name for field in attrs.fields(Invoice)) == _INVOICE_FIELDS
        )
    if type(invoice) is Invoice and _WRITES_INVOICES[0]:
        try:
            return _invoice_text(invoice)
        except (_Unusual, TypeError):  # TypeError: the escaping refuses what is not a text
            pass
    return None


def _line_text(line: Any) -> str:
    quantity = line.quantity
    if type(quantity) is not int:  # a bool is written true/false
        raise _Unusual
    name, unit_price, amount, days = line.child_name, line.unit_price, line.amount, line.days
    grid_id, unit = line.grid_id, line.unit
    category, rule = _MEMBER_VALUES[line.category], _MEMBER_VALUES[line.rule]
    return _LINE_TEXT % (
        _json_quote(line.child_id),
        "null" if name is None else _json_quote(name),
        _json_quote(line.service_id),
        "null" if category is None else _json_quote(category),
        _json_quote(line.description),
        int.__repr__(quantity),
        _MONEY_TEXT % (_json_quote(str(unit_price.amount)), _json_quote(unit_price.currency)),
        _MONEY_TEXT % (_json_quote(str(amount.amount)), _json_quote(amount.currency)),
        "[" + ", ".join([_QUOTED_DAYS[day] for day in days]) + "]" if days else "[]",
        "null" if rule is None else _json_quote(rule),
        "null" if grid_id is None else _json_quote(grid_id),
        "null" if unit is None else _json_quote(unit),
    )


def _invoice_text(invoice: Any) -> str:
    lines, total, label, payer = invoice.lines, invoice.total, invoice.label, invoice.payer_name
    return _INVOICE_TEXT % (
        _json_quote(invoice.id),
        _json_quote(invoice.number),
        _json_quote(invoice.issuer_id),
        _json_quote(invoice.household_id),
        "null" if label is None else _json_quote(label),
        _json_quote(invoice.mode.value),
        _json_quote(invoice.billing_key),
        _json_quote(invoice.period_start.isoformat()),
        _json_quote(invoice.period_end.isoformat()),
        _json_quote(invoice.issue_date.isoformat()),
        _json_quote(invoice.due_date.isoformat()),
        _json_quote(invoice.payment_open_date.isoformat()),
        "[" + ", ".join([_line_text(line) for line in lines]) + "]" if lines else "[]",
        _MONEY_TEXT % (_json_quote(str(total.amount)), _json_quote(total.currency)),
        _json_quote(invoice.currency),
        "null" if payer is None else _json_quote(payer),
    )


class _MemberValues(dict[Any, Any]):
    """A line's category or rule (a member, or ``None``) -> its value, from a table:
    ``member.value`` is the enum's Python-level property (a run writes tens of thousands)."""

    def __missing__(self, member: Any) -> Any:
        if not isinstance(member, enum.Enum):
            raise _Unusual
        value = self[member] = member.value
        return value


_MEMBER_VALUES = _MemberValues({None: None})


#: Distinct service calendars kept by :func:`_intern_values` (a deployment has a few).
_INTERNED_CALENDARS = 64

#: Distinct values kept for each other class of :func:`_intern_values` (services, sites and
#: cut-off policies: a few, up to a few hundred sites in a large city).
_INTERNED_VALUES = 1024


@attrs.frozen
class _FrozenExample:
    """Frozen attrs classes share this ``__setattr__`` (it refuses every change)."""


def _is_frozen(cls: type) -> bool:
    """Whether ``cls`` is a frozen attrs class (its instances can safely be shared)."""
    return attrs.has(cls) and cls.__setattr__ is _FrozenExample.__setattr__


def _intern_values(converter: cattrs.Converter) -> None:
    """Structure equal stored values of a few immutable classes to one shared object.

    Every stored enrollment carries a full copy of its service calendar, its service, its
    site and its two cut-off policies: loading 25,000 enrollments built 25,000 equal
    calendars (the costliest part of loading an enrollment) and as many services and sites,
    each validated again. These are frozen, so equal data (same JSON) gives the same instance;
    a bounded table per class keeps memory flat. A class (or, for the cut-off policy base,
    one of its subclasses) that is not frozen is not interned.

    An instance already built is taken as it is (frozen: sharing it is safe): the SQL storage
    keeps each calendar apart and puts its cached instance into an enrollment's data.
    """
    for cls, size, subclasses_too in _shared_classes():
        hook = _interning(converter.get_structure_hook(cls), size)
        if subclasses_too:
            converter.register_structure_hook(cls, hook)
        else:  # a subclass keeps its own hook
            converter.register_structure_hook_func(_exactly(cls), hook)


def _shared_classes() -> Iterator[tuple[type, int, bool]]:
    """The classes whose values enrollments repeat, when frozen (their instances can be
    shared): each with its interning table size and whether its subclasses use its hooks
    too (they do for the policy base, whose hook is the tagged union, and always did for
    calendars)."""
    from canteen_core.domain.calendar import ServiceCalendar
    from canteen_core.domain.catalog import Service, Site
    from canteen_core.domain.deadlines import CutOffPolicy

    shared: tuple[tuple[type, int, list[type], bool], ...] = (
        (ServiceCalendar, _INTERNED_CALENDARS, [ServiceCalendar], True),
        (Service, _INTERNED_VALUES, [Service], False),
        (Site, _INTERNED_VALUES, [Site], False),
        (CutOffPolicy, _INTERNED_VALUES, _concrete_subclasses(CutOffPolicy), True),
    )
    for cls, size, concrete, subclasses_too in shared:
        if concrete and all(_is_frozen(member) for member in concrete):
            yield cls, size, subclasses_too


def _exactly(cls: type) -> Callable[[Any], bool]:
    """A predicate true for ``cls`` only (not its subclasses)."""
    return lambda other: other is cls


def _interning(plain: Callable[[Any, Any], Any], size: int) -> Callable[[Any, Any], Any]:
    """``plain`` (a structure hook), keeping what it built for the last ``size`` data."""
    interned: dict[bytes, Any] = {}

    def structure_interned(value: Any, cls: Any) -> Any:
        if not isinstance(value, Mapping):
            return value if isinstance(value, cls) else plain(value, cls)
        try:
            # marshal (format 2: no back-references) is a byte image of the data that tells
            # True, 1 and 1.0 apart, ~8x cheaper than JSON text (a load structures thousands).
            data: Any = value  # any Mapping: marshal refuses what is not plain data
            key = marshal.dumps(data, 2)
        except (TypeError, ValueError):  # not plain data (objects, subclasses): no interning
            return plain(value, cls)
        found = interned.get(key)
        if found is None:
            found = plain(value, cls)  # invalid data raises here and is not kept
            if not _is_frozen(type(found)):  # a policy kind defined later may be mutable
                return found
            if len(interned) >= size:
                interned.pop(next(iter(interned)), None)  # another thread may have too
            interned[key] = found
        return found

    return structure_interned


#: Inside :func:`shared_calendars`: the values unstructured so far, by ``id()`` (each kept with
#: its data, so the id cannot be reused while the block runs).
_SHARED_CALENDARS: ContextVar[dict[int, tuple[Any, Any]] | None] = ContextVar(
    "canteen_shared_calendars", default=None
)


def _share_calendars(converter: cattrs.Converter) -> None:
    """Inside :func:`shared_calendars`, one calendar, service, site or cut-off policy object is
    unstructured once (the classes of :func:`_shared_classes`)."""
    for cls, _, subclasses_too in _shared_classes():
        hook = _sharing(converter.get_unstructure_hook(cls))
        if subclasses_too:
            converter.register_unstructure_hook(cls, hook)
        else:  # a subclass keeps its own hook
            converter.register_unstructure_hook_func(_exactly(cls), hook)


def _sharing(plain: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``plain`` (an unstructure hook), giving one object's data once inside the block."""

    def unstructure_shared(value: Any) -> Any:
        shared = _SHARED_CALENDARS.get()
        if shared is None:
            return plain(value)
        found = shared.get(id(value))
        if found is None or found[0] is not value:
            found = shared[id(value)] = (value, plain(value))
        return found[1]

    return unstructure_shared


@contextmanager
def shared_calendars() -> Iterator[None]:
    """Within the block, :func:`unstructure` turns each service calendar object into data once
    and gives that same data for every object carrying it (25,000 enrollments of one
    calendar: one conversion, one copy in memory); so too each service, site and cut-off
    policy object (the rest of what the enrollments of a school repeat).

    For writers that serialize the data at once and never change it (storage bodies); the
    data of different objects then shares the calendar's lists and tables.

    >>> from canteen_core.domain.calendar import SchoolYear, ServiceCalendar
    >>> from datetime import date
    >>> year = SchoolYear(zone="C", start_year=2023, first_day=date(2023, 9, 4),
    ...                   last_day=date(2024, 7, 5))
    >>> calendar = ServiceCalendar(school_year=year, open_weekdays="mon-fri")
    >>> with shared_calendars():
    ...     unstructure(calendar) is unstructure(calendar)
    True
    >>> unstructure(calendar) is unstructure(calendar)
    False
    """
    token = _SHARED_CALENDARS.set({})
    try:
        yield
    finally:
        _SHARED_CALENDARS.reset(token)


def _concrete_subclasses(base: type) -> list[type]:
    found: list[type] = []
    subclass: type
    for subclass in base.__subclasses__():
        if attrs.has(subclass):
            found.append(subclass)
        found.extend(_concrete_subclasses(subclass))
    return found
