"""Inputs checked where they enter the facade: one rule for every backend.

Every public method of a facade namespace (:class:`~canteen_core.services.runner.ServiceBase`
subclass) is wrapped by :func:`guard_public_methods` when its class is created. The wrapper reads
the method's type annotations once and, on each call, checks and normalises the arguments
before the use case runs, so a wrong value is refused the same way on memory, SQLite and
PostgreSQL, with an :class:`~canteen_core.domain.errors.InvalidInputError` in French naming the
parameter (never ``TypeError``, ``UnicodeEncodeError``, ``OverflowError`` or a
``StorageError`` from a database that refuses what another one stores):

* ``str`` named ``*_id``: an identifier: non-empty, at most :data:`ID_MAX` characters, no
  control character (NUL included), no lone surrogate;
* other ``str``: a text of at most :data:`TEXT_MAX` characters, no NUL, no lone surrogate;
* ``date``: a :class:`datetime.date`, not a datetime, in the years
  :data:`~canteen_core.domain._validators.MIN_YEAR` to ``MAX_YEAR``; ``datetime``: in those years;
* ``int``: an ``int`` (not a ``bool``), at most :data:`INT_MAX` in magnitude (``year``: in the
  accepted years); ``bool``: ``True`` or ``False``; ``Decimal``: finite;
* ``Iterable[X]``, ``Sequence[X]``...: any iterable but a text, at most :data:`ITEMS_MAX` items,
  each checked as ``X``, passed on as a tuple (a generator is read once, here);
* ``Mapping[K, V]``: a mapping of at most :data:`ITEMS_MAX` entries, keys and values checked,
  passed on as a dict;
* a class: an instance of it, whose texts, dates and decimals (attrs fields, nested) follow the
  rules above (fields named ``id``, ``*_id`` and ``*_ids`` as identifiers);
* ``X | Y``: the first member whose type matches, then that member's rule.

Protocols, ``Any`` and callables are passed through unchecked. The messages never repeat the
value (it may be a secret, or kilobytes long).
"""

from __future__ import annotations

import collections.abc as abc
import functools
import inspect
import logging
import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from itertools import islice
from typing import Any

import attrs

from canteen_core.domain._validators import MAX_YEAR, MIN_YEAR, check_date, check_year
from canteen_core.domain.accounts import Secret
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "ID_MAX",
    "INT_MAX",
    "ITEMS_MAX",
    "TEXT_MAX",
    "check_id",
    "check_text",
    "guard_public_methods",
]

logger = logging.getLogger("canteen_core.services")

#: Longest identifier accepted (uuids are 32, mandate references 35).
ID_MAX = 200
#: Longest text accepted (a provider's notification payload is a few kilobytes).
TEXT_MAX = 65_536
#: Most items in a collection or mapping argument (a city's rentrée is ~10,000 enrollments).
ITEMS_MAX = 100_000
#: Largest integer accepted in magnitude (counts, batch sizes).
INT_MAX = 1_000_000_000
#: How deep the values held by an argument are walked.
_DEPTH = 8

_ID_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_BAD = re.compile("[\x00\ud800-\udfff]")

Check = Callable[[object, str], object]
_ITERABLES = {
    abc.Iterable,
    abc.Collection,
    abc.Sequence,
    abc.Set,
    abc.MutableSequence,
    list,
    tuple,
    set,
    frozenset,
}
_MAPPINGS = {abc.Mapping, abc.MutableMapping, dict}


def check_id(value: object, path: str) -> str:
    """``value`` as an identifier (see the module docstring)."""
    if not isinstance(value, str):
        raise InvalidInputError("un identifiant (texte) est attendu", path=path)
    if not value:
        raise InvalidInputError("l'identifiant ne doit pas être vide", path=path)
    if len(value) > ID_MAX:
        raise InvalidInputError(
            f"l'identifiant ne doit pas dépasser {ID_MAX} caractères", path=path
        )
    if _ID_BAD.search(value):
        raise InvalidInputError(
            "l'identifiant contient un caractère de contrôle ou invalide", path=path
        )
    return value


def check_text(value: object, path: str) -> str:
    """``value`` as a text (see the module docstring)."""
    if not isinstance(value, str):
        raise InvalidInputError("un texte est attendu", path=path)
    if len(value) > TEXT_MAX:
        raise InvalidInputError(f"le texte ne doit pas dépasser {TEXT_MAX} caractères", path=path)
    if _TEXT_BAD.search(value):
        raise InvalidInputError("le texte contient un caractère nul ou invalide", path=path)
    return value


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _check_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError("vrai ou faux (bool) est attendu", path=path)
    return value


