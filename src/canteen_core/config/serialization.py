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
"""

from __future__ import annotations

import base64
import enum
import json
import marshal
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn
from cattrs.strategies import configure_tagged_union

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money, to_decimal

__all__ = ["dumps", "loads", "shared_calendars", "structure", "unstructure"]

T = TypeVar("T")

_NOTE_PATH = re.compile(r"^(?P<message>.*) @ \$(?P<path>.*)$", re.DOTALL)


def _unstructure_bytes(value: bytes) -> str:
    """Bytes (an attachment) as base64 text."""
    return base64.b64encode(value).decode("ascii")


def _structure_bytes(value: object, _: type) -> bytes:
    if not isinstance(value, str):
        raise InvalidInputError("expected base64 text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise InvalidInputError("expected base64 text") from None


def _structure_decimal(value: object, _: type) -> Decimal:
    # to_decimal refuses floats and booleans: a float amount has already lost its cents.
    return to_decimal(value, path="")


def _structure_str(value: object, _: type) -> str:
    # cattrs would call str() on anything (5 -> "5"): refuse instead of guessing.
    if type(value) is str:  # the common case first: exact types are the cheapest test
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_int(value: object, _: type) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"expected an integer, got {type(value).__name__}")
    return value


def _structure_bool(value: object, _: type) -> bool:
    # bool("false") is True: only real booleans are accepted.
    if not isinstance(value, bool):
        raise InvalidInputError(f"expected true or false, got {type(value).__name__}")
    return value


def _structure_date(value: object, _: type) -> date:
    if type(value) is str:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"not an ISO 8601 date: {value!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"not an ISO 8601 date: {value!r}") from None


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"not an ISO 8601 datetime: {value!r}") from None
    else:
        raise InvalidInputError(f"expected an ISO 8601 datetime, got {type(value).__name__}")
    if result.tzinfo is None or result.utcoffset() is None:
        raise InvalidInputError(f"datetime must carry a UTC offset, got {value!r}")
    return result


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"naive datetimes cannot be serialized: {value!r}")
    return value.isoformat()


def _structure_time(value: object, _: type) -> time:
    if type(value) is str:
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"not an ISO 8601 time: {value!r}") from None
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"expected an ISO 8601 time, got {type(value).__name__}")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"not an ISO 8601 time: {value!r}") from None


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
        raise InvalidInputError(f"expected a duration like 'PT3600S', got {value!r}")
    seconds = Decimal(match[2])
    result = timedelta(seconds=int(seconds), microseconds=int((seconds % 1) * 10**6))
    return -result if match[1] else result


def _structure_money(value: object, _: type) -> Money:
    if isinstance(value, Money):
        return value
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"expected {{'amount': ..., 'currency': ...}}, got {type(value).__name__}"
        )
    extra = set(value) - {"amount", "currency"}
    if extra:
        raise InvalidInputError(f"unknown money keys: {', '.join(sorted(map(str, extra)))}")
    if "amount" not in value:
        raise InvalidInputError("money needs an 'amount'")
    return Money(to_decimal(value["amount"]), value.get("currency", "EUR"))


def _structure_zoneinfo(value: object, _: type) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {value!r}") from None


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
        valid = ", ".join(repr(member.value) for member in cls)
        raise InvalidInputError(
            f"{value!r} is not a valid {cls.__name__}; expected one of {valid}"
        ) from None


def _sort_key(item: Any) -> tuple[int, Any]:
    # Items of a set may not be mutually orderable once unstructured (dicts); JSON text is.
    if isinstance(item, str | int | float):
        return (0, item)
    return (1, json.dumps(item, sort_keys=True, default=str))


def _make_converter(*, detailed_validation: bool = True) -> cattrs.Converter:
    """The converter with every hook of this module (the only place they are registered).

    ``detailed_validation=False`` builds the fast one :func:`structure` tries first: cattrs
    then generates lean hooks (no per-field ``try``, no exception groups) that accept and
    build exactly the same data, but fail with bare exceptions; :func:`structure` then
    structures again with the detailed converter, whose errors name the bad field.
    """
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=detailed_validation)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(bytes, _unstructure_bytes)
    converter.register_structure_hook(bytes, _structure_bytes)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _structure_date)
    # datetime is a subclass of date: register it after so it wins.
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(time, time.isoformat)
    converter.register_structure_hook(time, _structure_time)
    converter.register_unstructure_hook(timedelta, _unstructure_timedelta)
    converter.register_structure_hook(timedelta, _structure_timedelta)
    converter.register_unstructure_hook(
        Money, lambda money: {"amount": str(money.amount), "currency": money.currency}
    )
    converter.register_structure_hook(Money, _structure_money)
    # StrEnum members are str instances: without this hook they would pass through as members.
    # (cattrs dispatches on the MRO, where ``str`` comes before ``Enum``: name the enum bases.)
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        converter.register_unstructure_hook(base, _enum_value)
        converter.register_structure_hook(base, _structure_enum)
    converter.register_unstructure_hook(ZoneInfo, str)
    converter.register_structure_hook(ZoneInfo, _structure_zoneinfo)

    def set_unstructure_factory(cls: Any) -> Callable[[Any], list[Any]]:
        def unstructure_set(items: Any) -> list[Any]:
            return sorted((converter.unstructure(item) for item in items), key=_sort_key)

        return unstructure_set

    converter.register_unstructure_hook_factory(
        lambda cls: getattr(cls, "__origin__", cls) in (frozenset, set), set_unstructure_factory
    )
    _configure_polymorphic(converter)
    converter.register_structure_hook_factory(_is_collection, _strict_collection(converter))
    _intern_values(converter)
    _share_calendars(converter)
    _fast_invoice_lines(converter)
    return converter


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


def _fast_invoice_lines(converter: cattrs.Converter) -> None:
    """Unstructure invoices and their lines with hand-written hooks (a billing run stores
    thousands of invoices, tens of thousands of lines): the same data as the generated hooks,
    field by field, in the same order.

    Each is registered only while the class's fields are exactly those it knows; a new field
    falls back to the generated hook (``tests/test_invoice_serialization.py`` compares them).
    """
    from canteen_core.domain.invoicing import Invoice, InvoiceLine

    if tuple(field.name for field in attrs.fields(InvoiceLine)) != _INVOICE_LINE_FIELDS:
        return

    def unstructure_line(line: InvoiceLine) -> dict[str, Any]:
        unit, amount = line.unit_price, line.amount
        return {
            "child_id": line.child_id,
            "child_name": line.child_name,
            "service_id": line.service_id,
            "category": None if line.category is None else line.category.value,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": {"amount": str(unit.amount), "currency": unit.currency},
            "amount": {"amount": str(amount.amount), "currency": amount.currency},
            "days": [day.isoformat() for day in line.days],
            "rule": None if line.rule is None else line.rule.value,
            "grid_id": line.grid_id,
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


def _is_collection(cls: Any) -> bool:
    """Lists, homogeneous tuples (``tuple[X, ...]``), sets and frozensets."""
    origin = get_origin(cls) or cls
    if origin is tuple:
        args = get_args(cls)
        return len(args) == 2 and args[1] is Ellipsis
    return origin in (list, set, frozenset, Sequence, MutableSequence, AbstractSet)


#: What the fast converter's collections take as they are: JSON arrays and their Python kin.
_PLAIN_COLLECTIONS = (list, tuple, set, frozenset)


class _NotPlainData(Exception):
    """Raised by the fast converter on data it leaves to the detailed one (see below)."""


def _strict_collection(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """Collections refuse a string or a table: ``blocked = "x"`` is not ``["x"]``.

    The fast converter takes only lists, tuples and sets: anything else (a generator, a
    string) goes to the detailed converter before anything is read from it, so a one-shot
    iterator is still whole when the detailed converter structures the data again.
    """

    def factory(cls: Any) -> Callable[[Any, Any], Any]:
        origin = get_origin(cls) or cls
        args = get_args(cls)
        item = args[0] if args else Any
        as_list_type: Any = list[item]  # type: ignore[valid-type]
        as_list = list_structure_factory(as_list_type, converter)
        build: Callable[[list[Any]], Any] | None = {
            set: set,
            AbstractSet: set,
            frozenset: frozenset,
            tuple: tuple,
        }.get(origin)

        if not converter.detailed_validation:

            def structure_plain(value: Any, _: Any) -> Any:
                if type(value) not in _PLAIN_COLLECTIONS:
                    raise _NotPlainData
                items = as_list(value, as_list_type)
                return items if build is None else build(items)

            return structure_plain

        def structure_collection(value: Any, _: Any) -> Any:
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
                raise InvalidInputError(f"expected a list, got {type(value).__name__}")
            items = as_list(value, as_list_type)
            return items if build is None else build(items)

        return structure_collection

    return factory


def _configure_polymorphic(converter: cattrs.Converter) -> None:
    """Classes stored through an abstract base or a union carry a ``"type"`` tag."""
    # Imported here: these domain modules import nothing from serialization, but keeping the
    # import local makes the dependency explicit and the converter the only user.
    from canteen_core.domain.tariffs import Pricing

    configure_tagged_union(Pricing, converter, tag_name="type")
    _configure_policy_kinds(converter)


def _concrete_subclasses(base: type) -> list[type]:
    found: list[type] = []
    subclass: type
    for subclass in base.__subclasses__():
        if attrs.has(subclass):
            found.append(subclass)
        found.extend(_concrete_subclasses(subclass))
    return found


def _configure_policy_kinds(converter: cattrs.Converter) -> None:
    """Cut-off policies as ``{"type": <kind name>, ...fields}``, the kinds looked up on each
    use (see :func:`~canteen_core.domain.deadlines.cut_off_policy_kinds`): a subclass defined
    later (a portal's) needs no registration here."""
    from canteen_core.domain.deadlines import CutOffPolicy, cut_off_policy_kind

    # Each kind's own field hooks, generated on first use (the base hook below also answers
    # for the subclasses: cattrs dispatches on the class hierarchy).
    structure_fns: dict[type, Callable[[Any, Any], Any]] = {}
    unstructure_fns: dict[type, Callable[[Any], Any]] = {}

    def structure_policy(value: Any, cls: Any) -> Any:
        if isinstance(value, CutOffPolicy) and isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise InvalidInputError(
                f"expected a table with a 'type' key, got {type(value).__name__}"
            )
        name = value.get("type")
        kind = cls if name is None and cls is not CutOffPolicy else cut_off_policy_kind(name)
        if not issubclass(kind, cls):
            raise InvalidInputError(f"a {kind.__name__} is not a {cls.__name__}", path="type")
        fn = structure_fns.get(kind)
        if fn is None:
            fn = structure_fns[kind] = make_dict_structure_fn(kind, converter)
        return fn({key: item for key, item in value.items() if key != "type"}, kind)

    def unstructure_policy(value: Any) -> Any:
        kind = type(value)
        cut_off_policy_kind(kind.__name__)  # a ConfigurationError if two kinds share the name
        fn = unstructure_fns.get(kind)
        if fn is None:
            fn = unstructure_fns[kind] = make_dict_unstructure_fn(kind, converter)
        return {"type": kind.__name__, **fn(value)}

    converter.register_structure_hook(CutOffPolicy, structure_policy)
    converter.register_unstructure_hook(CutOffPolicy, unstructure_policy)


#: The detailed converter: :func:`unstructure`, and :func:`structure`'s errors.
_CONVERTER = _make_converter()
#: The fast converter :func:`structure` tries first (see :func:`_make_converter`).
_FAST_CONVERTER = _make_converter(detailed_validation=False)


def _leaf_message(exc: BaseException, _: type | None) -> str:
    if isinstance(exc, InvalidInputError):
        # Keep the domain's own message (and the field it names, added below).
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s): {', '.join(sorted(exc.extra_fields))}"
    return cattrs.v.format_exception(exc, _)


