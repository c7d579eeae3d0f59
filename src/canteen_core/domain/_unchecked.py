"""Unchecked constructors of attrs value classes, for internal bulk paths (private).

A billing run builds tens of thousands of values (period facts, invoice lines, invoices)
from values that are already validated and combined so that the class invariants hold by
construction. :func:`unchecked` gives such a path a constructor that sets the fields as
given, without the converters, validators and ``__attrs_post_init__`` checks of the class's
own ``__init__`` (the SQL storage also gives each enrollment read the fields of a template
built from the same stored body, with its own ids). The public constructors keep every
check; each unchecked use is compared with the checked constructor by tests
(``tests/test_unchecked_construction.py``, ``tests/storage/test_enrollment_templates.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["unchecked"]

T = TypeVar("T")


def unchecked(cls: type[T]) -> Callable[..., T]:
    """A keyword-only constructor of the attrs class ``cls`` taking every field (no defaults)
    and setting it as is. Only for classes whose fields are all ``init`` fields."""
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    if any(not field.init for field in fields) or getattr(cls, "__attrs_cached_hash__", False):
        raise TypeError(f"{cls.__name__} cannot be built unchecked")
    names = [field.name for field in fields]
    source = "\n".join(
        [
            f"def build(*, {', '.join(names)}):",
            "    self = new(cls)",
            *(f"    setattr(self, {name!r}, {name})" for name in names),
            "    return self",
        ]
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "setattr": object.__setattr__}
    exec(compile(source, f"<unchecked {cls.__qualname__}>", "exec"), namespace)
    build: Callable[..., T] = namespace["build"]
    build.__doc__ = f"{cls.__qualname__} from fields known to be valid (no checks)."
    return build
