"""canteen_core: the pure, typed domain of school canteens for French municipalities.

No I/O happens here: storage, mail, payment and calendar data come from plugins
(:mod:`canteen_adapters` and third parties) through the hooks in :mod:`canteen_core.hookspecs`.
The application services a portal calls are :class:`Canteen` (:mod:`canteen_core.services`),
imported on first use so that ``import canteen_core`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from canteen_core.accounts import Account, Accounts, AccountSettings
from canteen_core.actors import Actor, Role
from canteen_core.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.calendar import (
    SCHOOL_RESTAURANT_WEEKDAYS,
    Closure,
    ClosureKind,
    HolidaySource,
    Period,
    SchoolYear,
    ServiceCalendar,
    Zone,
    parse_school_year,
    parse_weekdays,
)
from canteen_core.catalog import Service, Site
from canteen_core.change_requests import ChangeAction, ChangeRequest, RequestStatus
from canteen_core.charging import ChargingPolicy, DayFacts
from canteen_core.clock import PARIS, Clock, FixedClock, SystemClock
from canteen_core.deadlines import (
    CutOffPolicy,
    DayOfPreviousMonth,
    FixedDelay,
    OpenDaysBefore,
    WeeklyDeadline,
)
from canteen_core.deployment import Deployment, load_deployment
from canteen_core.enrollments import Enrollment, LateChangeMode, enroll
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
from canteen_core.events import (
    AccountInvited,
    ChangeRequestDecided,
    DirectDebitAnnounced,
    Event,
    InvoiceIssued,
    InvoiceOverdue,
    PaymentReceived,
    ReservationsChanged,
)
from canteen_core.families import (
    Child,
    Diet,
    FamilyQuotient,
    Guardian,
    Household,
    HouseholdDirectory,
)
from canteen_core.grids import Grid, GridCell, GridRow
from canteen_core.headcount import KitchenCount
from canteen_core.hookspecs import hookimpl
from canteen_core.invoicing import (
    BillingMode,
    CreditNote,
    DueDateRule,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
)
from canteen_core.ledger import HouseholdAccount, InvoiceStatus, Payment, PaymentMethod, Refund
from canteen_core.mandates import DirectDebitMandate, SequenceType
from canteen_core.money import EUR, Money
from canteen_core.notifications import Notifier, OutgoingMessage
from canteen_core.online_payment import (
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    SignatureError,
)
from canteen_core.periodicity import Periodicity, Recurrence
from canteen_core.plugins import build_plugin_manager
from canteen_core.policy import Action, authorize, is_allowed
from canteen_core.reminders import ArrearsRule, DunningSchedule
from canteen_core.reservations import BulkResult, ReservationBook, SkippedDay, SkipReason
from canteen_core.serialization import structure, unstructure
from canteen_core.simulation import AidRules, Population, compare, simulate
from canteen_core.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    SiblingDiscount,
    Surcharge,
    TariffBook,
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


__all__ = [
    "EUR",
    "PARIS",
    "SCHOOL_RESTAURANT_WEEKDAYS",
    "AbsenceJustification",
    "Account",
    "AccountInvited",
    "AccountSettings",
    "Accounts",
    "Action",
    "Actor",
    "AidRules",
    "ArrearsRule",
    "AttendanceRecord",
    "BillingMode",
    "BracketPricing",
    "BulkResult",
    "Canteen",
    "CanteenError",
    "ChangeAction",
    "ChangeRequest",
    "ChangeRequestDecided",
    "ChargingPolicy",
    "Child",
    "Clock",
    "Closure",
    "ClosureKind",
    "ConfigurationError",
    "ConflictError",
    "CreditNote",
    "CutOffPolicy",
    "DayFacts",
    "DayOfPreviousMonth",
    "Deployment",
    "Diet",
    "DirectDebitAnnounced",
    "DirectDebitMandate",
    "DueDateRule",
    "DunningSchedule",
    "EffortRatePricing",
    "Enrollment",
    "EnrollmentRequest",
    "Event",
    "FamilyQuotient",
    "FixedClock",
    "FixedDelay",
    "FlatPricing",
    "Grid",
    "GridCell",
    "GridRow",
    "Guardian",
    "HolidaySource",
    "Household",
    "HouseholdAccount",
    "HouseholdDashboard",
    "HouseholdDirectory",
    "InvalidInputError",
    "Invoice",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoiceOverdue",
    "InvoiceStatus",
    "InvoiceTerms",
    "JustificationRequest",
    "KitchenCount",
    "LateChangeMode",
    "Money",
    "NotAuthorizedError",
    "NotFoundError",
    "Notifier",
    "NumberSequence",
    "OpenDaysBefore",
    "OutgoingMessage",
    "Payment",
    "PaymentMethod",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentReceived",
    "PaymentRequest",
    "Period",
    "Periodicity",
    "Population",
    "Presence",
    "Recurrence",
    "Refund",
    "RequestStatus",
    "ReservationBook",
    "ReservationsChanged",
    "Role",
    "RuleViolationError",
    "SchoolYear",
    "SequenceType",
    "Service",
    "ServiceCalendar",
    "SiblingDiscount",
    "SignatureError",
    "Site",
    "SkipReason",
    "SkippedDay",
    "StorageError",
    "Surcharge",
    "SystemClock",
    "TariffBook",
    "TariffCategory",
    "TariffGrid",
    "WeeklyDeadline",
    "Zone",
    "authorize",
    "build_plugin_manager",
    "compare",
    "enroll",
    "hookimpl",
    "is_allowed",
    "load_deployment",
    "parse_school_year",
    "parse_weekdays",
    "simulate",
    "structure",
    "unstructure",
]
