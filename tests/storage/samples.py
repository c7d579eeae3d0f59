"""The storage tests' sample values: those shipped with the storage contract for plugin authors."""

from canteen_core.testing.samples import (
    CALENDAR,
    ISSUER,
    NOW,
    OTHER_SITE,
    SEPTEMBER,
    booked,
    enrollment,
    household,
    invoice,
)

__all__ = [
    "CALENDAR",
    "ISSUER",
    "NOW",
    "OTHER_SITE",
    "SEPTEMBER",
    "booked",
    "enrollment",
    "household",
    "invoice",
]
