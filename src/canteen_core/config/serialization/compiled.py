"""Compiled structure hooks of the fast converter for the documents a billing run reads by
the thousand: households (with their guardians, children and family quotients), attendance
records and absence justifications.

cattrs' generated hooks call one hook per field (the text check of a string, the ISO parsing
of a date, the member lookup of an enum, the ``None`` test of an optional value), look the
optional fields up one by one and build the set of a document's keys to find unknown ones:
about half of what structuring a stored household cost. Each hook here is one function
written for its class when the converter is made: the common shape of a stored document (a
dict with every field, strings, booleans, ISO dates and enum values as stored) is checked and
converted inline, other fields go through the converter's own hooks, and the class is built
by its constructor, so its validators and converters run as they always did.

Anything else (a missing or unknown key, a value of another type, a bad date...) raises, and
:func:`~canteen_core.config.serialization.structure` then structures the data again with the
detailed converter: the same objects for valid data, the same errors for bad data
(``tests/test_serialization_fast.py`` compares both on valid and damaged documents).
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable
from datetime import date
from typing import Any, Union, get_args, get_origin

import attrs
import cattrs

from canteen_core.config.serialization.scalars import (
    _structure_bool,
    _structure_date,
    _structure_enum,
    _structure_int,
    _structure_str,
)

#: The scalar hooks whose work a compiled hook does inline for a text, a flag, a number or
#: an ISO date.
_SCALAR_HOOKS: dict[type, Callable[[Any, Any], Any]] = {
    str: _structure_str,
    bool: _structure_bool,
    int: _structure_int,
    date: _structure_date,
}


class _NotPlain(Exception):
    """Raised by a compiled hook on data it leaves to the detailed converter."""


def _not_plain() -> Any:
    raise _NotPlain


def _documents() -> tuple[type, ...]:
    """The classes given compiled hooks, the nested ones first (the hooks of the others
    are looked up when theirs is compiled)."""
    from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord
    from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household

    return (Guardian, Child, FamilyQuotient, Household, AttendanceRecord, AbsenceJustification)


def _compiled_documents(converter: cattrs.Converter) -> None:
    """Register the compiled hooks on the fast ``converter``, for each class exactly (a
    subclass keeps its generated hook)."""
    for cls in _documents():
        hook = compiled_structure(cls, converter)
        if hook is not None:
            converter.register_structure_hook_func(_exactly(cls), hook)


def _exactly(cls: type) -> Callable[[Any], bool]:
    return lambda other: other is cls


def _optional(annotation: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(annotation, False)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        if len(members) == 1 and len(get_args(annotation)) == 2:
            return members[0], True
    return annotation, False


def _hook(kind: Any, converter: cattrs.Converter) -> tuple[Callable[[Any, Any], Any], Any]:
    return converter.get_structure_hook(kind), kind


#: What the fast converter's collection hook builds from a list, by the collection's origin.
_BUILDS: dict[Any, Callable[[list[Any]], Any]] = {tuple: tuple, frozenset: frozenset, list: list}


def _collection(kind: Any, converter: cattrs.Converter) -> Callable[[list[Any]], Any] | None:
    """For ``tuple[X, ...]``, ``frozenset[X]`` and ``list[X]`` structured by the fast
    converter's collection hook (``converter._strict_collection``), what it builds from the
    list of items; ``None`` for any other type."""
    origin, args = get_origin(kind), get_args(kind)
    if origin not in _BUILDS or (origin is tuple and (len(args) != 2 or args[1] is not ...)):
        return None
    hook = converter.get_structure_hook(kind)
    if not getattr(hook, "__qualname__", "").startswith("_strict_collection."):
        return None
    return _BUILDS[origin]


def compiled_structure(cls: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any] | None:
    """A structure hook for the attrs class ``cls`` taking a dict with all its fields (see the
    module), or ``None`` when ``cls`` has a field it does not handle (not in ``__init__``, or
    with an alias): the generated hook then stays."""
    fields = attrs.fields(attrs.resolve_types(cls))
    if any(not field.init or field.alias != field.name for field in fields):
        return None
    # Inline only what the converter's own scalar hooks do (a class given another hook for
    # one of these types keeps it).
    inline = {
        kind for kind, hook in _SCALAR_HOOKS.items() if converter.get_structure_hook(kind) is hook
    }
    env: dict[str, Any] = {
        "_cls": cls,
        "_names": frozenset(field.name for field in fields),
        "_NotPlain": _NotPlain,
        "_not_plain": _not_plain,
        "_date": date.fromisoformat,
    }
    lines = [
        "def structure(o, _):",
        "    if type(o) is not dict or o.keys() != _names:",
        "        raise _NotPlain",
    ]
    for index, field in enumerate(fields):
        value = f"v{index}"
        kind, optional = _optional(field.type)
        lines.append(f"    {value} = o[{field.name!r}]")
        if kind in inline and kind is not date:  # exactly: a subclass (or a bool) goes on
            check = f"type({value}) is not {kind.__name__}"
            if optional:
                check = f"{value} is not None and {check}"
            lines.append(f"    if {check}:")
            lines.append("        raise _NotPlain")
            continue
        if kind is date and date in inline:  # what the date hook does with a text
            converted = f"_date({value}) if type({value}) is str else _not_plain()"
        elif (
            isinstance(kind, type)
            and issubclass(kind, enum.Enum)
            and converter.get_structure_hook(kind) is _structure_enum
        ):
            # The member the enum hook finds first (its values table); a miss raises.
            env[f"m{index}"] = kind._value2member_map_
            converted = (
                f"m{index}[{value}] if type({value}) is str or type({value}) is int "
                "else _not_plain()"
            )
        elif (build := _collection(kind, converter)) is not None:
            # A stored list, its items through their hook (the collection hook's work).
            item = get_args(kind)[0]
            env[f"b{index}"], env[f"h{index}"], env[f"t{index}"] = build, *_hook(item, converter)
            converted = (
                f"b{index}([h{index}(item, t{index}) for item in {value}]) "
                f"if type({value}) is list else _not_plain()"
            )
        else:
            env[f"h{index}"], env[f"t{index}"] = _hook(kind, converter)
            converted = f"h{index}({value}, t{index})"
        if optional:
            lines.append(f"    if {value} is not None:")
            lines.append(f"        {value} = {converted}")
        else:
            lines.append(f"    {value} = {converted}")
    arguments = ", ".join(f"{field.name}=v{index}" for index, field in enumerate(fields))
    lines.append(f"    return _cls({arguments})")
    code = compile("\n".join(lines), f"<compiled structure {cls.__qualname__}>", "exec")
    exec(code, env)  # the source written above from the class's field names
    hook: Callable[[Any, Any], Any] = env["structure"]
    return hook
