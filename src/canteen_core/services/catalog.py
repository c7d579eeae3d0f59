"""The catalog: sites (with their own closures) and services, each stored on its own.

``canteen.catalog`` on the facade. A site or service is added once (or the first time an
enrollment names it) and enrollments refer to it by id. A closure added to a site (a strike,
works) is kept by the site: it reaches every enrollment at the site, those made later included
(their calendar is built with the site's closures), drops the booked days it covers (the
organiser closed: nobody is charged) and tells each family concerned by e-mail, through the
outbox, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Period, ServiceCalendar
from canteen_core.domain.catalog import Service, ServiceEntry, Site, SiteEntry
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import drop_closed_days
from canteen_core.ports.storage import CatalogRepository
from canteen_core.services.billing._base import household_recipients
from canteen_core.services.billing.billed_days import ensure_days_not_billed
from canteen_core.services.events import days_changed
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["CatalogService", "site_closures_for", "stored_service", "stored_site"]

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

        The closure is stored with the site (its next version; ``expected_version``, when
        given, must be the version the caller read: ``ConflictError`` otherwise), added to the
        calendar of every enrollment at the site, and to those enrolled later. Booked days it
        covers are cancelled (nobody is charged) and each household concerned gets an e-mail
        listing them, in the same transaction. With ``[billing] billed_days = "refuse"``, a
        closure cancelling a booked day of a month already invoiced is refused.
        ``NotFoundError`` for an unknown site; nothing changes when refused.
        """
        if not isinstance(period, Period):
            raise InvalidInputError("période de fermeture attendue (Period)", path="period")
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
            dropped = self._close_enrollments(tx, site_id, period)
            self._tell_families(tx, closed, period, dropped)
            tx.audit.change(f"site:{site_id}", "closure", None, period)
            tx.audit.describe(
                f"Fermeture du site {site_id} du {period.first_day} au {period.last_day}"
            )
        return {enrollment.id: days for enrollment, days in dropped}

    def _close_enrollments(
        self, tx: Transaction, site_id: str, period: Period
    ) -> list[tuple[Enrollment, tuple[date, ...]]]:
        """Add ``period`` to the calendars of the enrollments at the site it falls in and drop
        the booked days it covers; the enrollments with dropped days and those days."""
        enrollments = [
            e
            for e in tx.uow.enrollments.list(site_id=site_id)
            if period.first_day <= e.calendar.last_day and period.last_day >= e.calendar.first_day
        ]
        books = tx.uow.reservations.load_many(e.id for e in enrollments)
        dropped: list[tuple[Enrollment, tuple[date, ...]]] = []
        saves = []
        for enrollment in enrollments:
            closed = attrs.evolve(
                enrollment,
                calendar=self._ctx.intern_calendar(enrollment.calendar.with_closures(period)),
            )
            tx.uow.enrollments.save(closed)
            tx.audit.touch(f"enrollment:{enrollment.id}", household_id=enrollment.household_id)
            book = books[enrollment.id]
            new_book, days = drop_closed_days(book, closed)
            if days:
                dropped.append((enrollment, days))
                saves.append((new_book, book.version))
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
