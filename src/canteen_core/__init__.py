"""canteen_core: school canteens for French municipalities, the engine (no I/O of its own).

This package exports what a **portal developer** needs, in four groups (in this order, each
under its comment, in ``__all__``):

* **facade**: the :class:`Canteen` facade (imported on first use, so that
  ``import canteen_core`` stays light), the requests its methods take, and the deployment file
  it opens (:class:`Deployment`, :func:`load_deployment`);
* **errors**: the library's error hierarchy, every one a :class:`CanteenError`, each with a
  French one-line message a portal can show (:class:`InvalidInputError`,
  :class:`RuleViolationError`, :class:`NotFoundError`, :class:`ConflictError`,
  :class:`NotAuthorizedError`, :class:`StorageError`, :class:`ConfigurationError`);
* **values in**: the values a portal builds and passes: who acts (:class:`Actor`), money,
  households, services and sites, cut-off rules, periodicities, tariffs, clocks...;
* **values out**: the values the facade returns: invoices, payments, reservation books,
  grids, headcounts, calendars..., and :func:`structure`/:func:`unstructure` to turn any of
  them into JSON-ready data and back.

Plus ``hookimpl``, the one name a plugin author needs at hand (as ``pytest.hookimpl``).

Other audiences have their own modules:

* **rule authors** (a new cut-off rule, a charging rule, a tariff): :mod:`canteen_core.domain`,
  one module per idea (``canteen_core.domain.deadlines``, ``.charging``, ``.tariffs``...);
* **plugin authors** (a storage backend, a mailer, a payment provider, a holiday source, an
  observer of events): :mod:`canteen_core.ports` (the Protocols to implement and the records to
  return), :mod:`canteen_core.config.hookspecs` (every hook), :mod:`canteen_core.domain.events`
  (what event hooks receive) and :mod:`canteen_core.testing` (pytest fixtures, and the storage
  contract suite a third-party backend runs);
* **analysts**: :mod:`canteen_core.simulation` and :mod:`canteen_core.synthetic`;
* **embedders** building their own plugin manager: :mod:`canteen_core.config.plugins`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from canteen_core.config.deployment import Deployment, load_deployment
from canteen_core.config.hookspecs import hookimpl
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.accounts import AccountSettings, AccountView
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.calendar import (
    SCHOOL_RESTAURANT_WEEKDAYS,
    Closure,
    ClosureKind,
    Period,
    SchoolYear,
    ServiceCalendar,
    Zone,
    parse_school_year,
    parse_weekdays,
)
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest, RequestStatus
from canteen_core.domain.clock import PARIS, Clock, FixedClock, SystemClock
from canteen_core.domain.deadlines import (
    CutOffPolicy,
    DayOfPreviousMonth,
    FixedDelay,
    OpenDaysBefore,
    WeeklyDeadline,
    WorkingDaysBefore,
)
from canteen_core.domain.enrollments import Enrollment, LateChangeMode
from canteen_core.domain.errors import (
    CanteenError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
    StorageError,
)
from canteen_core.domain.families import Child, Diet, FamilyQuotient, Guardian, Household
from canteen_core.domain.grids import Grid, GridCell, GridRow
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.invoicing import BillingMode, CreditNote, Invoice, InvoiceLine
from canteen_core.domain.ledger import (
    HouseholdAccount,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from canteen_core.domain.mandates import DirectDebitMandate, SequenceType
from canteen_core.domain.money import EUR, Money
from canteen_core.domain.periodicity import Periodicity, Recurrence
from canteen_core.domain.reservations import BulkResult, ReservationBook, SkippedDay, SkipReason
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    SiblingDiscount,
    Surcharge,
    TariffCategory,
    TariffGrid,
)

if TYPE_CHECKING:
    from canteen_core.services import (
        Canteen,
        EnrollmentRequest,
        HouseholdDashboard,
        JustificationRequest,
    )

__version__ = "0.1.0"

#: Names served by :func:`__getattr__` from :mod:`canteen_core.services` on first use.
_SERVICES = frozenset(
    {"Canteen", "EnrollmentRequest", "HouseholdDashboard", "JustificationRequest"}
)


def __getattr__(name: str) -> Any:
    if name in _SERVICES:
        from canteen_core import services

        return getattr(services, name)
    raise AttributeError(f"module 'canteen_core' has no attribute {name!r}")


# Grouped by what a portal does with the names (see the module docstring), not sorted.
__all__ = [  # noqa: RUF022
    # -- facade: the facade, its requests and the deployment it opens --
    "Canteen",
    "Deployment",
    "EnrollmentRequest",
    "HouseholdDashboard",
    "JustificationRequest",
    "load_deployment",
    # -- errors: every one a CanteenError --
    "CanteenError",
    "ConfigurationError",
    "ConflictError",
    "InvalidInputError",
    "NotAuthorizedError",
    "NotFoundError",
    "RuleViolationError",
    "StorageError",
    # -- values in: what a portal builds and passes --
    # who acts
    "AccountSettings",
    "Actor",
    "Role",
    # money and time
    "EUR",
    "PARIS",
    "Clock",
    "FixedClock",
    "Money",
    "SystemClock",
    # families
    "Child",
    "Diet",
    "FamilyQuotient",
    "Guardian",
    "Household",
    # services, sites and the calendar
    "SCHOOL_RESTAURANT_WEEKDAYS",
    "Closure",
    "ClosureKind",
    "Period",
    "Service",
    "Site",
    "Zone",
    "parse_school_year",
    "parse_weekdays",
    # booking rules and bookings
    "ChangeAction",
    "CutOffPolicy",
    "DayOfPreviousMonth",
    "FixedDelay",
    "LateChangeMode",
    "OpenDaysBefore",
    "Periodicity",
    "Recurrence",
    "RequestStatus",
    "WeeklyDeadline",
    "WorkingDaysBefore",
    # attendance
    "Presence",
    # tariffs and billing
    "BracketPricing",
    "EffortRatePricing",
    "FlatPricing",
    "InvoiceLine",
    "PaymentMethod",
    "SiblingDiscount",
    "Surcharge",
    "TariffCategory",
    "TariffGrid",
    # -- values out: what the facade returns, and their JSON conversion --
    "AbsenceJustification",
    "AccountView",
    "AttendanceRecord",
    "BillingMode",
    "BulkResult",
    "ChangeRequest",
    "CreditNote",
    "DirectDebitMandate",
    "Enrollment",
    "Grid",
    "GridCell",
    "GridRow",
    "HouseholdAccount",
    "Invoice",
    "InvoiceStatus",
    "KitchenCount",
    "Payment",
    "Refund",
    "ReservationBook",
    "SchoolYear",
    "SequenceType",
    "ServiceCalendar",
    "SkipReason",
    "SkippedDay",
    "structure",
    "unstructure",
    # -- for plugin authors: the hook marker --
    "hookimpl",
]
