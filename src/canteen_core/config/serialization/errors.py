"""cattrs' structuring errors turned into :class:`~canteen_core.domain.errors.InvalidInputError`
whose ``path`` names the bad field.
"""

from __future__ import annotations

import re
import types
from typing import Any, Union, get_args, get_origin

import cattrs

from canteen_core.domain.errors import InvalidInputError

_NOTE_PATH = re.compile(r"^(?P<message>.*) @ \$(?P<path>.*)$", re.DOTALL)


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
