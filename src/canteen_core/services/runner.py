"""The machinery every application service shares: one way to run a use case.

One idea (the context and the transaction of a use case); the calendars the context shares
are kept in :mod:`canteen_core.services.calendar_cache`.

A :class:`ServiceContext` holds what a running canteen needs (deployment, storage, clock,
plugin manager, calendars, notifier, account settings). Every use case runs through
:meth:`ServiceContext.use_case`::

    with ctx.use_case(actor, Action.BOOK_MEALS, household_id="h1") as tx:
        book = tx.uow.reservations.load(enrollment_id)
        ...
        tx.emit(event)            # published to plugins after the commit only
        tx.send(message)          # written to the outbox in this same transaction

What :meth:`~ServiceContext.use_case` does, in order:

1. **authorizes** through :func:`canteen_core.domain.policy.authorize` (every use case, no
exception).
   When the household is only known after loading data (an enrollment, an invoice), the use
   case is opened without ``household_id`` and the code calls :meth:`Transaction.authorize`
   with it; family actors are refused at commit if it never did (a guard against forgetting);
2. opens **one unit of work** (one transaction);
3. refuses an actor whose **account must change its password** (or is disabled, or not yet
   activated): such a user may do nothing but change the password
   (:class:`~canteen_core.domain.accounts.PasswordChangeRequiredError`);
4. runs the use case; on an exception everything is rolled back, no event fires and no
   message is queued;
5. writes the queued messages to the outbox, **one audit entry** (who, when, what, before/after:
   :mod:`canteen_core.services.audit_trail`; none when the use case declared it changed
   nothing, :meth:`Transaction.changed_nothing`) and **commits**;
6. only then **dispatches the events** to the plugins
   (:meth:`~canteen_core.config.plugins.CanteenPluginManager.dispatch_all`); a failing plugin is
   logged and never undoes the committed change.

The services built on it (:class:`ServiceBase` subclasses) are thin: validate input, load
what is needed in few queries (``load_many``, ``list``), call the pure domain functions, save
in batches (``save_many``, ``add_many``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Any, ClassVar

import attrs

from canteen_core.config.deployment import Deployment
from canteen_core.config.plugins import CanteenPluginManager, build_plugin_manager
from canteen_core.domain._ids import random_id
from canteen_core.domain._validators import items_of
from canteen_core.domain.accounts import (
    Account,
    AccountDisabledError,
    AccountNotActivatedError,
    AccountSettings,
    AccountStatus,
    PasswordChangeRequiredError,
)
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.calendar import SchoolYear, ServiceCalendar, Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.clock import Clock, SystemClock, ensure_aware
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotAuthorizedError
from canteen_core.domain.events import Event
from canteen_core.domain.mail_secrets import MailSecrets
from canteen_core.domain.notifications import NotificationSettings, Notifier, OutgoingMessage
from canteen_core.domain.policy import ACTION_LABELS, Action, Grant, allowed_roles, authorize
from canteen_core.ports.calendar import HolidaySource
from canteen_core.ports.document_store import DocumentStore
from canteen_core.ports.mail import Mailer
from canteen_core.ports.storage import Storage, UnitOfWork
from canteen_core.services.audit_trail import AuditNote, write_entry, write_read_entry
from canteen_core.services.calendar_cache import CalendarCache
from canteen_core.services.inputs import guard_public_methods

__all__ = [
    "ServiceBase",
    "ServiceContext",
    "Transaction",
    "build_default_plugin_manager",
    "ensure_account_usable",
    "school_year_of",
]

logger = logging.getLogger("canteen_core.services")


def build_default_plugin_manager(
    *, blocked: Iterable[str] = (), load_entrypoints: bool = True, plugins: Iterable[object] = ()
) -> CanteenPluginManager:
    """The plugin manager a :class:`~canteen_core.services.Canteen` uses by default.

    The built-ins and third-party plugins of the ``canteen`` entry points, then ``plugins``
    (see :func:`~canteen_core.config.plugins.build_plugin_manager`).
    """
    return build_plugin_manager(blocked=blocked, load_entrypoints=load_entrypoints, plugins=plugins)


def school_year_of(day: date) -> int:
    """The start year of the school year ``day`` belongs to (August starts a new one)."""
    return day.year if day.month >= 8 else day.year - 1


# No slots: embedding code and tests may replace a method or collaborator on one instance.
@attrs.define(eq=False, repr=False, slots=False)
class Transaction:
    """One running use case: its unit of work, acting user, instant, events and messages.

    Created by :meth:`ServiceContext.use_case`; never build one directly.
    """

    context: ServiceContext
    uow: UnitOfWork
    actor: Actor | None
    action: Action | None
    #: The instant of the use case (one clock reading for everything it does).
    now: datetime
    _needs_household: bool = attrs.field(kw_only=True)
    _households: set[str] = attrs.field(factory=set, init=False)
    _events: list[Event] = attrs.field(factory=list, init=False)
    _messages: list[OutgoingMessage] = attrs.field(factory=list, init=False)
    #: What the use case tells the audit trail (before/after, entities; see audit_trail).
    audit: AuditNote = attrs.field(factory=AuditNote, init=False)
    _unchanged: bool = attrs.field(default=False, init=False)

    @property
    def authorized_households(self) -> frozenset[str]:
        """The households the use case was authorized for so far."""
        return frozenset(self._households)

    @property
    def clock(self) -> Clock:
        """The context's clock."""
        return self.context.clock

    @property
    def events(self) -> tuple[Event, ...]:
        """Events recorded so far (dispatched after the commit)."""
        return tuple(self._events)

    @property
    def messages(self) -> tuple[OutgoingMessage, ...]:
        """Messages queued so far (written to the outbox before the commit)."""
        return tuple(self._messages)

    def authorize(self, household_id: str | None = None, *, action: Action | None = None) -> None:
        """Check the actor may perform the use case's action (or ``action``) on
        ``household_id``; :class:`~canteen_core.domain.errors.NotAuthorizedError` otherwise."""
        wanted = action if action is not None else self.action
        if self.actor is None or wanted is None:
            raise NotAuthorizedError(
                "Accès refusé : cette opération demande un utilisateur connecté."
            )
        authorize(self.actor, wanted, household_id=household_id)
        if household_id is not None and wanted == self.action:
            self._households.add(household_id)

    def authorize_many(self, household_ids: Iterable[str]) -> None:
        """:meth:`authorize` each household (a bulk use case over many households)."""
        for household_id in dict.fromkeys(household_ids):
            self.authorize(household_id)

    def may(self, household_id: str) -> bool:
        """Whether the actor may act on ``household_id`` (for filtering lists)."""
        try:
            self.authorize(household_id)
        except NotAuthorizedError:
            return False
        return True

    def filtered(self) -> None:
        """Declare that the use case returns only what :meth:`may` / :meth:`authorize`
        allowed (possibly nothing), so a family listing with no result is not refused."""
        self._needs_household = False

    def changed_nothing(self) -> None:
        """Declare that the use case, writable as it is, changed nothing (a reservation
        submission whose days were all in the asked state already): the runner writes no
        audit entry for it. Declared reads (:meth:`AuditNote.read
        <canteen_core.services.audit_trail.AuditNote.read>`) are still logged."""
        self._unchanged = True

    @property
    def is_unchanged(self) -> bool:
        """Whether the use case declared it changed nothing (:meth:`changed_nothing`)."""
        return self._unchanged

    def emit(self, *events: Event | None) -> None:
        """Record domain events to publish after the commit (``None`` values are ignored)."""
        for event in events:
            if event is None:
                continue
            if not isinstance(event, Event):
                raise InvalidInputError(f"expected an Event, got {type(event).__name__}")
            self._events.append(event)

    def send(self, *messages: OutgoingMessage) -> None:
        """Queue messages: written to the outbox in this transaction (rolled back with it)."""
        self._messages.extend(items_of(OutgoingMessage, messages, "messages"))

    def new_id(self) -> str:
        """A fresh identifier (the context's id factory)."""
        return self.context.new_id()

    def _before_commit(self) -> None:
        if self._needs_household and not self._households:
            # A family actor's use case never named the household it touched: refuse rather
            # than risk showing or changing another family's data.
            raise NotAuthorizedError(
                f"Accès refusé à l'utilisateur {self.actor.user_id if self.actor else '?'} : "
                f"l'action « {ACTION_LABELS[self.action] if self.action else '?'} » doit "
                "nommer le foyer concerné."
            )
        if self._messages:
            self.uow.outbox.add(self._messages)


