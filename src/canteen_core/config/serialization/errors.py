"""cattrs' structuring errors turned into :class:`~canteen_core.domain.errors.InvalidInputError`
whose ``path`` names the bad field.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Union, get_args, get_origin

import cattrs

from canteen_core.domain.errors import InvalidInputError

_SHOWN = 4  # problems named on the one line of an error
_NOTE_PATH = re.compile(r"^(?P<message>.*) @ \$(?P<path>.*)$", re.DOTALL)


# What a person calls a value of these types, in an error message.
_KINDS_FR: dict[type, str] = {
    str: "du texte",
    bool: "un booléen",
    int: "un nombre entier",
    float: "un nombre à virgule",
    Decimal: "un nombre",
    list: "une liste",
    tuple: "une liste",
    dict: "une table",
    type(None): "rien",
}


def kind_fr(value: object) -> str:
    """``du texte``, ``un nombre entier``...: what ``value`` is, in an error message."""
    return _KINDS_FR.get(type(value), type(value).__name__)


def _leaf_message(exc: BaseException, expected: type | None) -> str:
    """One French line for a leaf of cattrs' error tree (the field is named apart)."""
    if isinstance(exc, InvalidInputError):
        # Keep the domain's own message (and the field it names, added below).
        return str(exc)
    if isinstance(exc, KeyError):
        return "champ obligatoire manquant"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return unknown_fields_fr(exc.extra_fields)
    if isinstance(exc, TypeError) and expected is None and str(exc).endswith("is not iterable"):
        return "valeur invalide (une liste attendue)"
    if isinstance(exc, AttributeError | TypeError) and expected is None:
        return "valeur invalide (une table de champs attendue)"
    if expected is None:
        return "valeur invalide"
    label = _KINDS_FR.get(expected) or _type_name(expected)
    return f"valeur invalide ({label} attendu)"


def unknown_fields_fr(names: Iterable[object]) -> str:
    """``champ inconnu : colour`` (``champs inconnus : a, b`` for several)."""
    listed = sorted(str(name) for name in names)
    return f"{_unknown_head(len(listed))} : {', '.join(listed)}"


def _unknown_head(count: int) -> str:
    return "champ inconnu" if count == 1 else "champs inconnus"


def _located(note: str) -> str:
    """``storage.url : valeur invalide`` from cattrs' ``valeur invalide @ $.storage.url``."""
    match = _NOTE_PATH.match(note)
    if match is None:
        return note
    path = _clean_path(match["path"])
    return f"{path} : {match['message']}" if path else match["message"]


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
        # The unknown names join the path, as any other field in error: not twice.
        path = f"{path}.{extra}" if path else extra
        message = _unknown_head(len(extra.split(",")))
    elif isinstance(leaf, InvalidInputError) and leaf.path:
        # A validator deep in the tree named its own field: append it to where it was found.
        if leaf.path not in path.split("."):
            path = f"{path}.{leaf.path}" if path else leaf.path
        prefix = f"{leaf.path}: "
        message = message.removeprefix(prefix)
    # Every problem on the one line (a person fixes them all at once), up to a few.
    others = [_located(note) for note in messages[1:_SHOWN]]
    if others:
        message = " ; ".join([message, *others])
    if len(messages) > _SHOWN:
        more = len(messages) - _SHOWN
        plural = "s" if more > 1 else ""
        message = f"{message} (et {more} autre{plural} problème{plural})"
    return InvalidInputError(f"{_type_name(cls)} invalide : {message}", path=path or None)


def _type_name(cls: Any) -> str:
    """``Household``; a union of classes (``Pricing``) reads ``FlatPricing ou ...``."""
    members = get_args(cls) if isinstance(cls, types.UnionType) or get_origin(cls) is Union else ()
    if members:
        return " ou ".join(_type_name(member) for member in members)
    return getattr(cls, "__name__", None) or repr(cls)


def _first_leaf(exc: BaseException) -> BaseException | None:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_leaf(inner)
            if found is not None:
                return found
        return None
    return exc
