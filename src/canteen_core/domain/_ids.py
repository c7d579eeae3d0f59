"""Fresh identifiers (private helper: the default of every ``new_id`` parameter)."""

from __future__ import annotations

import uuid

__all__ = ["random_id"]


def random_id() -> str:
    """A fresh random identifier: the 32 hexadecimal digits of a UUID4."""
    return uuid.uuid4().hex
