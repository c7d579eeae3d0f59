"""canteen_core: the pure, typed domain of school canteens for French municipalities.

No I/O happens here: storage, mail, payment and calendar data come from plugins
(:mod:`canteen_adapters` and third parties) through the hooks in :mod:`canteen_core.hookspecs`.
"""

from __future__ import annotations

from canteen_core.actors import Actor, Role
from canteen_core.calendar import (
    Closure,
    ClosureKind,
    Period,
    SchoolYear,
    ServiceCalendar,
    Zone,
)
from canteen_core.clock import PARIS, Clock, FixedClock, SystemClock
from canteen_core.errors import (
    CanteenError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
    StorageError,
)
from canteen_core.families import Child, Diet, FamilyQuotient, Guardian, Household
from canteen_core.money import EUR, Money

__version__ = "0.1.0"

__all__ = [
    "EUR",
    "PARIS",
    "Actor",
    "CanteenError",
    "Child",
    "Clock",
    "Closure",
    "ClosureKind",
    "ConfigurationError",
    "ConflictError",
    "Diet",
    "FamilyQuotient",
    "FixedClock",
    "Guardian",
    "Household",
    "InvalidInputError",
    "Money",
    "NotAuthorizedError",
    "NotFoundError",
    "Period",
    "Role",
    "RuleViolationError",
    "SchoolYear",
    "ServiceCalendar",
    "StorageError",
    "SystemClock",
    "Zone",
]