#: :func:`_needs_household` by (roles, action): the policy's matrix is fixed, and every use
#: case asks (a few role sets times the actions).
_NEEDS_HOUSEHOLD: dict[tuple[frozenset[Role], Action], bool] = {}


def _needs_household(actor: Actor, action: Action) -> bool:
    """Whether the actor's only grants for ``action`` are on its own households."""
    key = (actor.roles, action)
    found = _NEEDS_HOUSEHOLD.get(key)
    if found is None:
        grants = allowed_roles(action)
        held = [grants[role] for role in actor.roles if role in grants]
        if not held:
            authorize(actor, action)  # raises: no role of the actor allows the action at all
        found = _NEEDS_HOUSEHOLD[key] = Grant.ANY not in held
    return found


def ensure_account_usable(account: Account) -> None:
    """The account check before every use case of a logged-in user (step 3 above).

    Raises :class:`~canteen_core.domain.accounts.AccountDisabledError`,
    :class:`~canteen_core.domain.accounts.AccountNotActivatedError` (invited, not activated)
    or :class:`~canteen_core.domain.accounts.PasswordChangeRequiredError` (the temporary
    password not changed yet).
    """
    if account.status is AccountStatus.DISABLED:
        raise AccountDisabledError()
    if account.status is AccountStatus.INVITED:
        raise AccountNotActivatedError()
    if account.must_change_password:
        raise PasswordChangeRequiredError()


