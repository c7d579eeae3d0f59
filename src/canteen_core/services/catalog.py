"""The catalog: sites (with their own closures) and services, each stored on its own.

``canteen.catalog`` on the facade. A site or service is added once (or the first time an
enrollment names it) and enrollments refer to it by id. A closure added to a site (a strike,
works) is kept by the site: it reaches every enrollment at the site, those made later included
(their calendar is built with the site's closures), drops the booked days it covers (the
organiser closed: nobody is charged) and tells each family concerned by e-mail, through the
outbox, in the same transaction. Days of the closure already invoiced are credited by the next
billing run: the closure says how many, and is only made over them once confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType
from typing import TypeVar

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Period, ServiceCalendar
from canteen_core.domain.catalog import Service, ServiceEntry, Site, SiteEntry
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import ReservationBook, drop_closed_days
from canteen_core.ports.storage import CatalogRepository
from canteen_core.services.billing._base import household_recipients
from canteen_core.services.billing.billed_days import (
    BilledDaysCancelled,
    billed_days_cancelled,
    ensure_days_not_billed,
)
from canteen_core.services.events import days_changed
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = [
    "BilledClosureError",
    "CatalogService",
    "SiteClosure",
    "site_closures_for",
    "stored_service",
    "stored_site",
]

_Entry = TypeVar("_Entry", SiteEntry, ServiceEntry)
_Value = TypeVar("_Value", Site, Service)


def stored_site(tx: Transaction, site: Site | str) -> SiteEntry:
    """The catalog entry of ``site`` (an id, or a :class:`Site` added when not stored yet).

    ``NotFoundError`` for an unknown id; ``ConflictError`` for a site whose id is stored with
    other details (the catalog's entry is the one enrollments use).
    """
    return _stored(
        tx.uow.sites,
        site,
        lambda given: SiteEntry(site=given),
        lambda entry: entry.site,
        lambda stored: (
            f"le site « {stored.id} » est enregistré autrement ({stored.name}, zone "
            f"{stored.zone}, département {stored.department}) : donnez son identifiant"
        ),
    )


def stored_service(tx: Transaction, service: Service | str) -> ServiceEntry:
    """The catalog entry of ``service`` (an id, or a :class:`Service` added when not stored
    yet); errors as :func:`stored_site`."""
    return _stored(
        tx.uow.services,
        service,
        lambda given: ServiceEntry(service=given),
        lambda entry: entry.service,
        lambda stored: (
            f"la prestation « {stored.id} » est enregistrée autrement "
            f"({stored.name}) : donnez son identifiant"
        ),
    )


def _stored(
    catalog: CatalogRepository[_Entry],
    given: _Value | str,
    new_entry: Callable[[_Value], _Entry],
    value_of: Callable[[_Entry], _Value],
    conflict: Callable[[_Value], str],
) -> _Entry:
    """The entry of ``given``: by id, or the stored entry of its id (``ConflictError`` with the
    ``conflict`` message of the stored value when it differs), or ``given`` added (version 1).
    Building the new entry checked the site or service given."""
    if isinstance(given, str):
        return catalog.get(given)
    new = new_entry(given)
    stored = catalog.find(new.id)
    if stored is None:
        catalog.save(new, expected_version=0)
        return new
    if value_of(stored) != given:
        raise ConflictError(conflict(value_of(stored)))
    return stored


def site_closures_for(entry: SiteEntry, calendar: ServiceCalendar) -> tuple[Period, ...]:
    """The closures of the site that fall within ``calendar``'s school year."""
    return tuple(
        period
        for period in entry.closures
        if period.first_day <= calendar.last_day and period.last_day >= calendar.first_day
    )


#: An enrollment a closure reaches: as stored, with the closure in its calendar, its
#: reservations without the closed days (and the version they replace), the days dropped.
_Closing = tuple[Enrollment, Enrollment, tuple[ReservationBook, int], tuple[date, ...]]


class BilledClosureError(RuleViolationError):
    """A site closure would cancel days already invoiced (the next billing run would credit
    them), unconfirmed: ``add_closure(..., credit_billed=True)`` confirms it."""


@attrs.frozen(kw_only=True)
class SiteClosure:
    """What a site closure does (:meth:`CatalogService.add_closure`) or would do
    (:meth:`CatalogService.preview_closure`): ``cancelled``, the booked days it cancels per
    enrollment id; ``billed``, the days of the closure already invoiced, which the next
    billing run credits (booked or not: a closed day is never charged)."""

    site_id: str
    period: Period
    cancelled: Mapping[str, tuple[date, ...]]
    billed: BilledDaysCancelled

    @property
    def cancelled_count(self) -> int:
        """How many booked days it cancels (all enrollments)."""
        return sum(len(days) for days in self.cancelled.values())


def _site_closure(
    tx: Transaction,
    entry: SiteEntry,
    period: Period,
    dropped: list[tuple[Enrollment, tuple[date, ...]]],
    closing: list[_Closing],
) -> SiteClosure:
    """The :class:`SiteClosure` of ``period`` at ``entry``'s site: the booked days
    ``dropped``, and the days of ``period`` invoiced for the enrollments it reaches."""
    # Its service days until now (a day already closed was credited, or never charged).
    reached = [
        (enrollment, enrollment.open_days(period.first_day, period.last_day))
        for enrollment, _, _, _ in closing
    ]
    return SiteClosure(
        site_id=entry.id,
        period=period,
        cancelled=MappingProxyType({enrollment.id: days for enrollment, days in dropped}),
        billed=billed_days_cancelled(tx.uow, reached),
    )


class CatalogService(ServiceBase):
    """Sites and services (admin adds them; everyone may list them) and site closures."""

    def add_site(self, actor: Actor, site: Site) -> SiteEntry:
        """Store a new site (version 1); ``ConflictError`` if its id is taken."""
        entry = SiteEntry(site=site)  # checks that a Site is given
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            tx.uow.sites.save(entry, expected_version=0)
        return entry

    def add_service(self, actor: Actor, service: Service) -> ServiceEntry:
        """Store a new service (version 1); ``ConflictError`` if its id is taken."""
        entry = ServiceEntry(service=service)  # checks that a Service is given
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            tx.uow.services.save(entry, expected_version=0)
        return entry

    def sites(self, actor: Actor) -> tuple[SiteEntry, ...]:
        """Every site of the catalog with its closures, by id."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.filtered()  # the catalog is no household's data
            return tuple(tx.uow.sites.list())

    def site(self, actor: Actor, site_id: str) -> SiteEntry:
        """One site of the catalog; ``NotFoundError`` if unknown."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.filtered()
            return tx.uow.sites.get(site_id)

    def services(self, actor: Actor) -> tuple[ServiceEntry, ...]:
        """Every service of the catalog, by id."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.filtered()
            return tuple(tx.uow.services.list())

    def close_site(
        self,
        actor: Actor,
        site_id: str,
        period: Period,
        *,
        expected_version: int | None = None,
    ) -> dict[str, tuple[date, ...]]:
        """Close a site over ``period`` (strike, works: admin); the dropped days per enrollment.

        :meth:`add_closure` confirmed (days already invoiced it cancels are credited by the
        next billing run), returning only its :attr:`SiteClosure.cancelled`; use
        :meth:`add_closure` to learn what it credits, or to be refused when it would.
        """
        closure = self.add_closure(
            actor, site_id, period, expected_version=expected_version, credit_billed=True
        )
        return dict(closure.cancelled)

    def preview_closure(self, actor: Actor, site_id: str, period: Period) -> SiteClosure:
        """What :meth:`add_closure` would do now (admin), nothing stored: the booked days it
        would cancel, and the days already invoiced it would have the next billing run credit
        (to show before confirming). ``NotFoundError`` for an unknown site."""
        with self._ctx.use_case(actor, Action.MANAGE_CALENDAR, read_only=True) as tx:
            tx.filtered()
            entry = tx.uow.sites.get(site_id)
            closing = self._closing(tx, site_id, period)
            return _site_closure(
                tx, entry, period, [(e, days) for e, _, _, days in closing if days], closing
            )

    def add_closure(
        self,
        actor: Actor,
        site_id: str,
        period: Period,
        *,
        expected_version: int | None = None,
        credit_billed: bool = False,
    ) -> SiteClosure:
        """Close a site over ``period`` (strike, works: admin); what the closure did.

        The closure is stored with the site (its next version; ``expected_version``, when
        given, must be the version the caller read: ``ConflictError`` otherwise), added to the
        calendar of every enrollment at the site, and to those enrolled later. Booked days it
        covers are cancelled (nobody is charged) and each household concerned gets an e-mail
        listing them, in the same transaction.

        Days already invoiced that it cancels (:attr:`SiteClosure.billed`) are credited by the
        next billing run: unless ``credit_billed`` confirms it, such a closure is refused with
        :class:`BilledClosureError`, whose message says how many (a closure typed on the wrong
        dates cannot be undone). With ``[billing] billed_days = "refuse"`` a closure cancelling
        a booked day of a month already invoiced, or a day an invoice charged, is refused
        (``RuleViolationError``) even confirmed. ``NotFoundError`` for an unknown site;
        nothing changes when refused.
        """
        if expected_version is not None and (
            type(expected_version) is not int or expected_version < 1
        ):
            raise InvalidInputError("version attendue invalide", path="expected_version")
        with self._ctx.use_case(actor, Action.MANAGE_CALENDAR) as tx:
            entry = tx.uow.sites.get(site_id)
            if expected_version is not None and entry.version != expected_version:
                raise ConflictError(
                    f"le site « {site_id} » a changé entre-temps (version {entry.version}, "
                    f"attendue {expected_version}) : rechargez et recommencez"
                )
            closed = entry.with_closure(period)
            tx.uow.sites.save(closed, expected_version=entry.version)
            closing = self._closing(tx, site_id, period)
            dropped = self._close_enrollments(tx, closing)
            result = _site_closure(tx, closed, period, dropped, closing)
            # With "refuse", a day charged without a booking (a meal eaten unbooked) too.
            ensure_days_not_billed(tx.uow, self._ctx.deployment, result.billed.by_household())
            if result.billed.count and not credit_billed:
                raise BilledClosureError(
                    f"fermeture non enregistrée : {result.billed.summary_fr} ; "
                    "confirmez pour fermer quand même"
                )
            self._tell_families(tx, closed, period, dropped)
            tx.audit.change(f"site:{site_id}", "closure", None, period)
            tx.audit.describe(
                f"Fermeture du site {site_id} du {period.first_day} au {period.last_day}"
            )
        return result

    def _closing(self, tx: Transaction, site_id: str, period: Period) -> list[_Closing]:
        """Each enrollment at the site whose school year ``period`` falls in: as stored, with
        the closure in its calendar, its reservations without the booked days the closure
        covers, and those days."""
        enrollments = [
            e
            for e in tx.uow.enrollments.list(site_id=site_id)
            if period.first_day <= e.calendar.last_day and period.last_day >= e.calendar.first_day
        ]
        books = tx.uow.reservations.load_many(e.id for e in enrollments)
        found = []
        for enrollment in enrollments:
            closed = attrs.evolve(
                enrollment,
                calendar=self._ctx.intern_calendar(enrollment.calendar.with_closures(period)),
            )
            book = books[enrollment.id]
            new_book, days = drop_closed_days(book, closed)
            found.append((enrollment, closed, (new_book, book.version), days))
        return found

    def _close_enrollments(
        self, tx: Transaction, closing: list[_Closing]
    ) -> list[tuple[Enrollment, tuple[date, ...]]]:
        """Store the enrollments of ``closing`` with the closure in their calendars and drop
        the booked days it covers; the enrollments with dropped days and those days."""
        dropped: list[tuple[Enrollment, tuple[date, ...]]] = []
        saves = []
        for enrollment, closed, save, days in closing:
            tx.uow.enrollments.save(closed)
            tx.audit.touch(f"enrollment:{enrollment.id}", household_id=enrollment.household_id)
            if days:
                dropped.append((enrollment, days))
                saves.append(save)
        changes: dict[str, list[date]] = {}
        for enrollment, days in dropped:
            changes.setdefault(enrollment.household_id, []).extend(days)
        ensure_days_not_billed(tx.uow, self._ctx.deployment, changes)
        if saves:
            tx.uow.reservations.save_many(saves)
        return dropped

    def _tell_families(
        self,
        tx: Transaction,
        entry: SiteEntry,
        period: Period,
        dropped: list[tuple[Enrollment, tuple[date, ...]]],
    ) -> None:
        """One e-mail per household whose booked days the closure cancelled (and the events)."""
        actor_id = tx.actor.user_id if tx.actor is not None else "system"
        by_household: dict[str, list[tuple[Enrollment, tuple[date, ...]]]] = {}
        for enrollment, days in dropped:
            by_household.setdefault(enrollment.household_id, []).append((enrollment, days))
            tx.emit(days_changed(tx, enrollment, enrollment.id, actor_id, cancelled=days))
        households = tx.uow.households.find_many(by_household)
        key = f"{entry.id}:{entry.version}"
        for household_id, items in sorted(by_household.items()):
            household = households.get(household_id)
            if household is None:
                continue
            recipients = household_recipients(household)
            if not recipients:
                continue
            children = [
                (household.child(enrollment.child_id).display_name, days)
                for enrollment, days in items
            ]
            tx.send(
                *self._ctx.notifier.site_closed(
                    recipients,
                    household_id=household_id,
                    key=key,
                    site_name=entry.site.name,
                    closure=period,
                    children=children,
                )
            )
