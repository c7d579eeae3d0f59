"""The capacity check inside a booking use case, and the promotion of the families waiting.

:func:`apply_capacity` runs in every reservation use case, after the operations computed the new
books and before they are saved. Where a site's service has a
:class:`~canteen_core.domain.capacity.CapacityRule`, it takes the rule's lock
(:meth:`~canteen_core.ports.storage.CapacityRepository.lock`), counts what is booked now (the
stored bookings, read after the lock, and the places held by offers), and:

* lets a newly booked day keep its place while one is free and nobody waits for the day;
  otherwise the day is taken back out of the book and the child joins the day's waiting list
  (the day is reported skipped with :attr:`~canteen_core.domain.reservations.SkipReason.FULL`);
* gives each place a cancellation frees to the first child waiting (:func:`promote`): booked
  at once, or offered until a deadline (``[capacity] promotion``), the family told by e-mail.

Use cases without a capacity rule for the sites they touch pay one small query (the rules),
and only when they booked or cancelled something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain.capacity import (
    CapacityRule,
    PromotionMode,
    WaitingEntry,
    WaitingStatus,
    admit,
    next_waiting,
    rank_of,
    rule_id,
)
from canteen_core.domain.clock import PARIS
from canteen_core.domain.deadlines import wall_clock
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.events import ReservationsChanged
from canteen_core.domain.reservations import BulkResult, ReservationBook, SkippedDay, SkipReason
from canteen_core.ports.storage import Range
from canteen_core.services.billing._base import household_recipients
from canteen_core.services.events import days_changed
from canteen_core.services.runner import Transaction

__all__ = ["Books", "DayLedger", "apply_capacity", "placed_event", "promote", "tell_family"]


@attrs.define
class Books:
    """The books a use case changes: the new book and the version it was loaded at, by
    enrollment (what :meth:`ReservationRepository.save_many` takes)."""

    changed: dict[str, tuple[ReservationBook, int]] = attrs.Factory(dict)

    def current(self, tx: Transaction, enrollment_id: str) -> ReservationBook:
        """The book as this use case has it (changed, else stored)."""
        if enrollment_id in self.changed:
            return self.changed[enrollment_id][0]
        return tx.uow.reservations.load(enrollment_id)

    def put(self, book: ReservationBook, loaded_at: int) -> None:
        """Record ``book`` as changed; ``loaded_at`` is the stored version it comes from (kept
        from the first change when the book changes again)."""
        previous = self.changed.get(book.enrollment_id)
        self.changed[book.enrollment_id] = (book, loaded_at if previous is None else previous[1])

    def saves(self) -> list[tuple[ReservationBook, int]]:
        """The ``(book, expected_version)`` pairs to save."""
        return [
            (book, version) for book, version in self.changed.values() if book.version != version
        ]


def _rules_for(tx: Transaction, keys: Iterable[str]) -> dict[str, CapacityRule]:
    wanted = set(keys)
    if not wanted:
        return {}
    return tx.uow.capacities.find_many(sorted(wanted))


def apply_capacity(
    tx: Transaction,
    enrollments: Mapping[str, Enrollment],
    loaded: Mapping[str, ReservationBook],
    results: dict[str, BulkResult],
    books: Books,
) -> None:
    """Hold the use case's bookings to the capacity rules (see the module's docstring).

    ``loaded`` are the books as the use case read them, ``books`` the changed ones; ``results``
    and ``books`` are changed in place: a day sent to the waiting list leaves the new book and
    the result's ``booked`` days for its ``skipped`` ones.
    """
    touched: dict[str, list[str]] = {}
    for enrollment_id, result in results.items():
        if result.booked or result.cancelled:
            enrollment = enrollments[enrollment_id]
            key = rule_id(enrollment.site.id, enrollment.service.id)
            touched.setdefault(key, []).append(enrollment_id)
    rules = _rules_for(tx, touched)
    for key in sorted(rules):  # one order for every use case: no deadlock between two
        rule = tx.uow.capacities.lock(key)
        if rule is not None:
            _apply_rule(tx, rule, touched[key], enrollments, loaded, results, books)


def _apply_rule(
    tx: Transaction,
    rule: CapacityRule,
    ids: list[str],
    enrollments: Mapping[str, Enrollment],
    loaded: Mapping[str, ReservationBook],
    results: dict[str, BulkResult],
    books: Books,
) -> None:
    booking = {i: frozenset(results[i].booked) for i in ids}  # a bulk run books many days
    days = sorted({day for i in ids for day in (*booking[i], *results[i].cancelled)})
    ledger = DayLedger.read(tx, rule, days[0], days[-1])
    for day in days:
        # Places taken on the day once this use case is saved, newcomers aside: the stored
        # bookings of everyone else, the books of this use case, the offers held.
        newcomers = [i for i in ids if day in booking[i]]
        # A newcomer holding an offer for the day takes the held place (counted once).
        taken = ledger.stored.get(day, 0) + ledger.held(day, exclude=newcomers)
        for enrollment_id in ids:
            before = loaded[enrollment_id].is_booked(day)
            changed = books.changed.get(enrollment_id)
            after = changed[0].is_booked(day) if changed is not None else before
            taken -= int(before)
            if after and day not in booking[enrollment_id]:
                taken += 1
        for enrollment_id in newcomers:
            own = ledger.open_entry(enrollment_id, day)
            if own is not None and own.status is WaitingStatus.OFFERED:
                ledger.save(tx, own.closed(WaitingStatus.PLACED, tx.now))  # accepts the offer
                taken += 1
                continue
            ahead = ledger.queued(day, before=own)
            if admit(rule.places_on(day), taken, ahead, 1):
                taken += 1
                if own is not None:
                    ledger.save(tx, own.closed(WaitingStatus.PLACED, tx.now))
                continue
            entry = own or ledger.join(tx, enrollments[enrollment_id], day)
            _send_to_waiting_list(results, books, enrollment_id, day, ledger.rank(entry))
        free = rule.places_on(day) - taken
        if free > 0:
            promote(tx, day, free, ledger, books)
    ledger.flush(tx)


def _send_to_waiting_list(
    results: dict[str, BulkResult], books: Books, enrollment_id: str, day: date, rank: int
) -> None:
    book, version = books.changed[enrollment_id]
    books.changed[enrollment_id] = (book.with_day(day, booked=False), version)
    result = results[enrollment_id]
    booked = tuple(other for other in result.booked if other != day)
    skipped = SkippedDay(
        day=day,
        reason=SkipReason.FULL,
        message=f"Complet : inscrit en liste d'attente (rang {rank})",
    )
    event = result.event
    if event is not None:
        event_booked = tuple(other for other in event.booked if other != day)
        event = (
            attrs.evolve(event, booked=event_booked)
            if event_booked or event.cancelled or event.pending
            else None
        )
    results[enrollment_id] = attrs.evolve(
        result,
        booked=booked,
        skipped=tuple(sorted((*result.skipped, skipped), key=lambda item: item.day)),
        surcharged=tuple(other for other in result.surcharged if other != day),
        event=event,
    )


@attrs.define
class DayLedger:
    """What is booked and who waits on the days of one rule, read after its lock (entries
    kept by day: a bulk run sends thousands of days to the lists)."""

    rule: CapacityRule
    stored: dict[date, int]
    by_day: dict[date, list[WaitingEntry]]
    #: Entries joined and not stored yet (:meth:`flush` adds them in one batch).
    joined: list[WaitingEntry] = attrs.Factory(list)

    @classmethod
    def read(cls, tx: Transaction, rule: CapacityRule, first: date, last: date) -> DayLedger:
        counts = tx.uow.reservations.headcount(
            rule.site_id, first, last, service_id=rule.service_id
        )
        entries = tx.uow.waiting_list.list(
            site_id=rule.site_id, service_id=rule.service_id, day=Range(first, last)
        )
        ledger = cls(rule=rule, stored={count.day: count.total for count in counts}, by_day={})
        for entry in entries:
            if (
                entry.status is WaitingStatus.OFFERED
                and entry.offer_until is not None
                and entry.offer_until <= tx.now
            ):
                entry = entry.closed(WaitingStatus.EXPIRED, tx.now)
                tx.uow.waiting_list.save(entry)
            ledger.by_day.setdefault(entry.day, []).append(entry)
        return ledger

    def of_day(self, day: date) -> list[WaitingEntry]:
        """The entries of ``day`` (every status)."""
        return self.by_day.get(day, [])

    def held(self, day: date, *, exclude: Iterable[str] = ()) -> int:
        """Places held by offers on ``day`` (but those of ``exclude`` enrollments)."""
        skip = set(exclude)
        return sum(
            1
            for entry in self.of_day(day)
            if entry.status is WaitingStatus.OFFERED and entry.enrollment_id not in skip
        )

    def open_entry(self, enrollment_id: str, day: date) -> WaitingEntry | None:
        """The enrollment's entry still waiting (or offered) for ``day``."""
        for entry in self.of_day(day):
            if entry.enrollment_id == enrollment_id and entry.is_open:
                return entry
        return None

    def queued(self, day: date, *, before: WaitingEntry | None = None) -> int:
        """Children waiting for ``day`` (ahead of ``before`` when given)."""
        return sum(
            1
            for entry in self.of_day(day)
            if entry.status is WaitingStatus.WAITING
            and (before is None or entry.position < before.position)
        )

    def rank(self, entry: WaitingEntry) -> int:
        """The entry's rank in its day's queue."""
        return rank_of(entry, self.of_day(entry.day))

    def save(self, tx: Transaction, entry: WaitingEntry) -> None:
        """Store a changed entry (and keep it here); one joined in this use case is stored
        changed by :meth:`flush`."""
        if any(other.id == entry.id for other in self.joined):
            self.joined = [entry if other.id == entry.id else other for other in self.joined]
        else:
            tx.uow.waiting_list.save(entry)
        self.by_day[entry.day] = [
            entry if other.id == entry.id else other for other in self.of_day(entry.day)
        ]

    def join(self, tx: Transaction, enrollment: Enrollment, day: date) -> WaitingEntry:
        """A new entry at the back of ``day``'s queue."""
        last = max((entry.position for entry in self.of_day(day)), default=0)
        entry = WaitingEntry(
            id=tx.new_id(),
            site_id=self.rule.site_id,
            service_id=self.rule.service_id,
            day=day,
            enrollment_id=enrollment.id,
            household_id=enrollment.household_id,
            child_id=enrollment.child_id,
            position=last + 1,
            requested_at=tx.now,
        )
        self.joined.append(entry)
        self.by_day.setdefault(day, []).append(entry)
        return entry

    def flush(self, tx: Transaction) -> None:
        """Store the entries joined since the last flush, in one batch."""
        if self.joined:
            tx.uow.waiting_list.add_many(self.joined)
            self.joined = []


