"""canteen_core: the pure, typed domain of school canteens for French municipalities.

No I/O happens here: storage, mail, payment and calendar data come from plugins
(:mod:`canteen_adapters` and third parties) through the hooks in
:mod:`canteen_core.config.hookspecs`.
The application services a portal calls are :class:`Canteen` (:mod:`canteen_core.services`),
imported on first use so that ``import canteen_core`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from canteen_core.config.deployment import Deployment, load_deployment
from canteen_core.config.hookspecs import hookimpl
from canteen_core.config.plugins import build_plugin_manager
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.accounts import Account, AccountSettings, AccountView
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.calendar import (
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
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest, RequestStatus
from canteen_core.domain.charging import ChargingPolicy, DayFacts
from canteen_core.domain.clock import PARIS, Clock, FixedClock, SystemClock
from canteen_core.domain.deadlines import (
    CutOffPolicy,
    DayOfPreviousMonth,
    FixedDelay,
    OpenDaysBefore,
    WeeklyDeadline,
)
from canteen_core.domain.enrollments import Enrollment, LateChangeMode, enroll
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
from canteen_core.domain.events import (
    AccountInvited,
    ChangeRequestDecided,
    DirectDebitAnnounced,
    Event,
    InvoiceIssued,
    InvoiceOverdue,
    PaymentReceived,
    ReservationsChanged,
)
from canteen_core.domain.families import (
    Child,
    Diet,
    FamilyQuotient,
    Guardian,
    Household,
    HouseholdDirectory,
)
from canteen_core.domain.grids import Grid, GridCell, GridRow
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.invoicing import (
    BillingMode,
    CreditNote,
    DueDateRule,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
)
from canteen_core.domain.ledger import (
    HouseholdAccount,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from canteen_core.domain.mandates import DirectDebitMandate, SequenceType
from canteen_core.domain.money import EUR, Money
from canteen_core.domain.notifications import Notifier, OutgoingMessage
from canteen_core.domain.online_payment import (
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    SignatureError,
)
from canteen_core.domain.periodicity import Periodicity, Recurrence
from canteen_core.domain.policy import Action, authorize, is_allowed
from canteen_core.domain.reminders import ArrearsRule, DunningSchedule
from canteen_core.domain.reservations import BulkResult, ReservationBook, SkippedDay, SkipReason
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    SiblingDiscount,
    Surcharge,
    TariffBook,
    TariffCategory,
    TariffGrid,
)
from canteen_core.simulation import AidRules, Population, compare, simulate

if TYPE_CHECKING:
    from canteen_core.services import (
        Canteen,
        EnrollmentRequest,
        HouseholdDashboard,
        JustificationRequest,
    )
    from canteen_core.services.accounts import Accounts

__version__ = "0.1.0"

#: Names served by :func:`__getattr__` from :mod:`canteen_core.services` on first use.
_SERVICES = frozenset(
    {"Canteen", "EnrollmentRequest", "HouseholdDashboard", "JustificationRequest"}
)


def __getattr__(name: str) -> Any:
    if name == "Accounts":
        from canteen_core.services.accounts import Accounts

        return Accounts
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
    "AccountView",
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