def _clean_path(path: str) -> str:
    return path.removeprefix("$").removeprefix(".")


def _extra_keys_path(exc: BaseException) -> str | None:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return ",".join(sorted(exc.extra_fields))
    return None


def _to_invalid_input(exc: BaseException, cls: type) -> InvalidInputError:
    messages = cattrs.transform_error(exc, format_exception=_leaf_message)
    first = messages[0] if messages else str(exc)
    match = _NOTE_PATH.match(first)
    message, path = (match["message"], _clean_path(match["path"])) if match else (first, "")
    leaf = _first_leaf(exc)
    extra = _extra_keys_path(leaf) if leaf is not None else None
    if extra is not None:
        path = f"{path}.{extra}" if path else extra
    elif isinstance(leaf, InvalidInputError) and leaf.path:
        # A validator deep in the tree named its own field: append it to where it was found.
        if leaf.path not in path.split("."):
            path = f"{path}.{leaf.path}" if path else leaf.path
        prefix = f"{leaf.path}: "
        message = message.removeprefix(prefix)
    if len(messages) > 1:
        message = f"{message} (and {len(messages) - 1} more problem(s))"
    return InvalidInputError(f"invalid {_type_name(cls)}: {message}", path=path or None)


def _type_name(cls: Any) -> str:
    """``Household``; a union of classes (``Pricing``) reads ``FlatPricing or ...``."""
    members = get_args(cls) if isinstance(cls, types.UnionType) or get_origin(cls) is Union else ()
    if members:
        return " or ".join(_type_name(member) for member in members)
    return getattr(cls, "__name__", None) or repr(cls)