def promote(
    tx: Transaction, day: date, free: int, ledger: DayLedger, books: Books
) -> list[WaitingEntry]:
    """Give up to ``free`` places of ``day`` to the first children waiting; what they became.

    A child whose day has started, or whose enrollment no longer runs that day, leaves the
    list (expired) and the next one is served.
    """
    settings = tx.context.deployment.capacity
    done: list[WaitingEntry] = []
    while free > 0:
        candidates = next_waiting(ledger.of_day(day), 1)
        if not candidates:
            break
        entry = candidates[0]
        enrollment = tx.uow.enrollments.find(entry.enrollment_id)
        if (
            enrollment is None
            or not enrollment.is_bookable(day)
            or tx.now >= wall_clock(day, enrollment.service.starts_at)
        ):
            ledger.save(tx, entry.closed(WaitingStatus.EXPIRED, tx.now))
            continue
        if settings.promotion is PromotionMode.OFFER:
            starts = wall_clock(day, enrollment.service.starts_at)
            entry = entry.offered(tx.now, settings.offer_hours, latest=starts)
        else:
            book = books.current(tx, entry.enrollment_id)
            books.put(book.with_day(day, booked=True), book.version)
            entry = entry.closed(WaitingStatus.PLACED, tx.now)
            tx.emit(placed_event(tx, entry, "system"))
        ledger.save(tx, entry)
        tell_family(tx, entry, enrollment)
        done.append(entry)
        free -= 1
    return done