def _check_int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError("un nombre entier est attendu", path=path)
    if abs(value) > INT_MAX:
        raise InvalidInputError(f"le nombre doit rester entre -{INT_MAX} et {INT_MAX}", path=path)
    return value


def _check_datetime(value: object, path: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInputError("une date et heure est attendue", path=path)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidInputError(f"la date doit tomber entre {MIN_YEAR} et {MAX_YEAR}", path=path)
    return value


def _check_decimal(value: object, path: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise InvalidInputError("un nombre décimal est attendu", path=path)
    if not value.is_finite():
        raise InvalidInputError("le nombre doit être fini", path=path)
    return value


def _scan(value: object, path: str, depth: int = 0, *, as_id: bool = False) -> None:
    """Apply the text, date and decimal rules to what ``value`` holds (attrs fields,
    collections, mappings, secrets), ``depth`` levels at most."""
    if isinstance(value, str):
        (check_id if as_id else check_text)(value, path)
    elif isinstance(value, datetime):
        _check_datetime(value, path)
    elif isinstance(value, date):
        check_date(value, path)
    elif isinstance(value, Decimal):
        _check_decimal(value, path)
    elif value is None or isinstance(value, (bool, int, float, Enum)) or depth >= _DEPTH:
        return
    elif isinstance(value, Secret):
        check_text(value.reveal(), path)
    elif attrs.has(type(value)):
        for name, field_as_id in _fields(type(value)):
            _scan(getattr(value, name), f"{path}.{name}", depth + 1, as_id=field_as_id)
    elif isinstance(value, abc.Mapping):
        for key, item in value.items():
            _scan(key, path, depth + 1)
            _scan(item, path, depth + 1)
    elif isinstance(value, (tuple, list, set, frozenset)):
        for index, item in enumerate(value):
            _scan(item, f"{path}[{index}]", depth + 1, as_id=as_id)


_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _fields(kind: type) -> tuple[tuple[str, bool], ...]:
    """An attrs class's field names, each with whether it holds identifiers (per class)."""
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = tuple(
            (field.name, _is_id_name(field.name) or field.name.endswith("_ids"))
            for field in attrs.fields(kind)
        )
    return found


@functools.lru_cache(maxsize=4096)
def _scan_hashable(value: object, path: str) -> None:
    """:func:`_scan` of an immutable value, remembered once it passed (the same actor, site or
    service comes with every call; a refused value raises, so it is never remembered)."""
    _scan(value, path)


def _scan_value(value: object, path: str) -> None:
    try:
        _scan_hashable(value, path)
    except TypeError:  # unhashable (a list inside, a signaling NaN): walked each time
        _scan(value, path)


def _type_name(kind: object) -> str:
    if kind is type(None):
        return "None"
    origin = typing.get_origin(kind)
    if origin in _MAPPINGS:
        return "dictionnaire"
    if origin in _ITERABLES:
        return "collection"
    return getattr(kind, "__name__", str(kind))


def _accepts(kind: object) -> Callable[[object], bool]:
    """Whether a value is of the member ``kind`` of a union (its type only)."""
    origin = typing.get_origin(kind)
    if kind is type(None):
        return lambda value: value is None
    if kind is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if kind is date:
        return lambda value: isinstance(value, date) and not isinstance(value, datetime)
    if origin in _MAPPINGS:
        return lambda value: isinstance(value, abc.Mapping)
    if origin in _ITERABLES:
        return lambda value: (
            isinstance(value, abc.Iterable)
            and not isinstance(value, (str, bytes, bytearray, abc.Mapping))
        )
    if isinstance(kind, type):
        return lambda value: isinstance(value, kind)
    return lambda value: True


def _class_check(kind: type) -> Check | None:
    if getattr(kind, "_is_protocol", False) or kind is object:
        return None  # a port: checked by the use case that calls it

    def check(value: object, path: str) -> object:
        if not isinstance(value, kind):
            raise InvalidInputError(f"une valeur de type {kind.__name__} est attendue", path=path)
        _scan_value(value, path)
        return value

    return check


def _collection_check(item: Check | None) -> Check:
    def check(value: object, path: str) -> object:
        if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, abc.Iterable):
            raise InvalidInputError(
                "une collection (liste, tuple...) est attendue, pas un texte", path=path
            )
        items = tuple(islice(value, ITEMS_MAX + 1))
        if len(items) > ITEMS_MAX:
            raise InvalidInputError(
                f"la collection ne doit pas compter plus de {ITEMS_MAX} éléments", path=path
            )
        if item is None:
            return items
        return tuple(item(element, f"{path}[{index}]") for index, element in enumerate(items))

    return check


def _mapping_check(key: Check | None, value_check: Check | None) -> Check:
    def check(value: object, path: str) -> object:
        if not isinstance(value, abc.Mapping):
            raise InvalidInputError("un dictionnaire est attendu", path=path)
        if len(value) > ITEMS_MAX:
            raise InvalidInputError(
                f"le dictionnaire ne doit pas compter plus de {ITEMS_MAX} entrées", path=path
            )
        result: dict[object, object] = {}
        for raw_key, raw_value in value.items():
            checked = key(raw_key, path) if key is not None else raw_key
            where = f"{path}[{checked}]" if isinstance(checked, (str, date)) else path
            result[checked] = (
                value_check(raw_value, where) if value_check is not None else raw_value
            )
        return result

    return check


def _union_check(members: tuple[object, ...], name: str) -> Check | None:
    compiled = [(_accepts(member), compile_check(member, name)) for member in members]
    names = [_type_name(member) for member in members]
    expected = ", ".join(names[:-1]) + " ou " + names[-1]

    def check(value: object, path: str) -> object:
        for accepts, member_check in compiled:
            if accepts(value):
                return value if member_check is None else member_check(value, path)
        raise InvalidInputError(f"type inattendu ({expected} attendu)", path=path)

    return check


def compile_check(kind: object, name: str) -> Check | None:
    """The check of an argument named ``name`` annotated ``kind`` (``None``: unchecked)."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any or isinstance(kind, typing.TypeVar):
        return None
    if origin in (typing.Union, types.UnionType):
        return _union_check(args, name)
    if kind is type(None):
        return lambda value, path: value
    if kind is str:
        return check_id if _is_id_name(name) else check_text
    if kind is bool:
        return _check_bool
    if kind is int:
        return check_year if name == "year" else _check_int
    if kind is datetime:
        return _check_datetime
    if kind is date:
        return check_date
    if kind is Decimal:
        return _check_decimal
    if origin in _MAPPINGS:
        key_kind, value_kind = args if len(args) == 2 else (Any, Any)
        key = check_id if key_kind is str else compile_check(key_kind, name)
        return _mapping_check(key, compile_check(value_kind, name))
    if origin in _ITERABLES:
        element = args[0] if args else Any
        item_name = name[:-1] if name.endswith("_ids") else name  # household_ids -> _id
        return _collection_check(compile_check(element, item_name))
    if origin is not None or not isinstance(kind, type):
        return None  # Callable[...], Literal, ...: left to the use case
    return _class_check(kind)


def _guard(function: Callable[..., Any], own: frozenset[str]) -> Callable[..., Any]:
    """``function`` (a method) checking its annotated arguments first, except those named in
    ``own`` (checked by the use case itself)."""
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError) as exc:  # pragma: no cover - a broken annotation
        logger.warning("inputs of %s are not checked: %s", function.__qualname__, exc)
        return function
    parameters = list(inspect.signature(function).parameters.values())[1:]  # without self
    checks: dict[str, Check] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in own:
            continue
        check = compile_check(hints.get(parameter.name, Any), parameter.name)
        if check is not None:
            checks[parameter.name] = check
    if not checks:
        return function
    positional = [
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]

    @functools.wraps(function)
    def guarded(self: object, *args: object, **kwargs: object) -> Any:
        if len(args) <= len(positional):  # more: the call's own TypeError says so
            checked = list(args)
            for index, (name, value) in enumerate(zip(positional, args, strict=False)):
                positional_check = checks.get(name)
                if positional_check is not None:
                    checked[index] = positional_check(value, name)
            args = tuple(checked)
        for name, value in kwargs.items():
            keyword_check = checks.get(name)
            if keyword_check is not None:
                kwargs[name] = keyword_check(value, name)
        return function(self, *args, **kwargs)

    guarded.__canteen_guarded__ = True  # type: ignore[attr-defined]
    return guarded


def guard_public_methods(cls: type) -> None:
    """Wrap every public method ``cls`` has (its own and inherited from mixins) with the
    argument checks of the module docstring. Called by
    :meth:`ServiceBase.__init_subclass__ <canteen_core.services.runner.ServiceBase>`.

    Parameters named in the class's ``_checked_by_use_case`` are left to the use case, which
    checks them with rules and messages of its own (the account rules: usernames, passwords,
    tokens, and the login ``source``, normalised and counted rather than refused)."""
    own = frozenset(getattr(cls, "_checked_by_use_case", ()))
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(cls, name)
        if not inspect.isfunction(attribute) or getattr(attribute, "__canteen_guarded__", False):
            continue
        setattr(cls, name, _guard(attribute, own))
