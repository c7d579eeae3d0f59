"""The optional dependencies of simulations (the ``notebook`` extra), imported when used."""

from __future__ import annotations

import importlib
from typing import Any

from canteen_core.domain.errors import ConfigurationError

__all__ = ["notebook_module"]


def notebook_module(name: str, purpose: str) -> Any:
    """Import ``name`` (pandas, matplotlib), which ``purpose`` needs; a
    :class:`ConfigurationError` saying how to install the ``notebook`` extra when it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - the notebook extra brings it
        raise ConfigurationError(
            f"{name} is needed for {purpose}: pip install 'canteen[notebook]'"
        ) from None
