"""The application services: the :class:`Canteen` facade a portal calls.

Build one from a deployment file, from a :class:`~canteen_core.config.deployment.Deployment`, or in
memory for notebooks and tests::

    canteen = Canteen.open("canteen.toml")          # SQLite or PostgreSQL, migrated
    canteen = Canteen.in_memory(zone="C")            # nothing kept

Every method takes the acting :class:`~canteen_core.domain.actors.Actor` first and checks it against
:mod:`canteen_core.domain.policy`; each call is one transaction, and events reach the plugins only
after it committed. Methods are grouped in namespaces:

* ``canteen.families``: households, family quotients, the family's dashboard;
* ``canteen.catalog``: sites (with their closures) and services, stored on their own;
* ``canteen.enrollments``: enrolling children;
* ``canteen.enrollment_requests``: families ask for enrollments, staff accept or refuse;
* ``canteen.reservations``: book, cancel, tick, periodicities, grids, change requests;
* ``canteen.attendance``: roll calls, justified absences;
* ``canteen.kitchen``: headcounts for the caterer;
* ``canteen.accounts``: invitations, activation, login, passwords, outbox sending;
* ``canteen.billing`` and ``canteen.payments``: invoices, statements, payments;
* ``canteen.documents``: documents on request (certificates).
* ``canteen.papers``: the family's papers (upload, staff review);
* ``canteen.paperless``: paperless invoices (consent), postal addresses, invoice delivery.
* ``canteen.capacity``: places per site, service and day, waiting lists;
* ``canteen.menus``: weekly menus and allergens, the kitchen's allergy flags.
* ``canteen.campaigns``: yearly campaigns (family-quotient update, re-enrollment).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from canteen_core.config.deployment import (
    CalendarSettings,
    Deployment,
    IssuerSettings,
    PortalSettings,
    StorageSettings,
    load_deployment,
)
from canteen_core.config.plugins import CanteenPluginManager
from canteen_core.domain.accounts import AccountSettings
from canteen_core.domain.calendar import Zone
from canteen_core.domain.clock import Clock
from canteen_core.domain.notifications import NotificationSettings
from canteen_core.ports.calendar import HolidaySource
from canteen_core.ports.mail import Mailer
from canteen_core.services.accounts import AccountService
from canteen_core.services.attendance import AttendanceService, JustificationRequest
from canteen_core.services.audit import AuditService
from canteen_core.services.billing import BillingService
from canteen_core.services.campaigns import CampaignService
from canteen_core.services.capacity import CapacityService
from canteen_core.services.catalog import CatalogService
from canteen_core.services.documents import DocumentService
from canteen_core.services.enrollment_requests import EnrollmentRequestService
from canteen_core.services.enrollments import EnrollmentRequest, EnrollmentService
from canteen_core.services.families import FamilyService, HouseholdDashboard
from canteen_core.services.family_papers import FamilyPaperService
from canteen_core.services.kitchen import KitchenService
from canteen_core.services.menus import MenuService
from canteen_core.services.paperless import PaperlessService
from canteen_core.services.payments import PaymentService
from canteen_core.services.privacy import PrivacyService
from canteen_core.services.reservations import ReservationService
from canteen_core.services.retention import RetentionService
from canteen_core.services.runner import (
    ServiceBase,
    ServiceContext,
    Transaction,
    build_default_plugin_manager,
)

__all__ = [
    "AccountService",
    "AttendanceService",
    "AuditService",
    "CampaignService",
    "Canteen",
    "CapacityService",
    "CatalogService",
    "DocumentService",
    "EnrollmentRequest",
    "EnrollmentRequestService",
    "EnrollmentService",
    "FamilyPaperService",
    "FamilyService",
    "HouseholdDashboard",
    "JustificationRequest",
    "KitchenService",
    "MenuService",
    "PaperlessService",
    "PrivacyService",
    "ReservationService",
    "RetentionService",
    "ServiceBase",
    "ServiceContext",
    "Transaction",
    "build_default_plugin_manager",
]


class Canteen:
    """The facade: one object per running deployment, with its services as namespaces.

    Build it with :meth:`open` (a deployment file), :meth:`from_deployment` or :meth:`in_memory`;
    release it with :meth:`close` (or use it as a context manager). Every use case is a method
    of a namespace, takes the acting :class:`~canteen_core.domain.actors.Actor` first (except
    the public account steps and provider notifications), runs in one transaction and raises
    only :class:`~canteen_core.domain.errors.CanteenError` subclasses. Arguments are checked
    where they enter (:mod:`canteen_core.services.inputs`).

    Namespaces:

    * ``canteen.families`` (:class:`FamilyService`): households, guardians, children, family
      quotients, the family's dashboard;
    * ``canteen.catalog`` (:class:`CatalogService`): sites with their closures, services;
    * ``canteen.enrollments`` (:class:`EnrollmentService`): enrolling children;
    * ``canteen.enrollment_requests`` (:class:`EnrollmentRequestService`): a family's
      enrollment requests, accepted or refused by staff;
    * ``canteen.reservations`` (:class:`ReservationService`): book, cancel, tick weeks, months
      and ranges, periodicities, grids, late-change requests;
    * ``canteen.attendance`` (:class:`AttendanceService`): roll calls, justified absences;
    * ``canteen.kitchen`` (:class:`KitchenService`): headcounts for the caterer;
    * ``canteen.accounts`` (:class:`AccountService`): invitations, activation, login,
      passwords, the portal opening date, the outbox;
    * ``canteen.billing`` (:class:`~canteen_core.services.billing.BillingService`): tariff
      grids, billing runs, credit notes, statements, reminders;
    * ``canteen.payments`` (:class:`~canteen_core.services.payments.PaymentService`): online
      payments and their notifications, counter payments, refunds, SEPA mandates and debits;
    * ``canteen.papers`` (:class:`FamilyPaperService`): the family's papers ("Espace de
      stockage"): upload, download, staff review (accept, reject);
    * ``canteen.documents`` (:class:`~canteen_core.services.documents.DocumentService`):
      documents on request ("Édition de documents": the account a payment certificate reads,
      attendance certificates);
    * ``canteen.paperless`` (:class:`PaperlessService`): consent to paperless invoices,
      postal addresses, which invoices go by e-mail and which by post;
    * ``canteen.audit`` (:class:`AuditService`): the audit trail and its chain check;
    * ``canteen.privacy`` (:class:`PrivacyService`): RGPD export and erasure of a household;
    * ``canteen.retention`` (:class:`RetentionService`): the retention settings applied;
    * ``canteen.capacity`` (:class:`CapacityService`): places per site, service and day,
      waiting lists, offered places;
    * ``canteen.menus`` (:class:`MenuService`): weekly menus per site with their allergens,
      the kitchen's allergy flags;
    * ``canteen.campaigns`` (:class:`CampaignService`): yearly campaigns, the family-quotient
      update and the re-enrollment for the next school year.

    ``help(Canteen)`` lists each namespace's methods below (generated from the classes).
    """

    #: Households, guardians, children, family quotients, the dashboard.
    families: FamilyService
    #: Sites with their closures, services.
    catalog: CatalogService
    #: Enrollments.
    enrollments: EnrollmentService
    #: Families' enrollment requests, staff decisions.
    enrollment_requests: EnrollmentRequestService
    #: Bookings, periodicities, grids, change requests.
    reservations: ReservationService
    #: Roll calls and justified absences.
    attendance: AttendanceService
    #: Headcounts.
    kitchen: KitchenService
    #: Accounts, login, passwords, the outbox.
    accounts: AccountService
    #: Tariffs, billing runs, statements, reminders.
    billing: BillingService
    #: Online, counter and direct-debit payments, refunds.
    payments: PaymentService
    #: The family's papers and their review.
    papers: FamilyPaperService
    #: Documents on request: account, attendance certificate, what may be printed.
    documents: DocumentService
    #: Paperless invoices, postal addresses, invoice delivery.
    paperless: PaperlessService
    #: The audit trail and its chain check.
    audit: AuditService
    #: RGPD rights: a household's export and erasure.
    privacy: PrivacyService
    #: The retention settings applied.
    retention: RetentionService
    #: Capacity per site, service and day; waiting lists and offered places.
    capacity: CapacityService
    #: Weekly menus per site, their allergens, the kitchen's allergy flags.
    menus: MenuService
    #: Yearly campaigns: family quotients, re-enrollment.
    campaigns: CampaignService

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        # One line per namespace declared above, in the same order.
        self.families = FamilyService(context)
        self.catalog = CatalogService(context)
        self.enrollments = EnrollmentService(context)
        self.enrollment_requests = EnrollmentRequestService(context)
        self.reservations = ReservationService(context)
        self.attendance = AttendanceService(context)
        self.kitchen = KitchenService(context)
        self.accounts = AccountService(context)
        self.billing = BillingService(context)
        # Payments read the options of this canteen's billing namespace: they share it.
        self.payments = PaymentService(context, billing=self.billing)
        self.papers = FamilyPaperService(context)
        self.documents = DocumentService(context)
        self.paperless = PaperlessService(context)
        self.audit = AuditService(context)
        self.privacy = PrivacyService(context)
        self.retention = RetentionService(context)
        self.capacity = CapacityService(context)
        self.menus = MenuService(context)
        self.campaigns = CampaignService(context)

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_deployment(
        cls,
        deployment: Deployment,
        *,
        clock: Clock | None = None,
        plugin_manager: CanteenPluginManager | None = None,
        plugins: Iterable[object] = (),
        account_settings: AccountSettings | None = None,
        notification_settings: NotificationSettings | None = None,
        holiday_source: HolidaySource | None = None,
        mailer: Mailer | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> Canteen:
        """A canteen running ``deployment``: its storage is opened (and migrated when the
        deployment says so, the default), its adapters found through the plugins.

        ``plugins`` are extra plugin objects registered when no ``plugin_manager`` is given
        (event listeners in tests, embedding code). ``holiday_source`` and ``mailer`` replace
        the adapters the deployment names (tests).
        """
        if not isinstance(deployment, Deployment):
            raise TypeError(f"expected a Deployment, got {type(deployment).__name__}")
        pm = plugin_manager or build_default_plugin_manager(
            blocked=deployment.plugins.blocked, plugins=plugins
        )
        storage = pm.open_storage(deployment.storage)
        extra: dict[str, Any] = {} if new_id is None else {"new_id": new_id}
        context = ServiceContext(
            deployment=deployment,
            storage=storage,
            plugin_manager=pm,
            clock=clock,
            account_settings=account_settings,
            notification_settings=notification_settings,
            holiday_source=holiday_source,
            mailer=mailer,
            **extra,
        )
        return cls(context)

    @classmethod
    def open(
        cls, path: str | Path = "canteen.toml", *, clock: Clock | None = None, **options: Any
    ) -> Canteen:
        """Load ``canteen.toml`` and start the canteen it describes (migrations run
        automatically unless ``[storage] migrate = false``). ``options`` as
        :meth:`from_deployment`."""
        return cls.from_deployment(load_deployment(path), clock=clock, **options)

    @classmethod
    def in_memory(
        cls,
        *,
        issuer: str | IssuerSettings = "Service de restauration scolaire",
        zone: Zone | str | None = "C",
        department: str | None = None,
        clock: Clock | None = None,
        portal: PortalSettings | None = None,
        **options: Any,
    ) -> Canteen:
        """A canteen kept in memory (notebooks, tests): the France holiday source for
        ``zone`` (or ``department``), nothing written anywhere. ``options`` as
        :meth:`from_deployment`."""
        issuer_settings = (
            issuer
            if isinstance(issuer, IssuerSettings)
            else IssuerSettings(name=issuer, code="CANTEEN")
        )
        parsed_zone = None if zone is None or department is not None else Zone.parse(str(zone))
        deployment = Deployment(
            issuer=issuer_settings,
            storage=StorageSettings(url="memory://"),
            calendar=CalendarSettings(zone=parsed_zone, department=department),
            portal=portal or PortalSettings(),
        )
        return cls.from_deployment(deployment, clock=clock, **options)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def deployment(self) -> Deployment:
        """The deployment this canteen runs."""
        return self.context.deployment

    def close(self) -> None:
        """Release the storage (connections); the canteen cannot be used afterwards."""
        self.context.close()

    def __enter__(self) -> Canteen:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        storage = self.context.storage.name
        return f"Canteen(storage={storage!r}, issuer={self.deployment.issuer.code!r})"


def _methods_by_namespace(facade: type) -> str:
    """The "Methods by namespace" section of ``help(Canteen)``: each namespace declared in the
    class body with the first line of each public method's docstring."""
    lines = ["", "Methods by namespace", "--------------------"]
    for name, kind in typing.get_type_hints(facade).items():
        if not (isinstance(kind, type) and issubclass(kind, ServiceBase)):
            continue
        lines.append("")
        lines.append(f"canteen.{name} ({kind.__name__}):")
        for method_name, method in inspect.getmembers(kind, inspect.isfunction):
            if method_name.startswith("_"):
                continue
            summary = (inspect.getdoc(method) or "").strip().split("\n", 1)[0]
            lines.append(f"    {method_name}: {summary}" if summary else f"    {method_name}")
    return "\n".join(lines) + "\n"


Canteen.__doc__ = (Canteen.__doc__ or "") + _methods_by_namespace(Canteen)
