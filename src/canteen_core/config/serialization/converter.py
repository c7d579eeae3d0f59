"""The converters (a detailed one and a fast one) and the public functions :func:`structure`,
:func:`unstructure`, :func:`dumps` and :func:`loads`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo

import cattrs
from cattrs.cols import list_structure_factory
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn
from cattrs.strategies import configure_tagged_union

from canteen_core.config.serialization.compiled import _compiled_documents
from canteen_core.config.serialization.errors import _to_invalid_input, _type_name, kind_fr
from canteen_core.config.serialization.fast import (
    _fast_invoice_lines,
    _intern_values,
    _share_calendars,
    _written_invoice,
)
from canteen_core.config.serialization.scalars import (
    _enum_value,
    _sort_key,
    _structure_bool,
    _structure_bytes,
    _structure_date,
    _structure_datetime,
    _structure_decimal,
    _structure_enum,
    _structure_int,
    _structure_money,
    _structure_str,
    _structure_time,
    _structure_timedelta,
    _structure_zoneinfo,
    _unstructure_bytes,
    _unstructure_datetime,
    _unstructure_timedelta,
)
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money

T = TypeVar("T")


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
    if not detailed_validation:
        _compiled_documents(converter)
    return converter


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
                raise InvalidInputError(f"une liste est attendue, pas {kind_fr(value)}")
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
                f"une table avec une clé type est attendue, pas {kind_fr(value)}"
            )
        name = value.get("type")
        kind = cls if name is None and cls is not CutOffPolicy else cut_off_policy_kind(name)
        if not issubclass(kind, cls):
            raise InvalidInputError(f"un {kind.__name__} n'est pas un {cls.__name__}", path="type")
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
            reason = f"une table de champs est attendue, pas {kind_fr(data)}"
        raise InvalidInputError(f"{_type_name(cls)} invalide : {reason}", path=None) from exc


def dumps(obj: Any) -> str:
    """Compact JSON text of :func:`unstructure` (keys sorted, UTF-8 characters kept)."""
    return json.dumps(unstructure(obj), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text made by :func:`dumps` into a ``cls``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"JSON invalide : {exc.args[0] if exc.args else exc}") from None
    return structure(data, cls)


def invoice_json(invoice: Any) -> str:
    """``json.dumps(unstructure(invoice))``, the stored body of an invoice: written field by
    field for a plain :class:`~canteen_core.domain.invoicing.Invoice` (a billing run stores
    thousands; building their nested dicts cost about as much as encoding them), through
    the generic path for anything unusual (see ``fast._written_invoice``).
    ``tests/test_invoice_serialization.py`` compares the two on tricky texts."""
    written = _written_invoice(invoice)
    return json.dumps(unstructure(invoice)) if written is None else written
