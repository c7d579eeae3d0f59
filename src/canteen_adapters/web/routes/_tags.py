"""The OpenAPI tags that group the routes of several modules: what families do, what staff do."""

from __future__ import annotations

from typing import Final

__all__ = ["FAMILY", "STAFF"]

FAMILY: Final = ["Famille"]
STAFF: Final = ["Gestion"]