def _clock_or_system(clock: Clock | None) -> Clock:
    return clock if clock is not None else SystemClock()


def _settings_or_default(settings: AccountSettings | None) -> AccountSettings:
    return settings or AccountSettings()


# No slots: embedding code and tests may replace a method or collaborator on one instance.
@attrs.define(kw_only=True, eq=False, repr=False, slots=False)
class ServiceContext:
    """Everything the application services share, and the one way to run a use case.

    Built with keyword arguments: ``deployment``, ``storage``, ``plugin_manager``, and
    optionally ``clock`` (the system clock), ``account_settings``, ``notification_settings``
    (from the deployment), ``holiday_source`` and ``mailer`` (the plugins the deployment
    names, built on first use) and ``new_id``.
    """

    deployment: Deployment
    storage: Storage
    plugin_manager: CanteenPluginManager
    clock: Clock = attrs.field(default=None, converter=_clock_or_system)
    account_settings: AccountSettings = attrs.field(default=None, converter=_settings_or_default)
    _notification_settings: NotificationSettings | None = None
    _holiday_source: HolidaySource | None = None
    _mailer: Mailer | None = None
    new_id: Callable[[], str] = random_id
    _notifier: Notifier | None = attrs.field(default=None, init=False)
    _mail_secrets: MailSecrets | None = attrs.field(default=None, init=False)
    _document_store: DocumentStore | None = attrs.field(default=None, init=False)
    _calendars: CalendarCache = attrs.field(init=False)

    @_calendars.default
    def _calendar_cache(self) -> CalendarCache:
        return CalendarCache(
            lambda zone, year, department: self.holiday_source.school_year(
                zone, year, department=department
            )
        )

    def __attrs_post_init__(self) -> None:
        opening = self.deployment.portal.opening_date
        if self.account_settings.portal_opens_at is None and opening is not None:
            # The deployment's [portal] opening_date applies unless the settings name one.
            self.account_settings = attrs.evolve(self.account_settings, portal_opens_at=opening)

    # -- collaborators (built lazily, once) ---------------------------------------------------

    @property
    def notifier(self) -> Notifier:
        """Renders emails from the deployment's templates."""
        if self._notifier is None:
            settings = self._notification_settings or NotificationSettings(
                portal_url=self.deployment.portal.url or "http://localhost",
                organisation=self.deployment.issuer.name,
                contact=self.deployment.issuer.email,
            )
            self._notifier = Notifier(settings, clock=self.clock, secrets=self.mail_secrets)
        return self._notifier

    @property
    def mail_secrets(self) -> MailSecrets:
        """The key sealing the secrets of queued account emails (see ``mail_secrets``)."""
        if self._mail_secrets is None:
            self._mail_secrets = MailSecrets.for_deployment(self.deployment.base_dir)
        return self._mail_secrets

    @property
    def holiday_source(self) -> HolidaySource:
        """The holiday source plugin named by ``[calendar] source``."""
        if self._holiday_source is None:
            settings = self.deployment.calendar
            backend = self.plugin_manager.holiday_source_backend(settings.source)
            self._holiday_source = backend.factory(settings)
        return self._holiday_source

    @property
    def mailer(self) -> Mailer:
        """The mailer plugin named by ``[mail] adapter`` (built on first use)."""
        if self._mailer is None:
            settings = self.deployment.mail
            self._mailer = self.plugin_manager.mailer_backend(settings.adapter).factory(settings)
        return self._mailer

    @property
    def document_store(self) -> DocumentStore:
        """The store of the family's papers named by ``[documents] store`` (built on first
        use)."""
        if self._document_store is None:
            settings = self.deployment.document_store
            self._document_store = self.plugin_manager.open_document_store(settings)
        return self._document_store

    def now(self) -> datetime:
        """The current instant (aware)."""
        return ensure_aware(self.clock.now(), "clock.now()")

    # -- calendars ----------------------------------------------------------------------------

    def default_zone(self) -> Zone:
        """The deployment's zone (``[calendar] zone``, or derived from its department)."""
        settings = self.deployment.calendar
        if settings.zone is not None:
            return settings.zone
        if settings.department is not None:
            return self.holiday_source.zone_for_department(settings.department)
        raise ConfigurationError(
            "le déploiement n'indique pas de zone de vacances scolaires : renseignez zone "
            "ou department dans [calendar]",
            path="calendar.zone",
        )

    def school_year(self, zone: Zone, start_year: int, department: str | None = None) -> SchoolYear:
        """The school year from the holiday source, built once per (zone, year, department)."""
        return self._calendars.school_year(zone, start_year, department)

    def calendar(self, site: Site, service: Service, start_year: int) -> ServiceCalendar:
        """The :class:`ServiceCalendar` of ``service`` at ``site`` for a school year (cached)."""
        return self._calendars.calendar(site, service, start_year)

    def intern_calendar(self, calendar: ServiceCalendar) -> ServiceCalendar:
        """One shared instance per distinct calendar, so its closure tables (about 5 ms to
        build) are built once, not once per loaded enrollment."""
        return self._calendars.intern_calendar(calendar)

    def intern(self, enrollment: Enrollment) -> Enrollment:
        """``enrollment`` sharing the context's calendar instance (loaded enrollments each
        carry their own copy; sharing keeps per-day lookups cheap)."""
        return self._calendars.intern(enrollment)

    # -- running use cases --------------------------------------------------------------------

    def _check_account(self, uow: UnitOfWork, actor: Actor) -> None:
        if actor.has(Role.SYSTEM):
            return
        account = uow.accounts.get(actor.user_id)
        if account is not None:  # else an actor not backed by a portal account (scripts...)
            ensure_account_usable(account)

    @contextmanager
    def use_case(
        self,
        actor: Actor,
        action: Action,
        *,
        household_id: str | None = None,
        read_only: bool = False,
        password_change: bool = False,
    ) -> Iterator[Transaction]:
        """Run one use case (see the module docstring): authorize, one transaction, events
        after commit.

        ``household_id`` names the household the use case is about when known up front;
        otherwise call :meth:`Transaction.authorize` once it is known. ``password_change`` is
        for the one use case allowed while the account must change its password.
        """
        if not isinstance(actor, Actor):
            raise InvalidInputError(
                f"expected an acting Actor, got {type(actor).__name__}", path="actor"
            )
        if household_id is not None and not isinstance(household_id, str):
            raise InvalidInputError("household_id must be a string", path="household_id")
        if household_id is not None:
            authorize(actor, action, household_id=household_id)
            needs_household = False
        else:
            # Raises when no role of the actor grants the action at all; family roles (own
            # households only) must then name each household with tx.authorize().
            needs_household = _needs_household(actor, action)
            if not needs_household:
                authorize(actor, action)
        events: tuple[Event, ...] = ()
        with self.storage.unit_of_work(read_only=read_only) as uow:
            tx = Transaction(
                self, uow, actor, Action(action), self.now(), needs_household=needs_household
            )
            if household_id is not None:
                tx._households.add(household_id)
            if not password_change:
                self._check_account(uow, actor)
            yield tx
            tx._before_commit()
            if not read_only:
                # The audit entry, in the use case's transaction (none for no change).
                if not tx.is_unchanged or tx.audit.reads:
                    write_entry(tx, self.deployment.issuer.code)
                uow.commit()
            events = tx.events
        if read_only:
            # Staff reads of sensitive data, logged apart.
            write_read_entry(self.storage, tx, self.deployment.issuer.code)
        self.publish(events)

    @contextmanager
    def public_use_case(
        self, *, commit_on: tuple[type[BaseException], ...] = ()
    ) -> Iterator[Transaction]:
        """A use case without an authenticated user (login, activation, password reset).

        Only the account services use it. Exceptions of the ``commit_on`` types commit what
        was written before re-raising (a failed login records the failure on purpose). The
        audit entry of a step that named who acted (``tx.audit.acting_as``) is written in
        the same transaction, a failure's included.
        """
        events: tuple[Event, ...] = ()
        commune = self.deployment.issuer.code
        with self.storage.unit_of_work() as uow:
            tx = Transaction(self, uow, None, None, self.now(), needs_household=False)
            try:
                yield tx
            except commit_on:
                write_entry(tx, commune)
                uow.commit()
                raise
            tx._before_commit()
            write_entry(tx, commune)
            uow.commit()
            events = tx.events
        self.publish(events)

    def publish(self, events: Iterable[Event]) -> list[BaseException]:
        """Dispatch committed events to the plugins; failures are logged, never raised."""
        events = tuple(events)
        if not events:
            return []
        errors = self.plugin_manager.dispatch_all(events)
        for error in errors:
            logger.warning("an event plugin failed after commit: %s", error)
        return errors

    def close(self) -> None:
        """Release the storage (and the document store's connections, if it has any)."""
        self.storage.close()
        close_store = getattr(self._document_store, "close", None)
        if callable(close_store):
            close_store()


class ServiceBase:
    """Base of the facade's namespaces (``canteen.reservations``...): holds the context.

    Every public method of a subclass (and of the mixins it inherits) has its arguments
    checked and normalised from its annotations before it runs
    (:mod:`canteen_core.services.inputs`): one rule for ids, texts, dates, collections and
    values on every backend, so a use case starts from well-typed, bounded input.
    """

    #: Parameter names a subclass's use cases check themselves, with their own rules and
    #: messages: the entry checks leave them alone (the fuzz suite still covers them).
    _checked_by_use_case: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_public_methods(cls)

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def _viewing(
        self, actor: Actor, action: Action, household_id: str | None
    ) -> AbstractContextManager[Transaction]:
        """A read-only use case about one household: ``action`` authorized for that household
        (a family only its own)."""
        return self._ctx.use_case(actor, action, household_id=household_id, read_only=True)

    @property
    def context(self) -> ServiceContext:
        """The shared :class:`ServiceContext`."""
        return self._ctx