def _first_leaf(exc: BaseException) -> BaseException | None:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_leaf(inner)
            if found is not None:
                return found
        return None
    return exc


def unstructure(obj: Any, cls: Any = None) -> Any:
    """Turn a domain object (or a list/dict of them) into JSON-compatible data.

    ``cls`` unstructures as that type, e.g. a union (``unstructure(pricing, Pricing)`` adds the
    ``"type"`` tag that a field typed ``Pricing`` would carry).
    """
    return _CONVERTER.unstructure(obj, unstructure_as=cls)


def structure(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` from data produced by :func:`unstructure` (or sent by a portal).

    Raises :class:`~canteen_core.domain.errors.InvalidInputError` with ``path`` set to the first bad
    field (``"children[0].birth_date"``); unknown keys are refused.
    """
    try:
        return _FAST_CONVERTER.structure(data, cls)
    except Exception:  # any failure: the detailed converter below says what is wrong
        pass
    return _structure_detailed(data, cls)


def _structure_detailed(data: Any, cls: type[T]) -> T:
    """:func:`structure` with the detailed converter: slower, its errors name the bad field."""
    try:
        return _CONVERTER.structure(data, cls)
    except BaseValidationError as exc:
        raise _to_invalid_input(exc, cls) from exc
    except InvalidInputError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = str(exc)
        if not isinstance(data, Mapping) and isinstance(exc, (TypeError, AttributeError)):
            reason = f"expected an object (a mapping of fields), got {type(data).__name__}"
        raise InvalidInputError(f"invalid {_type_name(cls)}: {reason}", path=None) from exc


def dumps(obj: Any) -> str:
    """Compact JSON text of :func:`unstructure` (keys sorted, UTF-8 characters kept)."""
    return json.dumps(unstructure(obj), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text made by :func:`dumps` into a ``cls``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}") from None
    return structure(data, cls)
