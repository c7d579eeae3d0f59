"""Capacity rules and waiting lists: ``canteen.capacity`` on the facade.

An admin sets how many children a site's service takes per day (:meth:`CapacityService.set`);
bookings beyond it join the day's waiting list (the booking use cases apply the rule, see
:mod:`canteen_core.services.capacity_engine`). Families see their waiting days with their rank,
accept or decline an offered place, or leave the list; staff read a day's list. A scheduled job
(or staff) expires the offers whose deadline passed (:meth:`CapacityService.expire_offers`),
which offers the places to the next children waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain._validators import check_date
from canteen_core.domain.actors import Actor
from canteen_core.domain.capacity import (
    CapacityRule,
    WaitingEntry,
    WaitingStatus,
    rank_of,
    rule_id,
)
from canteen_core.domain.clock import PARIS, paris_date
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.grids import Grid, GridCell
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import Range
from canteen_core.services.capacity_engine import Books, DayLedger, placed_event, promote
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["CapacityService", "WaitingDay", "mark_waiting", "waiting_days"]


@attrs.frozen(kw_only=True)
class WaitingDay:
    """A child's open waiting-list entry and its rank in the day's queue (1 = next)."""

    entry: WaitingEntry
    rank: int

    @property
    def label(self) -> str:
        """``"liste d'attente (rang 2)"`` or ``"place proposée jusqu'au 14/02/2024 18:00"``."""
        until = self.entry.offer_until
        if self.entry.status is WaitingStatus.OFFERED and until is not None:
            return f"place proposée jusqu'au {until.astimezone(PARIS):%d/%m/%Y %H:%M}"
        return f"liste d'attente (rang {self.rank})"


def _id(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("identifiant attendu", path=path)
    return value


def waiting_days(
    tx: Transaction, enrollment_ids: Iterable[str]
) -> dict[str, dict[date, WaitingDay]]:
    """The open waiting days of each enrollment with their ranks (for grids and dashboards)."""
    ids = list(dict.fromkeys(enrollment_ids))
    if not ids:
        return {}
    own = [e for e in tx.uow.waiting_list.list(enrollment_id=ids) if e.is_open]
    result: dict[str, dict[date, WaitingDay]] = {i: {} for i in ids}
    if not own:
        return result
    queues: dict[tuple[str, date], list[WaitingEntry]] = {}
    for entry in own:
        key = (entry.rule_id, entry.day)
        if key not in queues:
            queues[key] = list(
                tx.uow.waiting_list.list(
                    site_id=entry.site_id,
                    service_id=entry.service_id,
                    day=entry.day,
                    status=WaitingStatus.WAITING.value,
                )
            )
        rank = rank_of(entry, queues[key])
        result[entry.enrollment_id][entry.day] = WaitingDay(entry=entry, rank=rank)
    return result


def mark_waiting(grid: Grid, days: Mapping[date, WaitingDay]) -> Grid:
    """``grid`` with its waiting days labelled (:attr:`GridCell.waiting`)."""
    if not days:
        return grid

    def mark(cell: GridCell | None) -> GridCell | None:
        found = days.get(cell.day) if cell is not None else None
        if cell is None or found is None or cell.booked:
            return cell
        offered = found.entry.status is WaitingStatus.OFFERED
        return attrs.evolve(
            cell, waiting=found.label, offered=offered, waiting_entry=found.entry.id
        )

    rows = tuple(
        attrs.evolve(row, cells=tuple(mark(cell) for cell in row.cells)) for row in grid.rows
    )
    return attrs.evolve(grid, rows=rows)


class CapacityService(ServiceBase):
    """Capacity rules (admin), waiting lists (families and staff), offers."""

    def set(
        self,
        actor: Actor,
        site_id: str,
        service_id: str,
        places: int,
        *,
        weekdays: Mapping[int, int] | None = None,
        days: Mapping[date, int] | None = None,
    ) -> CapacityRule:
        """Set the places of ``service_id`` at ``site_id`` (``weekdays`` and ``days``
        override them); places it adds go to the children waiting. ``NotFoundError`` for an
        unknown site or service."""
        rule = CapacityRule(
            site_id=_id(site_id, "site_id"),
            service_id=_id(service_id, "service_id"),
            places=places,
            weekdays=tuple((weekdays or {}).items()),
            days=tuple((days or {}).items()),
        )
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            tx.uow.sites.get(rule.site_id)
            tx.uow.services.get(rule.service_id)
            previous = tx.uow.capacities.lock(rule.id)
            tx.uow.capacities.save(rule)
            tx.audit.change(f"capacity:{rule.id}", "places", previous, rule)
            tx.audit.describe(f"Capacité de {rule.service_id} à {rule.site_id} : {places} places")
            self._fill_free_places(tx, rule)
        return rule

    def get(self, actor: Actor, site_id: str, service_id: str) -> CapacityRule | None:
        """The capacity rule of a site's service (``None``: no limit)."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.filtered()  # the catalog's data, no household's
            return tx.uow.capacities.find(rule_id(_id(site_id, "site_id"), service_id))

    def remove(self, actor: Actor, site_id: str, service_id: str) -> None:
        """Lift the limit of a site's service (the children waiting keep their entries,
        served when a rule comes back); ``NotFoundError`` if there was none."""
        key = rule_id(_id(site_id, "site_id"), _id(service_id, "service_id"))
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            previous = tx.uow.capacities.lock(key)
            if previous is None:
                raise NotFoundError(f"aucune capacité pour {service_id} à {site_id}")
            tx.uow.capacities.remove(key)
            tx.audit.change(f"capacity:{key}", "places", previous, None)

    def waiting_list(
        self, actor: Actor, site_id: str, service_id: str, day: date
    ) -> tuple[WaitingEntry, ...]:
        """Every entry of a day's waiting list (open or decided), in order of arrival."""
        day = check_date(day, "day")
        with self._ctx.use_case(actor, Action.VIEW_HEADCOUNT, read_only=True) as tx:
            entries = tx.uow.waiting_list.list(
                site_id=_id(site_id, "site_id"), service_id=_id(service_id, "service_id"), day=day
            )
            return tuple(sorted(entries, key=lambda entry: entry.position))

    def of_household(self, actor: Actor, household_id: str) -> tuple[WaitingDay, ...]:
        """A household's open waiting days (waiting or offered), by day."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.authorize(_id(household_id, "household_id"))
            ids = [e.id for e in tx.uow.enrollments.list(household_id=household_id)]
            found = waiting_days(tx, ids)
        return tuple(
            sorted(
                (day for days in found.values() for day in days.values()),
                key=lambda item: (item.entry.day, item.entry.enrollment_id),
            )
        )

    def accept(self, actor: Actor, entry_id: str) -> WaitingEntry:
        """Accept an offered place: the day is booked. ``RuleViolationError`` when nothing
        is offered or the offer expired (the place went to the next child)."""
        with self._ctx.use_case(actor, Action.BOOK_MEALS) as tx:
            entry = self._entry(tx, entry_id)
            tx.uow.capacities.lock(entry.rule_id)
            entry = tx.uow.waiting_list.get(entry.id)  # as it is once the lock is held
            if entry.status is not WaitingStatus.OFFERED:
                raise RuleViolationError(f"aucune place proposée ({entry.status.label})")
            if entry.offer_until is not None and entry.offer_until <= tx.now:
                raise RuleViolationError("l'offre a expiré : la place est proposée à la suite")
            book = tx.uow.reservations.load(entry.enrollment_id)
            tx.uow.reservations.save(
                book.with_day(entry.day, booked=True), expected_version=book.version
            )
            placed = entry.closed(WaitingStatus.PLACED, tx.now)
            tx.uow.waiting_list.save(placed)
            tx.emit(placed_event(tx, placed, actor.user_id))
        return placed

    def decline(self, actor: Actor, entry_id: str) -> WaitingEntry:
        """Leave the waiting list, or decline an offered place (offered to the next child).
        ``RuleViolationError`` for an entry already decided."""
        with self._ctx.use_case(actor, Action.CANCEL_MEALS) as tx:
            entry = self._entry(tx, entry_id)
            rule = tx.uow.capacities.lock(entry.rule_id)
            entry = tx.uow.waiting_list.get(entry.id)
            if not entry.is_open:
                raise RuleViolationError(f"inscription déjà close ({entry.status.label})")
            withdrawn = entry.closed(WaitingStatus.WITHDRAWN, tx.now)
            tx.uow.waiting_list.save(withdrawn)
            if rule is not None and entry.status is WaitingStatus.OFFERED:
                self._fill_day(tx, rule, entry.day)
        return withdrawn

    def expire_offers(self, actor: Actor) -> int:
        """Expire the offers whose deadline passed and offer their places to the next
        children waiting (a scheduled job); how many offers expired."""
        with self._ctx.use_case(actor, Action.VIEW_HEADCOUNT) as tx:
            tx.filtered()
            due = [
                entry
                for entry in tx.uow.waiting_list.list(status=WaitingStatus.OFFERED.value)
                if entry.offer_until is not None and entry.offer_until <= tx.now
            ]
            for key in sorted({entry.rule_id for entry in due}):
                rule = tx.uow.capacities.lock(key)
                if rule is None:
                    continue
                for day in sorted({entry.day for entry in due if entry.rule_id == key}):
                    self._fill_day(tx, rule, day)  # the ledger expires them as it reads
        return len(due)

    # -- helpers ---------------------------------------------------------------------------

    def _entry(self, tx: Transaction, entry_id: str) -> WaitingEntry:
        entry = tx.uow.waiting_list.get(_id(entry_id, "entry_id"))
        tx.authorize(entry.household_id)
        return entry

    def _fill_day(self, tx: Transaction, rule: CapacityRule, day: date) -> None:
        """Give the free places of ``day`` (after the lock) to the children waiting."""
        ledger = DayLedger.read(tx, rule, day, day)
        free = rule.places_on(day) - ledger.stored.get(day, 0) - ledger.held(day)
        if free > 0:
            books = Books()
            promote(tx, day, free, ledger, books)
            if books.changed:
                tx.uow.reservations.save_many(books.saves())

    def _fill_free_places(self, tx: Transaction, rule: CapacityRule) -> None:
        """After a rule changed: serve the children waiting on the days that now have room."""
        today = paris_date(tx.now)
        days = sorted(
            {
                entry.day
                for entry in tx.uow.waiting_list.list(
                    site_id=rule.site_id,
                    service_id=rule.service_id,
                    day=Range(today, None),
                    status=WaitingStatus.WAITING.value,
                )
            }
        )
        for day in days:
            self._fill_day(tx, rule, day)