def placed_event(tx: Transaction, entry: WaitingEntry, actor_id: str) -> ReservationsChanged:
    """The event of a child booked from the waiting list (its day booked)."""
    return days_changed(tx, entry, entry.enrollment_id, actor_id, booked=(entry.day,))


def tell_family(tx: Transaction, entry: WaitingEntry, enrollment: Enrollment) -> None:
    """The e-mail of a place given (``placed``) or offered (``offered``)."""
    household = tx.uow.households.find(entry.household_id)
    if household is None:
        return
    recipients = household_recipients(household)
    if not recipients:
        return
    notifier = tx.context.notifier
    kind = "waiting-list-offer" if entry.status is WaitingStatus.OFFERED else "waiting-list-placed"
    name = household.child(entry.child_id).display_name
    site = tx.uow.sites.find(entry.site_id)
    context = {
        "child_name": name,
        "day": entry.day,
        "service_name": enrollment.service.name,
        "site_name": site.site.name if site is not None else enrollment.site.name,
        "offer_until": (
            entry.offer_until.astimezone(PARIS) if entry.offer_until is not None else None
        ),
        "reservations_url": notifier.settings.link(notifier.settings.reservations_url),
    }
    key = f"{entry.id}:{entry.status.value}"
    for recipient in recipients:
        tx.send(notifier.render(kind, recipient, context, key=key, household_id=entry.household_id))
